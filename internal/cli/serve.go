package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/server"
)

func newServeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server",
		Long: `Run the authorization server. Settings come from --config (YAML), SESAME_* variables and
flags, in rising precedence; every config key has a flag of the same name (addr → --addr).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.resolveServerConfig(cmd)
			if err != nil {
				return err
			}
			return a.runServer(cmd, cfg, server.Options{}, nil)
		},
	}
	serverFlags(cmd.Flags())
	return cmd
}

// runServer opens the server for cfg and serves until the command's context ends. ready, when
// set, runs once the listener is bound (the demo prints its banner there).
func (a *app) runServer(cmd *cobra.Command, cfg config.Server, opts server.Options, ready func(*server.Server) error) error {
	ctx := cmd.Context()
	kek, src, err := cfg.LoadKEK()
	if err != nil {
		return err
	}
	if src.Created {
		fmt.Fprintf(cmd.ErrOrStderr(), "sesame: created key-encryption key file %s; back it up with the database\n", src.Path)
	}
	opts.KEK = kek
	opts.Migrate = cfg.MigrateOnStart()
	if opts.Logger == nil {
		opts.Logger = newLogger(cmd.ErrOrStderr(), cfg)
	}
	srv, err := server.Open(ctx, cfg, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	opts.Logger.Info("sesame listening", "addr", ln.Addr().String(), "issuer", srv.Issuer, "db", redactDSN(cfg.DB))
	if ready != nil {
		if err := ready(srv); err != nil {
			ln.Close()
			return err
		}
	}
	return srv.Serve(ctx, ln)
}

func newLogger(w io.Writer, cfg config.Server) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// tlsTrusting is a client TLS config that trusts exactly roots.
func tlsTrusting(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

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
	kek, src, err := server.LoadKEK(cfg)
	if err != nil {
		return err
	}
	if src.Created {
		fmt.Fprintf(cmd.ErrOrStderr(), "sesame: created key-encryption key file %s; back it up with the database\n", src.Path)
	}
	opts.KEK = kek
	opts.Migrate = cfg.MigrateOnStart()
	level := new(slog.LevelVar)
	if opts.Logger == nil {
		opts.Logger = newLogger(cmd.ErrOrStderr(), cfg, level)
	}
	srv, err := server.Open(ctx, cfg, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	// Before "sesame listening": a SIGHUP sent once that line is out must find the handler.
	stopReload := a.reloadOnHUP(cmd, srv, level, opts.Logger)
	defer stopReload()
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

// reloadOnHUP re-reads the server config (file, SESAME_* variables, flags) at every SIGHUP and
// hands it to the running server: log_level, the token endpoint's rate limits and
// actions_fetch_allow change at once; other changed keys are logged as needing a restart. A
// config that does not validate changes nothing. The returned function stops listening.
func (a *app) reloadOnHUP(cmd *cobra.Command, srv *server.Server, level *slog.LevelVar, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
			}
			next, err := a.resolveServerConfig(cmd)
			if err != nil {
				log.Error("SIGHUP: config not reloaded", "err", err)
				continue
			}
			if a.adjustConfig != nil {
				a.adjustConfig(&next)
			}
			applied, restart, err := srv.Reload(next)
			if err != nil {
				log.Error("SIGHUP: config not reloaded", "err", err)
				continue
			}
			var l slog.Level
			if l.UnmarshalText([]byte(next.LogLevel)) == nil {
				level.Set(l)
			}
			log.Info("SIGHUP: config reloaded", "applied", applied, "reloadable", server.Reloadable)
			if len(restart) > 0 {
				log.Warn("SIGHUP: changed settings that need a restart were not applied", "keys", restart)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

func newLogger(w io.Writer, cfg config.Server, level *slog.LevelVar) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(cfg.LogLevel))
	level.Set(l)
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

package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/server"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

// configEnv names the config file when --config is not given.
const configEnv = "SESAME_CONFIG"

// globalFlags are the root's persistent flags; every command has them.
type globalFlags struct {
	config string
	json   bool
}

// globalFlags registers the persistent flags shared by every command: the config file, the
// database and key-encryption key (so that admin verbs can point at a database without a
// config file) and --json output. Flags that map to a server config key are named after it
// (config.FlagName) and read back by resolveServerConfig only when the user set them.
func (a *app) globalFlags(fs *pflag.FlagSet) {
	fs.StringVar(&a.flags.config, "config", "", "server config file (YAML; or $"+configEnv+")")
	fs.String("db", "", "database DSN: sqlite:///path/sesame.db or postgres://... (default "+config.DefaultDB+")")
	fs.String("kek", "", "key-encryption key, base64 of 32 bytes (prefer --kek-file or $SESAME_KEK)")
	fs.String("kek-file", "", "file holding the base64 key-encryption key")
	fs.Bool("migrate", false, "apply pending database migrations before running (default for SQLite)")
	// Password hashing cost is global: apply and users create hash passwords too.
	fs.Uint32("password-hash-memory-kib", 0, "argon2id memory for new password hashes, KiB (default 19456)")
	fs.Uint32("password-hash-iterations", 0, "argon2id passes for new password hashes (default 2)")
	fs.BoolVar(&a.flags.json, "json", false, "print JSON (Auth0 Management API field names) instead of tables")
}

// serverFlags registers the serve-only flags on a command (serve, demo). Each is named after
// its server config key and, like the global ones, overrides the environment and the config
// file only when given.
func serverFlags(fs *pflag.FlagSet) {
	fs.String("addr", "", "listen address host:port (default "+config.DefaultAddr+")")
	fs.String("issuer", "", "public issuer URL, e.g. https://auth.example.com/ (default derived from --addr)")
	fs.String("tls-cert", "", "TLS certificate PEM file (with --tls-key)")
	fs.String("tls-key", "", "TLS private key PEM file (with --tls-cert)")
	fs.Bool("tls-self-signed", false, "serve TLS with a throwaway self-signed certificate")
	fs.String("log-format", "", "log format: text or json (default "+config.DefaultLogFormat+")")
	fs.String("log-level", "", "log level: debug, info, warn or error (default "+config.DefaultLogLevel+")")
	fs.String("pprof-addr", "", "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060 (default off)")
	fs.String("metrics-addr", "", "serve Prometheus metrics at /metrics on this address, e.g. 127.0.0.1:9464 (default off)")
	fs.String("otlp-endpoint", "", "export OpenTelemetry traces over OTLP/HTTP to this collector URL, e.g. http://otel-collector:4318 (default off)")
	fs.Int("shutdown-timeout-seconds", 0, "how long SIGTERM waits for in-flight requests (default 20)")
	fs.Int("shutdown-delay-seconds", 0, "how long SIGTERM keeps serving with /readyz unready before closing the listener (default 0)")
	fs.Int("db-max-open-conns", 0, "PostgreSQL: connections per node at most (default max(8, 4×CPUs))")
	fs.Int("db-max-idle-conns", 0, "PostgreSQL: idle connections kept (default db-max-open-conns)")
	fs.Int("db-conn-max-lifetime-seconds", 0, "PostgreSQL: recycle connections after this long (default 1800)")
	fs.Int("db-statement-timeout-ms", 0, "PostgreSQL: statement_timeout of every session (default 5000)")
	fs.String("mfa-sender", "", "delivery of MFA and passwordless codes and notices: log (development), smtp, webhook or outbox (development) (default log)")
	fs.Bool("dev-log-mfa-codes", false, "development only: let --mfa-sender log write live email/SMS codes to the log")
	fs.String("smtp-addr", "", "SMTP relay host:port for --mfa-sender smtp")
	fs.String("smtp-from", "", "sender address of MFA mails for --mfa-sender smtp")
	fs.String("webhook-url", "", "URL that receives MFA and passwordless codes as JSON for --mfa-sender webhook (with smtp: the SMS codes)")
	fs.String("outbox-dir", "", "directory where --mfa-sender outbox (development) writes each message as a file")
	fs.String("admin-emails", "", "comma-separated addresses that get admin notices (suspicious-IP throttling)")
	fs.String("trusted-proxies", "", "comma-separated IPs/CIDRs of load balancers whose X-Forwarded-For is believed")
	fs.Int("rate-limit-client-per-minute", 0, "POST /oauth/token requests a minute per client (default 0: off)")
	fs.Int("rate-limit-ip-per-minute", 0, "POST /oauth/token requests a minute per IP address (default 0: off)")
	fs.Int("rate-limit-refresh-per-minute", 0, "redemptions a minute per refresh-token family (default 0: off)")
	fs.Int("management-api-rate-limit-per-minute", 0, "Management API requests a minute per caller (default 0: off)")
	fs.Int("ipv6-client-prefix", 0, "IPv6 network length counted as one client by attack protection and per-IP rate limits, 32-128 (default 64)")
	fs.Int("mfa-sends-per-token", 0, "MFA email/SMS codes one mfa_token may have sent (default 5; -1: off)")
	fs.Int("mfa-sends-per-user-per-hour", 0, "MFA email/SMS codes sent for one user an hour (default 10; -1: off)")
	fs.Int("mfa-sends-per-ip-per-hour", 0, "MFA email/SMS codes sent at the request of one IP address an hour (default 60; -1: off)")
	fs.Int("passwordless-sends-per-recipient-per-hour", 0, "passwordless codes sent to one address/number an hour (default 5; -1: off)")
	fs.Int("passwordless-sends-per-ip-per-hour", 0, "passwordless codes sent at the request of one IP address an hour (default 50; -1: off)")
	fs.Int("mfa-enroll-recipients-per-hour", 0, "distinct addresses/numbers one user's MFA enrolments may try (default 3; -1: off)")
	fs.String("log-retention", "", "how long tenant log events are kept: 30d or 720h (default "+config.DefaultLogRetention+")")
	fs.String("log-stream", "", "also stream tenant log events as JSON lines: stdout, webhook or stdout,webhook")
	fs.String("log-stream-url", "", "URL that receives tenant log events (JSON lines) for --log-stream webhook")
	fs.String("actions-fetch-allow", "", "comma-separated hosts Actions may fetch(): api.example.com, *.example.com, host:port (default none)")
	fs.Int("actions-memory-limit-mib", 0, "live-heap growth allowed per Action or Rule execution, MiB (default 64; -1: off)")
}

// resolveServerConfig merges, in rising precedence, the defaults, the config file (--config
// or $SESAME_CONFIG), the SESAME_* variables and the flags the user set, then normalises and
// validates the result (every problem at once).
func (a *app) resolveServerConfig(cmd *cobra.Command) (config.Server, error) {
	path := a.flags.config
	if !cmd.Flags().Changed("config") {
		path, _ = a.env(configEnv)
	}
	cfg := config.DefaultServer()
	if path != "" {
		var err error
		if cfg, err = config.LoadServer(path); err != nil {
			return config.Server{}, err
		}
	}
	if err := cfg.ApplyEnv(a.lookupEnv); err != nil {
		return config.Server{}, err
	}
	var problems []config.Problem
	for _, key := range config.ServerKeys() {
		name := config.FlagName(key)
		if key == "auto_migrate" {
			name = "migrate"
		}
		f := cmd.Flags().Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		if err := cfg.Set(key, f.Value.String()); err != nil {
			problems = append(problems, config.Problem{Path: "--" + name, Message: err.Error()})
		}
	}
	if len(problems) > 0 {
		return config.Server{}, &config.ServerConfigError{Source: "flags", Problems: problems}
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return config.Server{}, err
	}
	return cfg, nil
}

// backend is an opened database with the services the admin verbs use.
type backend struct {
	cfg   config.Server
	store *sqlstore.Store
	box   *seal.Box
	keys  *token.Keys
	svc   *admin.Service
	// legacyDBs are the pools of custom-database scripts the user verbs run.
	legacyDBs *scripted.Pools
}

func (b *backend) Close() error {
	b.legacyDBs.Close()
	return b.store.Close()
}

// openBackend resolves the config, reads (or on first use creates) the key-encryption key,
// opens the database and migrates it when the config says so (SQLite by default; PostgreSQL
// only with --migrate or auto_migrate: true). An unmigrated database is an error otherwise.
func (a *app) openBackend(cmd *cobra.Command) (*backend, error) {
	cfg, err := a.resolveServerConfig(cmd)
	if err != nil {
		return nil, err
	}
	return a.openBackendWith(cmd, cfg, cfg.MigrateOnStart())
}

func (a *app) openBackendWith(cmd *cobra.Command, cfg config.Server, migrate bool) (*backend, error) {
	kek, src, err := cfg.LoadKEK()
	if err != nil {
		return nil, err
	}
	if src.Created {
		fmt.Fprintf(cmd.ErrOrStderr(), "sesame: created key-encryption key file %s; back it up with the database (without it, signing keys and sealed secrets cannot be opened)\n", src.Path)
	}
	ctx := cmd.Context()
	core, err := server.OpenCore(ctx, cfg, server.CoreOptions{KEK: kek, Migrate: migrate})
	if err != nil {
		return nil, err
	}
	st, box, keys, hasher := core.Store, core.Box, core.Keys, core.Hasher
	// The Management API: the issuer's when one is configured, else the one the server made.
	mgmtAudience := admin.ManagementAudience(cfg.EffectiveIssuer())
	if cfg.Issuer == "" {
		stored, err := admin.StoredManagementAudience(ctx, st)
		if err != nil {
			st.Close()
			return nil, err
		}
		if stored != "" {
			mgmtAudience = stored
		}
	}
	// The user verbs on a custom-database connection run its scripts, as the server does.
	engine, err := server.HooksEngine(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	pools := &scripted.Pools{}
	realms := scripted.New(scripted.Options{Engine: engine, SQL: pools, Users: st, Hasher: hasher, Box: box})
	return &backend{
		cfg:   cfg,
		store: st,
		box:   box,
		keys:  keys,
		svc: &admin.Service{Store: st, Hasher: hasher, Box: box, Keys: keys,
			ManagementAudience: mgmtAudience, CustomDB: realms, Actions: engine},
		legacyDBs: pools,
	}, nil
}

// withService adapts a command body that needs the admin service: it opens the configured
// database for the run and closes it after.
func (a *app) withService(run func(cmd *cobra.Command, args []string, svc *admin.Service) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		svc, closeFn, err := a.openService(cmd)
		if err != nil {
			return err
		}
		defer closeFn()
		return run(cmd, args, svc)
	}
}

// openService is openBackend for commands that need only the admin service.
func (a *app) openService(cmd *cobra.Command) (*admin.Service, func() error, error) {
	b, err := a.openBackend(cmd)
	if err != nil {
		return nil, nil, err
	}
	return b.svc, b.Close, nil
}

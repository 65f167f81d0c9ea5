// Package config reads Sesame's two files: the server config (sesame.yaml: where to listen,
// which database, TLS, the key-encryption key) and the tenant file (tenant.yaml, the layout of
// the Auth0 Deploy CLI). Both are strict: unknown keys are errors and Validate reports every
// problem at once with its path.
//
// It is a leaf: of ours it imports only seal (itself a leaf), to read the key-encryption key. No other package reads the environment; flags and
// SESAME_* variables are folded into a Server here by the CLI.
package config

// Server is the server config. Every field has a flag and a SESAME_* variable of the same name
// (kebab-case and upper snake case), e.g.:
//
//	addr: 127.0.0.1:8080
//	issuer: https://auth.example.com/
//	db: sqlite:///var/lib/sesame/sesame.db
//	tls_cert: /etc/sesame/tls.crt
//	tls_key: /etc/sesame/tls.key
//	kek_file: /etc/sesame/kek
//	log_format: json
//	trusted_proxies: 10.0.0.0/8
//	rate_limit_ip_per_minute: 600
//	ipv6_client_prefix: 64
//	log_retention: 30d
//	log_stream: stdout
type Server struct {
	// Addr is the listen address, host:port.
	Addr string `yaml:"addr"`
	// Issuer is the public base URL with a trailing slash; derived from Addr and TLS when empty.
	Issuer string `yaml:"issuer"`
	// DB is the database DSN: sqlite:///path/file.db or postgres://...
	DB string `yaml:"db"`
	// TLSCert and TLSKey are PEM files; TLSSelfSigned makes a throwaway certificate instead.
	TLSCert       string `yaml:"tls_cert"`
	TLSKey        string `yaml:"tls_key"`
	TLSSelfSigned bool   `yaml:"tls_self_signed"`
	// KEK is the base64 key-encryption key; KEKFile a file holding it. With neither, a SQLite
	// database gets a kek file beside it, created on first start.
	KEK     string `yaml:"kek"`
	KEKFile string `yaml:"kek_file"`
	// LogFormat is text (default) or json.
	LogFormat string `yaml:"log_format"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log_level"`
	// PasswordHashMemoryKiB, PasswordHashIterations set argon2id's cost for new hashes
	// (defaults 19456 KiB and 2).
	PasswordHashMemoryKiB  uint32 `yaml:"password_hash_memory_kib"`
	PasswordHashIterations uint32 `yaml:"password_hash_iterations"`
	// PprofAddr, when set, serves net/http/pprof on this loopback address (off by default).
	PprofAddr string `yaml:"pprof_addr"`
	// MetricsAddr, when set, serves Prometheus metrics at /metrics on this address, a
	// listener of its own apart from the public one (off by default), e.g.
	//
	//	metrics_addr: 127.0.0.1:9464
	MetricsAddr string `yaml:"metrics_addr"`
	// OTLPEndpoint, when set, exports OpenTelemetry traces over OTLP/HTTP to this collector
	// URL (off by default), e.g.
	//
	//	otlp_endpoint: http://otel-collector:4318
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// ShutdownTimeoutSeconds bounds how long SIGTERM waits for in-flight requests before
	// closing what is left (0: 20).
	ShutdownTimeoutSeconds int `yaml:"shutdown_timeout_seconds"`
	// ShutdownDelaySeconds is how long SIGTERM keeps serving with /readyz answering 503
	// before it stops accepting connections, so that a load balancer stops routing here first
	// (0, the default: none; behind Kubernetes, a little more than the readiness period).
	ShutdownDelaySeconds int `yaml:"shutdown_delay_seconds"`
	// AutoMigrate lets serve apply pending migrations at start (default true for SQLite).
	AutoMigrate *bool `yaml:"auto_migrate"`
	// DBMaxOpenConns caps each node's PostgreSQL pool (0: max(8, 4×CPUs)); keep nodes ×
	// db_max_open_conns under the server's max_connections.
	DBMaxOpenConns int `yaml:"db_max_open_conns"`
	// DBMaxIdleConns is how many pooled connections stay open when idle (0: db_max_open_conns).
	DBMaxIdleConns int `yaml:"db_max_idle_conns"`
	// DBConnMaxLifetimeSeconds recycles PostgreSQL connections (0: 1800), so a fail-over
	// behind a DNS name is followed.
	DBConnMaxLifetimeSeconds int `yaml:"db_conn_max_lifetime_seconds"`
	// DBStatementTimeoutMS is PostgreSQL's statement_timeout for every session (0: 5000).
	DBStatementTimeoutMS int `yaml:"db_statement_timeout_ms"`
	// MFASender delivers MFA email/SMS codes and attack-protection notices (unblock links,
	// admin alerts): log (default; development only: codes are written to the log, notices
	// are not delivered), smtp (SMTPAddr, SMTPFrom; SMS codes then go to WebhookURL when it is
	// set), webhook (WebhookURL gets a JSON POST) or outbox (development: each message becomes a
	// file in OutboxDir). Passwordless login codes travel the same way.
	MFASender string `yaml:"mfa_sender"`
	// DevLogMFACodes lets mfa_sender log write live email and SMS codes to the log
	// (development only). Without it, serve refuses to start when the tenant enables the
	// email or sms factor and mfa_sender is log, and the log sender withholds codes. The
	// demo sets it.
	DevLogMFACodes bool `yaml:"dev_log_mfa_codes"`
	// SMTPAddr is the host:port of the SMTP relay the smtp sender mails through.
	SMTPAddr string `yaml:"smtp_addr"`
	// SMTPFrom is the sender address of MFA mails.
	SMTPFrom string `yaml:"smtp_from"`
	// WebhookURL receives {"channel","to","code","tenant"} (and "kind", "text", for a
	// passwordless code, the message its connection rendered) for the webhook sender, and the
	// SMS codes of the smtp sender.
	WebhookURL string `yaml:"webhook_url"`
	// OutboxDir is where the outbox sender (development) writes each message as a file.
	OutboxDir string `yaml:"outbox_dir"`
	// AdminEmails (comma-separated) receive attack-protection notices for administrators
	// (suspicious-IP throttling's admin_notification shield), through the mfa_sender.
	AdminEmails string `yaml:"admin_emails"`
	// TrustedProxies (comma-separated IPs and CIDR ranges) are the load balancers whose
	// X-Forwarded-For is believed: behind them the caller is the rightmost untrusted entry.
	TrustedProxies string `yaml:"trusted_proxies"`
	// RateLimitClientPerMinute, RateLimitIPPerMinute and RateLimitRefreshPerMinute limit
	// POST /oauth/token per authenticated client, per IP address and per refresh-token family
	// (requests a minute, shared by every node through the database; 0: off, the default).
	RateLimitClientPerMinute  int `yaml:"rate_limit_client_per_minute"`
	RateLimitIPPerMinute      int `yaml:"rate_limit_ip_per_minute"`
	RateLimitRefreshPerMinute int `yaml:"rate_limit_refresh_per_minute"`
	// ManagementAPIRatePerMinute limits Management API requests (under {issuer}api/v2/) per
	// caller: per client for a client-credentials token, per user for a user's token
	// (requests a minute, shared by every node; 0: off, the default). A refused request is
	// 429 with Retry-After, which the Deploy CLI and the SDKs wait out.
	ManagementAPIRatePerMinute int `yaml:"management_api_rate_limit_per_minute"`
	// IPv6ClientPrefix is the length of the IPv6 network that brute-force protection,
	// suspicious-IP throttling and the per-IP rate limits count as one client (0: 64). A
	// subscriber gets at least a /64 (RFC 6177) and may use any address in it, so counting
	// each address alone would give one attacker 2^64 fresh buckets; a /56 or /48 groups a
	// whole site, 128 counts each address alone. IPv4 addresses (and IPv4-mapped IPv6 ones)
	// always count alone. Between 32 and 128, e.g.
	//
	//	ipv6_client_prefix: 56
	IPv6ClientPrefix int `yaml:"ipv6_client_prefix"`
	// MFASendsPerToken, MFASendsPerUserPerHour and MFASendsPerIPPerHour limit the email and
	// SMS codes POST /mfa/associate and /mfa/challenge send, per mfa_token, per user and per
	// IP address; MFAEnrollRecipientsPerHour is how many distinct addresses and numbers one
	// user's enrolments may try until an hour passes without one (0: the defaults 5, 10, 60
	// and 3; -1: off).
	MFASendsPerToken           int `yaml:"mfa_sends_per_token"`
	MFASendsPerUserPerHour     int `yaml:"mfa_sends_per_user_per_hour"`
	MFASendsPerIPPerHour       int `yaml:"mfa_sends_per_ip_per_hour"`
	MFAEnrollRecipientsPerHour int `yaml:"mfa_enroll_recipients_per_hour"`
	// PasswordlessSendsPerRecipientPerHour and PasswordlessSendsPerIPPerHour limit the codes
	// POST /passwordless/start sends, per recipient (and connection) and per IP address an
	// hour (0: the defaults 5 and 50; -1: off).
	PasswordlessSendsPerRecipientPerHour int `yaml:"passwordless_sends_per_recipient_per_hour"`
	PasswordlessSendsPerIPPerHour        int `yaml:"passwordless_sends_per_ip_per_hour"`
	// LogRetention is how long tenant log events are kept: a Go duration (720h) or days (30d).
	LogRetention string `yaml:"log_retention"`
	// LogStream also sends every tenant log event as a JSON line to stdout, to the webhook
	// LogStreamURL, or both ("stdout,webhook"); empty: the database only.
	LogStream    string `yaml:"log_stream"`
	LogStreamURL string `yaml:"log_stream_url"`
	// ActionsFetchAllow (comma-separated) lists the hosts Actions and Rules may call with fetch():
	// api.example.com (any port), api.example.com:8443 (that port only), *.example.com (any
	// name under example.com). Hosts are matched by the name in the URL, over http or https,
	// redirects included. Empty, the default: fetch rejects every call.
	ActionsFetchAllow string `yaml:"actions_fetch_allow"`
	// ActionsMemoryLimitMiB is how far the live heap may grow while one Rule or Action runs
	// before it is stopped (0: 64; -1: no memory guard).
	ActionsMemoryLimitMiB int `yaml:"actions_memory_limit_mib"`
}

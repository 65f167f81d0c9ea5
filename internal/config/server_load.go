package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sesameauth/sesame/internal/seal"
)

// Defaults of the server config (see DefaultServer).
const (
	DefaultAddr                   = "127.0.0.1:8080"
	DefaultDB                     = "sqlite://./sesame.db"
	DefaultLogFormat              = "text"
	DefaultLogLevel               = "info"
	DefaultPasswordHashMemoryKiB  = 19456
	DefaultPasswordHashIterations = 2
	// DefaultLogRetention is how long tenant log events are kept (Auth0 keeps 30 days at most).
	DefaultLogRetention = "30d"
	// EnvPrefix prefixes every environment variable of the server config.
	EnvPrefix = "SESAME_"
)

// DefaultServer returns the config Sesame runs with when nothing is configured: loopback HTTP on
// port 8080, a SQLite database ./sesame.db (with its KEK file ./sesame.kek), text logs at info,
// and argon2id at OWASP's 19 MiB / 2 passes.
func DefaultServer() Server {
	return Server{
		Addr:                   DefaultAddr,
		DB:                     DefaultDB,
		LogFormat:              DefaultLogFormat,
		LogLevel:               DefaultLogLevel,
		PasswordHashMemoryKiB:  DefaultPasswordHashMemoryKiB,
		PasswordHashIterations: DefaultPasswordHashIterations,
		LogRetention:           DefaultLogRetention,
	}
}

// ServerConfigError lists every problem of a server config at once, each with its path (the
// YAML key, SESAME_* variable or flag it came from).
type ServerConfigError struct {
	// Source is the file path, or "environment", or "" for the merged config.
	Source   string
	Problems []Problem
}

func (e *ServerConfigError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.Source != "" {
			b.WriteString(e.Source)
			b.WriteString(": ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// serverField is one settable field of Server, found by its yaml tag.
type serverField struct {
	key   string // yaml key, e.g. tls_cert
	index int
}

// serverFields lists Server's fields in declaration order.
func serverFields() []serverField {
	t := reflect.TypeFor[Server]()
	out := make([]serverField, 0, t.NumField())
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		out = append(out, serverField{key: key, index: i})
	}
	return out
}

// ServerKeys returns the YAML keys of the server config in declaration order. The SESAME_*
// variable of a key is EnvName(key), its flag FlagName(key).
func ServerKeys() []string {
	var keys []string
	for _, f := range serverFields() {
		keys = append(keys, f.key)
	}
	return keys
}

// EnvName returns the environment variable for a server config key: tls_cert → SESAME_TLS_CERT.
func EnvName(key string) string { return EnvPrefix + strings.ToUpper(key) }

// FlagName returns the command-line flag for a server config key: tls_cert → tls-cert.
func FlagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// Set parses value (as written in an environment variable or on a flag) into the field with
// the given YAML key. Booleans take strconv.ParseBool's forms; numbers are decimal.
func (s *Server) Set(key, value string) error {
	for _, f := range serverFields() {
		if f.key != key {
			continue
		}
		v := reflect.ValueOf(s).Elem().Field(f.index)
		return setScalar(v, value)
	}
	return fmt.Errorf("unknown server config key %q", key)
}

func setScalar(v reflect.Value, value string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(value)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%q is not a boolean", value)
		}
		v.SetBool(b)
	case reflect.Uint32, reflect.Uint, reflect.Uint64, reflect.Uint16, reflect.Uint8:
		n, err := strconv.ParseUint(strings.TrimSpace(value), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer of %d bits", value, v.Type().Bits())
		}
		v.SetUint(n)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an integer", value)
		}
		v.SetInt(n)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := setScalar(p.Elem(), value); err != nil {
			return err
		}
		v.Set(p)
	default:
		return fmt.Errorf("unsupported field kind %s", v.Kind())
	}
	return nil
}

// LoadServer reads a server config file over DefaultServer. The file is strict: an unknown key,
// a value of the wrong type or a document that is not a mapping is an error, and every such
// problem is reported at once in a *ServerConfigError with its key. Values are not validated
// here (call Validate after merging the environment and flags).
func LoadServer(path string) (Server, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Server{}, fmt.Errorf("server config: %w", err)
	}
	s, err := ParseServer(data)
	var ce *ServerConfigError
	if errors.As(err, &ce) {
		ce.Source = path
	}
	return s, err
}

// ParseServer decodes a server config document over DefaultServer; see LoadServer.
func ParseServer(data []byte) (Server, error) {
	s := DefaultServer()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return s, &ServerConfigError{Problems: []Problem{{Message: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	if len(doc.Content) == 0 { // an empty file configures nothing
		return s, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return s, nil
	}
	if root.Kind != yaml.MappingNode {
		return s, &ServerConfigError{Problems: []Problem{{Message: fmt.Sprintf("line %d: the server config must be a mapping of keys to values", root.Line)}}}
	}
	fields := serverFields()
	keys := ServerKeys()
	var problems []Problem
	seen := map[string]bool{}
	rv := reflect.ValueOf(&s).Elem()
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			problems = append(problems, Problem{Message: fmt.Sprintf("line %d: keys must be strings", k.Line)})
			continue
		}
		if seen[key] {
			problems = append(problems, Problem{Path: key, Message: fmt.Sprintf("line %d: duplicate key", k.Line)})
			continue
		}
		seen[key] = true
		j := slices.Index(keys, key)
		if j < 0 {
			msg := fmt.Sprintf("line %d: unknown key", k.Line)
			if s := closestServerKey(key, keys); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			problems = append(problems, Problem{Path: key, Message: msg})
			continue
		}
		if v.Kind == yaml.AliasNode || v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode {
			problems = append(problems, Problem{Path: key, Message: fmt.Sprintf("line %d: must be a single value", v.Line)})
			continue
		}
		dst := rv.Field(fields[j].index)
		if v.Tag == "!!null" {
			dst.SetZero()
			continue
		}
		tmp := reflect.New(dst.Type())
		if err := v.Decode(tmp.Interface()); err != nil {
			problems = append(problems, Problem{Path: key, Message: fmt.Sprintf("line %d: must be %s", v.Line, describeKind(dst.Type()))})
			continue
		}
		dst.Set(tmp.Elem())
	}
	if len(problems) > 0 {
		return s, &ServerConfigError{Problems: problems}
	}
	return s, nil
}

func describeKind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	default:
		return "a non-negative integer"
	}
}

// closestServerKey suggests a known key within two edits of key, or "".
func closestServerKey(key string, keys []string) string {
	best, bestD := "", 3
	for _, k := range keys {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// ApplyEnv overrides fields from SESAME_* variables, one per YAML key (EnvName): SESAME_ADDR,
// SESAME_ISSUER, SESAME_DB, SESAME_TLS_CERT, SESAME_TLS_KEY, SESAME_TLS_SELF_SIGNED, SESAME_KEK,
// SESAME_KEK_FILE, SESAME_LOG_FORMAT, SESAME_LOG_LEVEL, SESAME_PASSWORD_HASH_MEMORY_KIB,
// SESAME_PASSWORD_HASH_ITERATIONS, SESAME_AUTO_MIGRATE. A set but empty variable counts as set
// (it clears a string). lookup is os.LookupEnv in the binary; no package reads the environment
// itself. Unparsable values are all reported at once in a *ServerConfigError.
func (s *Server) ApplyEnv(lookup func(string) (string, bool)) error {
	if lookup == nil {
		return nil
	}
	var problems []Problem
	for _, key := range ServerKeys() {
		name := EnvName(key)
		v, ok := lookup(name)
		if !ok {
			continue
		}
		if err := s.Set(key, v); err != nil {
			problems = append(problems, Problem{Path: name, Message: err.Error()})
		}
	}
	if len(problems) > 0 {
		return &ServerConfigError{Source: "environment", Problems: problems}
	}
	return nil
}

// Validate checks the merged config; every problem is reported at once in a
// *ServerConfigError. An issuer without its trailing slash is accepted: Normalize and
// EffectiveIssuer add it.
func (s Server) Validate() error {
	var problems []Problem
	add := func(key, format string, args ...any) {
		problems = append(problems, Problem{Path: key, Message: fmt.Sprintf(format, args...)})
	}
	if host, port, err := net.SplitHostPort(s.Addr); err != nil {
		add("addr", "%q is not host:port", s.Addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		add("addr", "port %q is not a number from 0 to 65535", port)
	} else if strings.ContainsAny(host, " /") {
		add("addr", "host %q is not a host name or IP address", host)
	}
	if s.Issuer != "" {
		u, err := url.Parse(s.Issuer)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			add("issuer", "%q is not an absolute http(s) URL", s.Issuer)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			add("issuer", "%q must not have a query, fragment or user info", s.Issuer)
		}
	}
	if s.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(s.MetricsAddr); err != nil {
			add("metrics_addr", "%q is not host:port", s.MetricsAddr)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			add("metrics_addr", "port %q is not a number from 0 to 65535", port)
		}
	}
	if s.OTLPEndpoint != "" {
		if u, err := url.Parse(s.OTLPEndpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			add("otlp_endpoint", "%q is not an http(s) URL", s.OTLPEndpoint)
		}
	}
	if s.ShutdownTimeoutSeconds < 0 || s.ShutdownTimeoutSeconds > 3600 {
		add("shutdown_timeout_seconds", "%d is not between 0 and 3600", s.ShutdownTimeoutSeconds)
	}
	if s.ShutdownDelaySeconds < 0 || s.ShutdownDelaySeconds > 600 {
		add("shutdown_delay_seconds", "%d is not between 0 and 600", s.ShutdownDelaySeconds)
	}
	switch scheme := s.DBScheme(); scheme {
	case "sqlite":
		if p, _ := s.SQLitePath(); p == "" {
			add("db", "%q names no SQLite file (want sqlite:///path/to/sesame.db)", s.DB)
		}
	case "postgres":
		if _, err := url.Parse(s.DB); err != nil {
			add("db", "not a PostgreSQL URL: %v", err)
		}
	case "":
		add("db", "missing: set a sqlite:// or postgres:// DSN")
	default:
		add("db", "unsupported scheme %q (want sqlite, postgres or postgresql)", scheme)
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		add("tls_cert", "tls_cert and tls_key must be set together")
	}
	if s.TLSCert != "" && s.TLSSelfSigned {
		add("tls_self_signed", "cannot be combined with tls_cert and tls_key")
	}
	if s.KEK != "" {
		if _, err := seal.ParseKEK(s.KEK); err != nil {
			add("kek", "must be %d bytes in base64 (make one with `openssl rand -base64 32`): %v", seal.KeySize, strings.TrimPrefix(err.Error(), "seal: "))
		}
		if s.KEKFile != "" {
			add("kek_file", "set kek or kek_file, not both")
		}
	}
	if s.KEK == "" && s.KEKFile == "" && s.DBScheme() == "postgres" {
		add("kek", "a PostgreSQL database needs an explicit kek or kek_file (every node must share it)")
	}
	if !slices.Contains([]string{"text", "json"}, s.LogFormat) {
		add("log_format", "%q is not text or json", s.LogFormat)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, s.LogLevel) {
		add("log_level", "%q is not debug, info, warn or error", s.LogLevel)
	}
	// RFC 9106 section 3.1: m >= 8*p KiB; Sesame uses p = 1. The upper bound keeps a typo
	// (an extra zero or two) from making every login allocate gigabytes.
	if s.PasswordHashMemoryKiB < 8 || s.PasswordHashMemoryKiB > 4<<20 {
		add("password_hash_memory_kib", "%d is outside 8..%d", s.PasswordHashMemoryKiB, 4<<20)
	}
	if s.PasswordHashIterations < 1 || s.PasswordHashIterations > 100 {
		add("password_hash_iterations", "%d is outside 1..100", s.PasswordHashIterations)
	}
	switch s.MFASender {
	case "", "log":
	case "smtp":
		if _, _, err := net.SplitHostPort(s.SMTPAddr); err != nil {
			add("smtp_addr", "the smtp sender needs host:port: %q", s.SMTPAddr)
		}
		if !strings.Contains(s.SMTPFrom, "@") || strings.ContainsAny(s.SMTPFrom, "\r\n") {
			add("smtp_from", "the smtp sender needs a sender address: %q", s.SMTPFrom)
		}
		// With smtp, a webhook_url carries the SMS codes (mail cannot).
		if s.WebhookURL != "" {
			if u, err := url.Parse(s.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				add("webhook_url", "the SMS webhook needs an http(s) URL: %q", s.WebhookURL)
			}
		}
	case "webhook":
		if u, err := url.Parse(s.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("webhook_url", "the webhook sender needs an http(s) URL: %q", s.WebhookURL)
		}
	case "outbox":
		if s.OutboxDir == "" {
			add("outbox_dir", "the outbox sender needs a directory")
		}
	default:
		add("mfa_sender", "%q is not log, smtp, webhook or outbox", s.MFASender)
	}
	for _, a := range s.AdminEmailList() {
		if !strings.Contains(a, "@") || strings.ContainsAny(a, "\r\n<>") {
			add("admin_emails", "%q is not an email address", a)
		}
	}
	if _, err := s.TrustedProxyPrefixes(); err != nil {
		add("trusted_proxies", "%v", err)
	}
	for _, l := range []struct {
		key string
		n   int
	}{{"rate_limit_client_per_minute", s.RateLimitClientPerMinute}, {"rate_limit_ip_per_minute", s.RateLimitIPPerMinute},
		{"rate_limit_refresh_per_minute", s.RateLimitRefreshPerMinute},
		{"management_api_rate_limit_per_minute", s.ManagementAPIRatePerMinute}} {
		if l.n < 0 {
			add(l.key, "%d is negative (0 turns the limit off)", l.n)
		}
	}
	if p := s.IPv6ClientPrefix; p != 0 && (p < 32 || p > 128) {
		add("ipv6_client_prefix", "%d is not between 32 and 128 (0: the default, 64)", p)
	}
	if d, err := s.LogRetentionDuration(); err != nil {
		add("log_retention", "%v", err)
	} else if d < time.Hour {
		add("log_retention", "%q is shorter than an hour", s.LogRetention)
	}
	_, webhook, err := s.LogStreamTargets()
	if err != nil {
		add("log_stream", "%v", err)
	}
	if webhook {
		if u, err := url.Parse(s.LogStreamURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("log_stream_url", "log_stream webhook needs an http(s) URL: %q", s.LogStreamURL)
		}
	}
	for _, h := range s.ActionsFetchHosts() {
		if strings.ContainsAny(h, "/?#@ ") {
			add("actions_fetch_allow", "%q is not a host name, host:port or *.domain (no scheme or path)", h)
		}
	}
	if s.ActionsMemoryLimitMiB < -1 {
		add("actions_memory_limit_mib", "%d is below -1 (0: the default, -1: off)", s.ActionsMemoryLimitMiB)
	}
	for _, l := range []struct {
		key string
		n   int
	}{{"mfa_sends_per_token", s.MFASendsPerToken}, {"mfa_sends_per_user_per_hour", s.MFASendsPerUserPerHour},
		{"mfa_sends_per_ip_per_hour", s.MFASendsPerIPPerHour}, {"mfa_enroll_recipients_per_hour", s.MFAEnrollRecipientsPerHour},
		{"passwordless_sends_per_recipient_per_hour", s.PasswordlessSendsPerRecipientPerHour},
		{"passwordless_sends_per_ip_per_hour", s.PasswordlessSendsPerIPPerHour}} {
		if l.n < -1 {
			add(l.key, "%d is below -1 (0: the default, -1: off)", l.n)
		}
	}
	if len(problems) > 0 {
		return &ServerConfigError{Problems: problems}
	}
	return nil
}

// Normalize adds the trailing slash an issuer must have (Auth0's iss is https://host/).
func (s *Server) Normalize() {
	if s.Issuer != "" && !strings.HasSuffix(s.Issuer, "/") {
		if u, err := url.Parse(s.Issuer); err == nil && u.RawQuery == "" && u.Fragment == "" {
			s.Issuer += "/"
		}
	}
}

// TLSEnabled reports whether the server listens with TLS.
func (s Server) TLSEnabled() bool { return s.TLSCert != "" || s.TLSSelfSigned }

// EffectiveIssuer returns Issuer, or else http(s)://addr/ (https when TLS is on), with a
// trailing slash. An unspecified host (":8080", "0.0.0.0:8080") becomes localhost.
func (s Server) EffectiveIssuer() string {
	if s.Issuer != "" {
		if !strings.HasSuffix(s.Issuer, "/") {
			return s.Issuer + "/"
		}
		return s.Issuer
	}
	scheme := "http"
	if s.TLSEnabled() {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return scheme + "://" + s.Addr + "/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// DBScheme returns "sqlite" or "postgres" (postgresql is an alias) for the DSN, or the unknown
// scheme as written, or "" when DB is empty or has no scheme.
func (s Server) DBScheme() string {
	scheme, _, ok := strings.Cut(s.DB, ":")
	if !ok {
		return ""
	}
	switch scheme = strings.ToLower(scheme); scheme {
	case "postgresql":
		return "postgres"
	default:
		return scheme
	}
}

// SQLitePath returns the database file of a SQLite DSN (sqlite:///var/lib/sesame.db is
// /var/lib/sesame.db; sqlite://./sesame.db and sqlite:./sesame.db are ./sesame.db;
// sqlite::memory: is ":memory:"), and false for other schemes.
func (s Server) SQLitePath() (string, bool) {
	rest, ok := strings.CutPrefix(s.DB, "sqlite:")
	if !ok {
		return "", false
	}
	rest, _, _ = strings.Cut(rest, "?")
	if p, ok := strings.CutPrefix(rest, "//"); ok {
		rest = p
	}
	return rest, true
}

// MigrateOnStart reports whether pending schema migrations are applied when the database is
// opened: AutoMigrate when set, else true for SQLite (a single-node file) and false for
// PostgreSQL (shared by nodes that may run different versions during a rollout).
func (s Server) MigrateOnStart() bool {
	if s.AutoMigrate != nil {
		return *s.AutoMigrate
	}
	return s.DBScheme() == "sqlite"
}

// ActionsFetchHosts returns actions_fetch_allow as a list, blanks dropped.
func (s Server) ActionsFetchHosts() []string { return splitList(s.ActionsFetchAllow) }

// AdminEmailList returns admin_emails as a list, blanks dropped.
func (s Server) AdminEmailList() []string { return splitList(s.AdminEmails) }

// TrustedProxyPrefixes parses trusted_proxies: IP addresses (a range of one) and CIDR ranges,
// IPv4 or IPv6. An IPv4-mapped IPv6 range is the IPv4 range it maps, as peers are unmapped.
func (s Server) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, e := range splitList(s.TrustedProxies) {
		var p netip.Prefix
		var err error
		if strings.Contains(e, "/") {
			p, err = netip.ParsePrefix(e)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(e); err == nil && a.Zone() != "" {
				err = errors.New("zoned address")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			bad = append(bad, strconv.Quote(e))
			continue
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: not an IP address or CIDR range", strings.Join(bad, ", "))
	}
	return out, nil
}

// LogRetentionDuration parses log_retention: a Go duration (720h) or a whole number of days
// (30d). Empty is the default, 30 days.
func (s Server) LogRetentionDuration() (time.Duration, error) {
	v := strings.TrimSpace(s.LogRetention)
	if v == "" {
		v = DefaultLogRetention
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return 0, fmt.Errorf("%q is not a number of days (30d) or a duration (720h)", s.LogRetention)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a number of days (30d) or a duration (720h)", s.LogRetention)
	}
	return d, nil
}

// LogStreamTargets reads log_stream: "stdout", "webhook", both comma-separated, or empty.
func (s Server) LogStreamTargets() (stdout, webhook bool, err error) {
	for _, t := range splitList(s.LogStream) {
		switch t {
		case "stdout":
			stdout = true
		case "webhook":
			webhook = true
		default:
			return false, false, fmt.Errorf("%q is not stdout or webhook", t)
		}
	}
	return stdout, webhook, nil
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

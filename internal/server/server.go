// Package server is Sesame's composition root: Open builds every service from the server config
// and wires them together, and Serve runs the HTTP listener. It is the one place where a
// connection's strategy string meets its Directory implementation and where the store, keys,
// password hasher and tenant log meet the HTTP layer. Nothing else constructs dependencies.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/directory/database"
	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/logs"
	"github.com/sesameauth/sesame/internal/logs/webhook"
	"github.com/sesameauth/sesame/internal/metrics"
	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/mfa/deliver"
	"github.com/sesameauth/sesame/internal/mgmtapi"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
	"github.com/sesameauth/sesame/internal/tracing"
	"github.com/sesameauth/sesame/internal/webui"
)

// Options are the parts of a Server that do not come from the config file.
type Options struct {
	// KEK is the key-encryption key (32 bytes) that seals signing keys and HS256 secrets.
	KEK []byte
	// Logger receives the process log; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests inject one to move time.
	Now func() time.Time
	// Migrate applies pending schema migrations at open; without it an out-of-date schema is an
	// error.
	Migrate bool
	// Mount adds handlers beside the OAuth endpoints (the demo's sample API), by pattern.
	Mount map[string]http.Handler
	// PasswordConcurrency bounds concurrent password hashing; 0 means the CPU count.
	PasswordConcurrency int
	// Stdout receives the tenant log stream of log_stream: stdout; nil means os.Stdout.
	Stdout io.Writer

	// keyTicks, when set, drives housekeeping's check for keys of new APIs instead of its 2 s
	// ticker, so that a test steps it rather than waits.
	keyTicks <-chan time.Time
}

// Server is a running Sesame node's services.
type Server struct {
	Config config.Server
	Issuer string
	Store  *sqlstore.Store
	Keys   *token.Keys
	Hasher *password.Hasher
	Box    *seal.Box
	Events *logs.Sink
	// Stream sends tenant log events to stdout or a webhook (log_stream); nil when off.
	Stream *logs.Stream
	// Admin is the management service the Management API (under {issuer}api/v2/) calls.
	Admin *admin.Service
	// dirs gives each connection its directory (directories.go).
	dirs *directories
	// Metrics are the node's Prometheus metrics; nil unless metrics_addr is set.
	Metrics *metrics.Metrics
	// Tracing exports OpenTelemetry traces; nil unless otlp_endpoint is set.
	Tracing *tracing.Tracing

	log     *slog.Logger
	handler http.Handler
	tlsCert *tls.Certificate
	stop    chan struct{}
	wg      sync.WaitGroup
	oauth   *oauthserver.Server
	// legacyDBs are the pools of custom-database scripts' require('pg').
	legacyDBs *scripted.Pools
	// fetch is the Actions' fetch(), swapped by Reload.
	fetch *swapFetcher
	// draining is set once Serve's context ends: /readyz answers 503 from then on.
	draining atomic.Bool
	// metricsAddr is the bound address of the metrics listener (metrics.go).
	metricsAddr string
	// purged is closed once housekeeping's purge at start is done (see Flush).
	purged   chan struct{}
	keyTicks <-chan time.Time // see Options
}

// Open builds a Server: store (migrated if asked), sealing box, signing keys (generated on
// first start), password hasher, directories and the HTTP handler.
func Open(ctx context.Context, cfg config.Server, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	// Validate has checked these; parsed here, before anything is started.
	proxies, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	retention, err := cfg.LogRetentionDuration()
	if err != nil {
		return nil, fmt.Errorf("log_retention: %w", err)
	}
	// fetch() goes through a swapFetcher so that a reload can change its allowlist.
	f, err := newFetcher(cfg)
	if err != nil {
		return nil, err
	}
	fetch := &swapFetcher{}
	fetch.set(f)
	engine := engineWith(cfg, fetch)
	core, err := OpenCore(ctx, cfg, CoreOptions{KEK: opts.KEK, Migrate: opts.Migrate, Now: now,
		PasswordConcurrency: opts.PasswordConcurrency})
	if err != nil {
		return nil, err
	}
	st, box := core.Store, core.Box
	fail := func(err error) (*Server, error) {
		st.Close()
		return nil, err
	}
	if path, ok := cfg.SQLitePath(); ok && path != ":memory:" {
		for _, f := range sqlstore.ExposedFiles(path) {
			log.Warn("database file is readable by other users: it holds password hashes and sealed keys; chmod 600 it",
				"path", f.Path, "mode", fmt.Sprintf("%04o", uint32(f.Mode)))
		}
	}
	if err := checkMFASender(ctx, cfg, st); err != nil {
		return fail(err)
	}
	s := &Server{
		Config: cfg,
		Issuer: cfg.EffectiveIssuer(),
		Store:  st,
		Box:    box,
		Keys:   core.Keys,
		Hasher: core.Hasher,
		log:    log, fetch: fetch,
		stop: make(chan struct{}), purged: make(chan struct{}), keyTicks: opts.keyTicks,
		legacyDBs: &scripted.Pools{},
	}
	// Custom-database connections run their scripts on the Actions engine (its sandbox,
	// deadline and fetch allowlist) and reach legacy PostgreSQL through s.legacyDBs; logins
	// and the admin's user operations share each connection's bound on running scripts.
	realms := scripted.New(scripted.Options{Engine: engine, SQL: s.legacyDBs, Users: st, Hasher: s.Hasher, Box: box, Logger: log})
	s.Admin = &admin.Service{Store: st, Hasher: s.Hasher, Box: box, Keys: s.Keys, Now: now, Jobs: &admin.JobRunner{},
		ManagementAudience: admin.ManagementAudience(s.Issuer), CustomDB: realms, Actions: engine}
	if err := s.Admin.EnsureManagementAPI(ctx); err != nil {
		return fail(fmt.Errorf("making the Management API: %w", err))
	}
	console, err := s.Admin.EnsureConsoleClient(ctx, s.Issuer)
	if err != nil {
		return fail(fmt.Errorf("making the console's application: %w", err))
	}
	if err := s.ensureKeys(ctx); err != nil {
		return fail(err)
	}
	if cfg.PprofAddr != "" {
		if err := s.startPprof(cfg.PprofAddr); err != nil {
			return fail(err)
		}
	}
	s.Events = logs.New(st, log, now)
	if cfg.OTLPEndpoint != "" {
		if s.Tracing, err = tracing.New(ctx, cfg.OTLPEndpoint, buildVersion(), log); err != nil {
			return fail(err)
		}
	}
	var tees []func(store.LogEvent)
	if cfg.MetricsAddr != "" {
		s.Metrics = metrics.New()
		tees = append(tees, s.Metrics.LogEvent)
	}
	if toStdout, toWebhook, _ := cfg.LogStreamTargets(); toStdout || toWebhook {
		o := logs.StreamOptions{Logger: log}
		if toStdout {
			o.Writer = cmp.Or[io.Writer](opts.Stdout, os.Stdout)
		}
		if toWebhook {
			o.Webhook = webhook.Poster{URL: cfg.LogStreamURL}
		}
		s.Stream = logs.NewStream(o)
		tees = append(tees, s.Stream.Send)
	}
	switch len(tees) {
	case 1:
		s.Events.Tee(tees[0])
	case 2:
		s.Events.Tee(func(e store.LogEvent) { tees[0](e); tees[1](e) })
	}
	s.dirs = newDirectories(st, s.Hasher, box, log, now)
	s.dirs.scripted = realms
	oauth := oauthserver.New(oauthserver.Config{
		Issuer:      s.Issuer,
		Store:       st,
		Directories: s.dirs,
		Keys:        s.Keys,
		Box:         box,
		Events:      s.Events,
		Logger:      log,
		Now:         now,
		MFASender:   mfaSender(cfg, log),
		// One engine per process (5 s deadline and a memory guard per execution).
		Hooks:      engine,
		RateLimits: rateLimits(cfg),
		MFASendLimits: oauthserver.MFASendLimits{PerToken: cfg.MFASendsPerToken, PerUserPerHour: cfg.MFASendsPerUserPerHour,
			PerIPPerHour: cfg.MFASendsPerIPPerHour, RecipientsPerHour: cfg.MFAEnrollRecipientsPerHour},
		PasswordlessSendLimits: oauthserver.PasswordlessSendLimits{PerRecipientPerHour: cfg.PasswordlessSendsPerRecipientPerHour,
			PerIPPerHour: cfg.PasswordlessSendsPerIPPerHour},
		TrustedProxies:   proxies,
		AdminEmails:      cfg.AdminEmailList(),
		IPv6ClientPrefix: cfg.IPv6ClientPrefix,
		Observer:         s.observer(),
		Tracer:           s.tracer(),
	})
	s.oauth = oauth
	mux := http.NewServeMux()
	mux.Handle("/", oauth.Handler())
	mgmt := mgmtapi.New(mgmtapi.Config{
		Issuer: s.Issuer, Admin: s.Admin, Keys: s.Keys, Events: s.Events,
		Limiter:       guard.New(st, now, guard.Options{IPv6Prefix: cfg.IPv6ClientPrefix}),
		RatePerMinute: cfg.ManagementAPIRatePerMinute,
		Logger:        log, Now: now,
	})
	mux.Handle(mgmt.Pattern(), mgmt.Handler())
	webui.New(webui.Config{
		Issuer: s.Issuer, ClientID: console.ClientID, Audience: s.Admin.ManagementAudience, Logger: log,
		Realms: func(ctx context.Context) ([]string, error) { return s.Admin.ConsoleRealms(ctx, console.ClientID) },
	}).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	for pattern, h := range opts.Mount {
		mux.Handle(pattern, h)
	}
	s.handler = mux
	if s.Tracing != nil {
		s.handler = s.Tracing.Middleware(s.handler)
	}
	if s.Metrics != nil {
		s.handler = s.Metrics.Middleware(s.handler)
		if err := s.startMetrics(cfg.MetricsAddr, now); err != nil {
			return fail(err)
		}
	}
	s.wg.Add(2)
	go s.housekeeping(now, retention)
	go s.calibrateHasher()
	return s, nil
}

// ensureKeys makes sure RS256 (ID tokens, default APIs), every algorithm an API uses, and PS256
// when a client signs its ID tokens with it, have a current and a next key.
func (s *Server) ensureKeys(ctx context.Context) error {
	algs := []string{"RS256"}
	apis, err := s.Store.ListResourceServers(ctx)
	if err != nil {
		return err
	}
	for _, api := range apis {
		if api.SigningAlg != "" && api.SigningAlg != "HS256" {
			algs = append(algs, api.SigningAlg)
		}
	}
	clients, err := s.Store.ListClients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if c.IDTokenAlg == "PS256" {
			algs = append(algs, "PS256")
		}
	}
	return s.Keys.Ensure(ctx, slices.Compact(slices.Sorted(slices.Values(algs)))...)
}

// Handler is the node's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeStatus(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeStatus(w, http.StatusServiceUnavailable, "database unavailable")
		return
	}
	writeStatus(w, http.StatusOK, "ok")
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintf(w, "{\"status\":%q}\n", status)
}

// housekeeping purges dead refresh tokens, MFA transactions and tenant log events older than
// the retention, and keeps keys present for newly added APIs. Every node purges: the deletes
// are idempotent, so nodes need not agree on who does it.
func (s *Server) housekeeping(now func() time.Time, retention time.Duration) {
	defer s.wg.Done()
	keyTick := time.NewTicker(2 * time.Second)
	purgeTick := time.NewTicker(time.Hour)
	defer keyTick.Stop()
	defer purgeTick.Stop()
	keyTicks := keyTick.C
	if s.keyTicks != nil {
		keyTicks = s.keyTicks
	}
	// A first purge at start: a node restarted more often than hourly still prunes.
	s.purge(now(), retention)
	close(s.purged)
	for {
		select {
		case <-s.stop:
			return
		case <-keyTicks:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.ensureKeys(ctx); err != nil {
				s.log.Warn("ensuring signing keys", "err", err)
			}
			cancel()
		case <-purgeTick.C:
			s.purge(now(), retention)
		}
	}
}

// calibrateHasher measures the password hash classes each database connection stores, so that
// failed logins take the same time whichever user they name from the first one on (see
// database.Calibrate). It stops when the server closes.
func (s *Server) calibrateHasher() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		s.log.Warn("calibrating password verification time", "err", err)
		return
	}
	for _, c := range conns {
		if c.Strategy != "auth0" && c.Strategy != "" {
			continue
		}
		if err := database.Calibrate(ctx, s.Store, c.Name, s.Hasher); err != nil && ctx.Err() == nil {
			s.log.Warn("calibrating password verification time", "connection", c.Name, "err", err)
		}
	}
}

// Flush waits (until ctx ends) for the work this node left running in the background: the
// purge at start, then what requests left behind their answers (notices being delivered,
// tenant log events not yet in the store; see oauthserver.Server.Flush), then events not yet
// on the log stream. The server never needs it; tests call it instead of polling.
func (s *Server) Flush(ctx context.Context) error {
	select {
	case <-s.purged:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := s.oauth.Flush(ctx); err != nil {
		return err
	}
	if s.Stream != nil { // after the sink: it tees events to the stream as they are emitted
		return s.Stream.Flush(ctx)
	}
	return nil
}

// purge deletes what has outlived its use at t: dead refresh-token families, tenant log
// events older than the retention, finished MFA transactions.
func (s *Server) purge(t time.Time, retention time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n, err := s.Store.DeleteExpiredRefreshTokens(ctx, t); err != nil {
		s.log.Warn("purging refresh tokens", "err", err)
	} else if n > 0 {
		s.log.Info("purged refresh token families", "count", n)
	}
	if n, err := s.Store.DeleteLogsBefore(ctx, t.Add(-retention)); err != nil {
		s.log.Warn("purging tenant logs", "err", err)
	} else if n > 0 {
		s.log.Info("purged tenant log events", "count", n, "retention", retention.String())
	}
	if _, err := s.Store.DeleteExpiredMFA(ctx, t); err != nil {
		s.log.Warn("purging MFA transactions", "err", err)
	}
	if _, err := s.Store.DeleteExpiredPasswordlessCodes(ctx, t); err != nil {
		s.log.Warn("purging passwordless codes", "err", err)
	}
}

// Serve answers on ln until ctx ends, then shuts down gracefully: /readyz turns 503 and
// responses ask clients to close their connections (Connection: close), for shutdown_delay_seconds (so that load
// balancers, which watch /readyz, stop sending new requests here); then the listener closes
// and in-flight requests get up to shutdown_timeout_seconds to finish before the connections
// still open are closed. It returns nil after a shutdown, however it ended (the cut-off
// requests are logged): the process is meant to exit 0. Close, after it, flushes the tenant log.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.closeWhenDraining(s.handler),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	tlsConf, err := s.TLSConfig()
	if err != nil {
		return err
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Not SetKeepAlivesEnabled(false): it closes idle keep-alive connections at once, and a
	// client that is just then sending a request on one sees its connection reset.
	s.draining.Store(true)
	delay := time.Duration(s.Config.ShutdownDelaySeconds) * time.Second
	timeout := time.Duration(cmp.Or(s.Config.ShutdownTimeoutSeconds, 20)) * time.Second
	s.log.Info("shutting down: draining", "readyz_unready_for", delay.String(), "in_flight_timeout", timeout.String())
	time.Sleep(delay)
	shutCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		s.log.Warn("shutdown timeout: closing connections with requests still in flight", "timeout", timeout.String())
		_ = srv.Close()
	}
	return nil
}

// closeWhenDraining asks, while draining, that each connection be closed after its response
// (Connection: close): clients then move to other nodes on their own, with nothing in flight on
// the connection when it closes.
func (s *Server) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// TLSConfig is the listener's TLS config, or nil for plain HTTP.
func (s *Server) TLSConfig() (*tls.Config, error) {
	cfg := s.Config
	switch {
	case cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("loading TLS certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	case cfg.TLSSelfSigned:
		if s.tlsCert == nil {
			cert, err := selfSigned(hostOf(s.Issuer))
			if err != nil {
				return nil, err
			}
			s.tlsCert = &cert
		}
		return &tls.Config{Certificates: []tls.Certificate{*s.tlsCert}, MinVersion: tls.VersionTLS12}, nil
	}
	return nil, nil
}

// SelfSignedCertificate returns the development certificate (for tests that must trust it).
func (s *Server) SelfSignedCertificate() *tls.Certificate { return s.tlsCert }

// Close stops background work, flushes the tenant log and closes the store.
func (s *Server) Close() error {
	close(s.stop)
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Events.Close(ctx); err != nil {
		s.log.Warn("flushing tenant log", "err", err)
	}
	if s.Stream != nil { // after the sink: nothing is teed to it any more
		if err := s.Stream.Close(ctx); err != nil {
			s.log.Warn("flushing tenant log stream", "err", err)
		}
	}
	s.dirs.close()
	s.legacyDBs.Close()
	if s.Tracing != nil {
		if err := s.Tracing.Shutdown(ctx); err != nil {
			s.log.Warn("exporting the last traces", "err", err)
		}
	}
	return s.Store.Close()
}

func hostOf(issuer string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// mfaSender is the delivery of MFA email and SMS codes the config names (validated already).
func mfaSender(cfg config.Server, log *slog.Logger) mfa.Sender {
	switch cfg.MFASender {
	case "smtp":
		mail := deliver.SMTPSender{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom}
		if cfg.WebhookURL != "" { // mail cannot carry SMS codes; the SMS gateway's webhook can
			return deliver.ByChannel{Email: mail, SMS: deliver.WebhookSender{URL: cfg.WebhookURL}}
		}
		return mail
	case "webhook":
		return deliver.WebhookSender{URL: cfg.WebhookURL}
	case "outbox":
		return deliver.Outbox{Dir: cfg.OutboxDir}
	}
	return deliver.LogSender{Log: log, WithholdCodes: !cfg.DevLogMFACodes}
}

// checkMFASender refuses to serve a tenant that enables the email or sms factor with the log
// sender, which would write every live code to the server log (where log shippers, support
// staff and backups read it), unless dev_log_mfa_codes says this is development. The sender
// withholds codes at run time too (mfaSender), for a tenant changed while the server runs.
func checkMFASender(ctx context.Context, cfg config.Server, tenants interface {
	store.Tenants
	store.Connections
}) error {
	if (cfg.MFASender != "" && cfg.MFASender != "log") || cfg.DevLogMFACodes {
		return nil
	}
	t, err := tenants.GetTenant(ctx)
	if err != nil {
		return err
	}
	var on []string
	if t.MFAFactors.Email {
		on = append(on, "email")
	}
	if t.MFAFactors.SMS {
		on = append(on, "sms")
	}
	what := ""
	if len(on) > 0 {
		what = "the tenant enables the " + strings.Join(on, " and ") + " factor"
	}
	// Passwordless connections mail or text login codes through the same sender.
	conns, err := tenants.ListConnections(ctx)
	if err != nil {
		return err
	}
	for _, c := range conns {
		if passwordless.IsStrategy(c.Strategy) {
			if what != "" {
				what += ", and "
			}
			what += fmt.Sprintf("the connection %q sends passwordless codes", c.Name)
			break
		}
	}
	if what == "" {
		return nil
	}
	return fmt.Errorf("mfa_sender is log, which writes live MFA codes to the server log, and %s: "+
		"set mfa_sender (--mfa-sender, SESAME_MFA_SENDER) to smtp or webhook, or in development set dev_log_mfa_codes: true (--dev-log-mfa-codes)",
		what)
}

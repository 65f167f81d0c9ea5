// Package metrics exposes a Sesame node's Prometheus metrics (client_golang) on a listener of
// its own. It instruments the server through hooks the other packages already offer, rather
// than reaching into them: an oauthserver.Observer for token outcomes, a tee of the tenant
// log for attack protection and MFA events, an HTTP middleware for latency, and collectors
// that read the hasher's, the store's and the log queue's counters when scraped.
//
// Cardinality is bounded by construction: labels take values from fixed sets (grant types
// this server supports, OAuth error codes, endpoint patterns, Auth0 log codes, HTTP status
// codes) or from the tenant's own configuration (client ids of authenticated clients,
// algorithms). No label ever carries a user id, a username, an email or an IP address.
//
// It sits beside the composition root: server builds it and hands its parts to the services.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// Metrics holds a node's registry and the instruments the hooks update.
type Metrics struct {
	reg *prometheus.Registry

	tokens      *prometheus.CounterVec
	rotations   prometheus.Counter
	reuses      prometheus.Counter
	hookRuns    *prometheus.CounterVec
	hookSeconds *prometheus.HistogramVec
	events      *prometheus.CounterVec
	guard       *prometheus.CounterVec
	mfa         *prometheus.CounterVec
	httpReqs    *prometheus.CounterVec
	httpSeconds *prometheus.HistogramVec
	inFlight    prometheus.Gauge
}

// New returns Metrics with the Go runtime, process and build-info collectors registered.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_token_requests_total",
			Help: "POST /oauth/token requests by grant type, authenticated client, outcome (success or error) and OAuth error code.",
		}, []string{"grant_type", "client_id", "outcome", "error"}),
		rotations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sesame_refresh_rotations_total",
			Help: "Refresh tokens redeemed and replaced by a new one.",
		}),
		reuses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sesame_refresh_reuse_detections_total",
			Help: "Replayed refresh tokens; each revoked its whole family.",
		}),
		hookRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_hook_executions_total",
			Help: "Rule and Action executions by kind (rule, action) and outcome (ok, error, timeout).",
		}, []string{"kind", "outcome"}),
		hookSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sesame_hook_execution_duration_seconds",
			Help:    "Duration of Rule and Action executions.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_tenant_log_events_total",
			Help: "Tenant log events emitted, by Auth0 event code (s, fp, fu, ferrt, limit_wc, ...).",
		}, []string{"type"}),
		guard: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_attack_protection_total",
			Help: "Attack protection refusals: brute_force (account blocked for an IP), suspicious_ip (IP throttled), breached_password.",
		}, []string{"kind"}),
		mfa: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_mfa_total",
			Help: "MFA events: required (a login paused for a second factor), succeeded, failed, enrolled, rate_limited.",
		}, []string{"event"}),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_http_requests_total",
			Help: "HTTP requests by endpoint pattern and status code.",
		}, []string{"endpoint", "code"}),
		httpSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sesame_http_request_duration_seconds",
			Help:    "HTTP request latency by endpoint pattern, until the handler returned.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sesame_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
	}
	reg.MustRegister(m.tokens, m.rotations, m.reuses, m.hookRuns, m.hookSeconds, m.events, m.guard, m.mfa,
		m.httpReqs, m.httpSeconds, m.inFlight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo())
	return m
}

// Registry is the registry, for collectors the composition root adds (Register).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

var _ oauthserver.Observer = (*Metrics)(nil)

// ObserveToken counts one token request (oauthserver.Observer).
func (m *Metrics) ObserveToken(o oauthserver.TokenOutcome) {
	outcome := "success"
	if o.ErrorCode != "" {
		outcome = "error"
	}
	m.tokens.WithLabelValues(o.GrantType, o.ClientID, outcome, o.ErrorCode).Inc()
	if o.Rotated {
		m.rotations.Inc()
	}
	if o.Reused {
		m.reuses.Inc()
	}
	for _, r := range o.Hooks {
		m.hookRuns.WithLabelValues(r.Kind, r.Outcome).Inc()
		m.hookSeconds.WithLabelValues(r.Kind).Observe(r.Duration.Seconds())
	}
}

// eventCode is the shape of an Auth0 log code; anything else is counted as "other" so that a
// label never carries free text.
var eventCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// guardKinds and mfaKinds map tenant log codes to the attack-protection and MFA counters.
var (
	guardKinds = map[string]string{"limit_wc": "brute_force", "limit_sul": "brute_force",
		"limit_mu": "suspicious_ip", "pwd_leak": "breached_password"}
	mfaKinds = map[string]string{"mfar": "required", "gd_auth_succeed": "succeeded", "gd_recovery_succeed": "succeeded",
		"gd_auth_failed": "failed", "gd_recovery_failed": "failed", "gd_enrollment_complete": "enrolled",
		"gd_otp_rate_limit_exceed": "rate_limited"}
)

// LogEvent counts a tenant log event by its code (a logs.Sink tee). It reads only e.Type.
func (m *Metrics) LogEvent(e store.LogEvent) {
	typ := e.Type
	if !eventCode.MatchString(typ) {
		typ = "other"
	}
	m.events.WithLabelValues(typ).Inc()
	if k, ok := guardKinds[typ]; ok {
		m.guard.WithLabelValues(k).Inc()
	}
	if k, ok := mfaKinds[typ]; ok {
		m.mfa.WithLabelValues(k).Inc()
	}
}

// endpoints are the paths whose requests get a label of their own; every other path is
// "other" (a scanner's random paths must not each become a series).
var endpoints = map[string]bool{
	"/oauth/token": true, "/oauth/revoke": true, "/oauth/introspect": true, "/userinfo": true,
	"/mfa/authenticators": true, "/mfa/associate": true, "/mfa/challenge": true,
	"/.well-known/openid-configuration": true, "/.well-known/oauth-authorization-server": true,
	"/.well-known/jwks.json": true, "/unblock": true, "/healthz": true, "/readyz": true,
}

// Endpoint is the label for a request path.
func Endpoint(path string) string {
	switch {
	case endpoints[path]:
		return path
	case strings.HasPrefix(path, "/mfa/authenticators/"):
		return "/mfa/authenticators/{id}"
	case strings.Contains(path, "/api/v2/"):
		return "/api/v2/"
	}
	return "other"
}

// Middleware counts and times every request of next.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		sw := NewStatusWriter(w)
		defer func() {
			m.inFlight.Dec()
			ep := Endpoint(r.URL.Path)
			m.httpSeconds.WithLabelValues(ep).Observe(time.Since(start).Seconds())
			m.httpReqs.WithLabelValues(ep, strconv.Itoa(sw.Status())).Inc()
		}()
		next.ServeHTTP(sw, r)
	})
}

// StatusWriter remembers the status code a handler wrote (200 when it wrote none), for the
// observers of a request: these metrics and the tracing middleware's span and log line.
type StatusWriter struct {
	http.ResponseWriter
	code int
}

// NewStatusWriter wraps w.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter { return &StatusWriter{ResponseWriter: w} }

// Status is the status code the response was sent with.
func (w *StatusWriter) Status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flush, deadlines).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// buildInfo is sesame_build_info: 1, labelled with the module version and Go version.
func buildInfo() prometheus.Collector {
	version, goVersion := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goVersion = bi.Main.Version, bi.GoVersion
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "sesame_build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion},
	})
	g.Set(1)
	return g
}

// Sources are what the collectors read at scrape time; nil fields are left out.
type Sources struct {
	// Hasher is the password-hash pool's use.
	Hasher func() password.PoolStats
	// Store is the store's pool and transaction figures.
	Store func() sqlstore.Stats
	// LogQueue and StreamQueue report a tenant log queue's depth and drops.
	LogQueue, StreamQueue Queue
	// Keys lists the signing keys (for their age).
	Keys func(ctx context.Context) ([]store.SigningKey, error)
	Now  func() time.Time
}

// Queue is a tenant-log queue (logs.Sink, logs.Stream).
type Queue interface {
	Queued() int
	Dropped() int64
}

// Register adds the collectors that read src when scraped.
func (m *Metrics) Register(src Sources) {
	if src.Now == nil {
		src.Now = time.Now
	}
	m.reg.MustRegister(&sourceCollector{src: src})
}

package mgmtapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/mgmtapi"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

const testIssuer = "https://sesame.test/"

// clock is the injected time of a test environment.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eventLog records tenant log events synchronously (the real sink writes them off the request
// path), so that a test reads them as soon as the response is in.
type eventLog struct {
	mu     sync.Mutex
	events []store.LogEvent
}

func (l *eventLog) Emit(e store.LogEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) All() []store.LogEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]store.LogEvent(nil), l.events...)
}

// env is a Management API over a real SQLite store, real signing keys and the real admin
// service, served by httptest.
type env struct {
	st     *sqlstore.Store
	svc    *admin.Service
	keys   *token.Keys
	clock  *clock
	events *eventLog
	srv    *httptest.Server
}

type envOption func(*mgmtapi.Config)

// withRate sets the per-caller rate limit.
func withRate(n int) envOption { return func(c *mgmtapi.Config) { c.RatePerMinute = n } }

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	keys := token.NewKeys(st, box, clk.Now)
	if err := keys.Ensure(ctx, "RS256"); err != nil {
		t.Fatal(err)
	}
	svc := &admin.Service{Store: st, Box: box, Keys: keys, Now: clk.Now,
		Hasher:             password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 2),
		ManagementAudience: admin.ManagementAudience(testIssuer)}
	if err := svc.EnsureManagementAPI(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, svc: svc, keys: keys, clock: clk, events: &eventLog{}}
	cfg := mgmtapi.Config{Issuer: testIssuer, Admin: svc, Keys: keys, Events: e.events,
		Limiter: guard.New(st, clk.Now, guard.Options{}), Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	api := mgmtapi.New(cfg)
	mux := http.NewServeMux()
	mux.Handle(api.Pattern(), api.Handler())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// claims are the claims of a client-credentials token for the Management API, as the token
// endpoint mints them.
func (e *env) claims(clientID string, scopes ...string) map[string]any {
	now := e.clock.Now()
	return map[string]any{
		"iss": testIssuer, "sub": clientID + "@clients", "aud": admin.ManagementAudience(testIssuer),
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "azp": clientID,
		"gty": "client-credentials", "scope": strings.Join(scopes, " "),
	}
}

// sign signs claims with the server's RS256 key.
func (e *env) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	raw, err := e.keys.Sign(context.Background(), "RS256", "JWT", claims)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// token returns a client-credentials management token of client "m2m" with scopes.
func (e *env) token(t testing.TB, scopes ...string) string {
	t.Helper()
	return e.sign(t, e.claims("m2m", scopes...))
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   any // decoded JSON (map[string]any, []any...) or nil
	raw    string
}

// obj returns the body as a JSON object.
func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	if !ok {
		t.Fatalf("body is not a JSON object: %s", r.raw)
	}
	return m
}

// arr returns the body as a JSON array.
func (r response) arr(t *testing.T) []any {
	t.Helper()
	a, ok := r.body.([]any)
	if !ok {
		t.Fatalf("body is not a JSON array: %s", r.raw)
	}
	return a
}

// do sends method path (relative to /api/v2, query included) with the bearer token tok ("":
// none) and body (nil: none; a string is sent as is; anything else as JSON).
func (e *env) do(t *testing.T, method, path, tok string, body any) response {
	t.Helper()
	auth := ""
	if tok != "" {
		auth = "Bearer " + tok
	}
	return e.doAuth(t, method, path, auth, body)
}

// doAuth is do with the Authorization header auth ("": none).
func (e *env) doAuth(t *testing.T, method, path, auth string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+"/api/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, path, raw)
		}
	}
	return out
}

// wantError checks an Auth0 error body.
func wantError(t *testing.T, r response, status int, code, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	want := map[string]any{"statusCode": float64(status), "error": http.StatusText(status), "message": message, "errorCode": code}
	got := r.obj(t)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (body %s)", k, got[k], v, r.raw)
		}
	}
	if len(got) != len(want) {
		t.Errorf("body has fields beyond %v: %s", want, r.raw)
	}
}

// mustClient creates a client through admin.
func (e *env) mustClient(t *testing.T, in admin.ClientInput) store.Client {
	t.Helper()
	c, _, err := e.svc.CreateClient(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// errCase is one request that must be refused with status and errorCode.
type errCase struct {
	name, method, path string
	body               any
	status             int
	code               string
}

// runErrCases sends each case with tok and checks the refusal.
func (e *env) runErrCases(t *testing.T, tok string, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, tok, tc.body)
			if r.status != tc.status || r.obj(t)["errorCode"] != tc.code {
				t.Errorf("%d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
		})
	}
}

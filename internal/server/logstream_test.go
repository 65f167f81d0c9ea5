package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// syncBuffer is a bytes.Buffer safe for the stream's writer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

const (
	streamClientID = "stream-client-000000000000000001"
	streamSecret   = "stream-secret-0123456789abcdef0123456789"
	streamPassword = "Stream user's password 42"
)

// openWith opens a server over a fresh SQLite file (cheap hashing), with a tenant of one
// confidential client, one connection and one user, and serves it on loopback.
func openWith(t *testing.T, mut func(*config.Server), opts Options) (*Server, *httptest.Server) {
	t.Helper()
	cfg := config.DefaultServer()
	cfg.DB = "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	cfg.PasswordHashMemoryKiB, cfg.PasswordHashIterations = 64, 1
	ts := httptest.NewUnstartedServer(nil)
	cfg.Addr = ts.Listener.Addr().String()
	if mut != nil {
		mut(&cfg)
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if opts.KEK == nil {
		opts.KEK = seal.NewKEK()
	}
	opts.Migrate = true
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := Open(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	ctx, st := t.Context(), srv.Store
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateResourceServer(ctx, store.ResourceServer{ID: store.NewID("", 12), Identifier: "https://api.stream.test",
		AllowOfflineAccess: true, Scopes: []store.Scope{{Value: "read"}}, CreatedAt: now, UpdatedAt: now}))
	must(st.CreateClient(ctx, store.Client{ClientID: streamClientID, Name: "Stream", SecretHash: password.HashSecret(streamSecret),
		TokenEndpointAuthMethod: "client_secret_post", GrantTypes: []string{"password", "refresh_token"},
		RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring"}, CreatedAt: now, UpdatedAt: now}))
	must(st.CreateConnection(ctx, store.Connection{ID: store.NewConnectionID(), Name: "db", Strategy: "auth0",
		EnabledClients: []string{streamClientID}, CreatedAt: now, UpdatedAt: now}))
	hash, err := srv.Hasher.Hash(ctx, streamPassword)
	must(err)
	must(st.CreateUser(ctx, store.User{ID: store.NewUserID(), Connection: "db", Email: "streamer@example.com",
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}))
	must(st.UpdateTenant(ctx, func(tn *store.Tenant) error {
		tn.DefaultDirectory, tn.DefaultAudience = "db", "https://api.stream.test"
		return nil
	}))
	return srv, ts
}

// tokenRequest posts a token request and returns the decoded body.
func tokenRequest(t *testing.T, base string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

// exchange runs a login with a refresh token, a refresh and a wrong password, and returns
// every secret that went over the wire.
func exchange(t *testing.T, base string) []string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {streamClientID}, "client_secret": {streamSecret},
		"username": {"streamer@example.com"}, "password": {streamPassword}, "scope": {"openid offline_access"}}
	code, body := tokenRequest(t, base, form)
	if code != http.StatusOK {
		t.Fatalf("login: %d %v", code, body)
	}
	rt, _ := body["refresh_token"].(string)
	code, body2 := tokenRequest(t, base, url.Values{"grant_type": {"refresh_token"}, "client_id": {streamClientID},
		"client_secret": {streamSecret}, "refresh_token": {rt}})
	if code != http.StatusOK {
		t.Fatalf("refresh: %d %v", code, body2)
	}
	form.Set("password", "a wrong password for the stream")
	if code, _ := tokenRequest(t, base, form); code != http.StatusForbidden {
		t.Fatalf("wrong password: %d", code)
	}
	secrets := []string{streamSecret, streamPassword, "a wrong password for the stream", rt}
	for _, b := range []map[string]any{body, body2} {
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			if s, _ := b[k].(string); s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	return secrets
}

// checkStream reads JSON lines, checks the events of exchange are there with Auth0's field
// names, and that no secret appears.
func checkStream(t *testing.T, got string, secrets []string) {
	t.Helper()
	types := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(got))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("stream line %q is not JSON: %v", sc.Text(), err)
		}
		for _, k := range []string{"log_id", "date", "type"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("stream line %q lacks %s", sc.Text(), k)
			}
		}
		typ, _ := ev["type"].(string)
		types[typ] = true
	}
	for _, want := range []string{"sepft", "sertft", "fp", "fepft"} {
		if !types[want] {
			t.Errorf("stream: no %s event in %q", want, got)
		}
	}
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("stream contains a secret (%.12s...)", s)
		}
	}
}

// flush waits for srv's background work: the tests read the stream, the store and the outbox
// only once everything their requests caused has reached them.
func flush(t *testing.T, srv *Server) {
	t.Helper()
	if err := srv.Flush(t.Context()); err != nil {
		t.Fatalf("flushing the server: %v", err)
	}
}

func TestLogStreamStdout(t *testing.T) {
	var out syncBuffer
	srv, ts := openWith(t, func(c *config.Server) { c.LogStream = "stdout" }, Options{Stdout: &out})
	secrets := exchange(t, ts.URL)
	flush(t, srv)
	checkStream(t, out.String(), secrets)
}

func TestLogStreamWebhook(t *testing.T) {
	var got syncBuffer
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("Content-Type %q, want application/x-ndjson", ct)
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = got.Write(b)
	}))
	defer hook.Close()
	var out syncBuffer
	srv, ts := openWith(t, func(c *config.Server) { c.LogStream, c.LogStreamURL = "webhook", hook.URL }, Options{Stdout: &out})
	secrets := exchange(t, ts.URL)
	flush(t, srv)
	checkStream(t, got.String(), secrets)
	if out.String() != "" {
		t.Errorf("stdout got %q, want nothing (webhook only)", out.String())
	}
}

func TestLogRetention(t *testing.T) {
	tests := []struct {
		name      string
		retention string
		wantKept  []string
	}{
		{"default 30 days", "", []string{"recent", "old-20d"}},
		{"configured 10 days", "10d", []string{"recent"}},
		{"as a duration", "1000h", []string{"recent", "old-20d", "old-40d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The events exist before the server starts; its first purge runs at start.
			dir := t.TempDir()
			dsn := "sqlite://" + filepath.Join(dir, "s.db")
			seed, err := sqlstore.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			if err := seed.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			for id, age := range map[string]time.Duration{"recent": time.Hour, "old-20d": 20 * 24 * time.Hour, "old-40d": 40 * 24 * time.Hour} {
				if err := seed.AppendLog(t.Context(), store.LogEvent{ID: id, Date: now.Add(-age), Type: "fp"}); err != nil {
					t.Fatal(err)
				}
			}
			seed.Close()
			srv, _ := openWith(t, func(c *config.Server) { c.DB, c.LogRetention = dsn, tc.retention }, Options{})
			flush(t, srv)
			evs, err := srv.Store.ListLogs(t.Context(), store.LogFilter{Type: "fp"})
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, e := range evs {
				kept = append(kept, e.ID)
			}
			if strings.Join(kept, ",") != strings.Join(tc.wantKept, ",") {
				t.Errorf("kept %v, want %v", kept, tc.wantKept)
			}
		})
	}
}

package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
)

// startServer opens a real server on a loopback listener and returns its base URL and client.
func startServer(t *testing.T, mut func(*config.Server), opts ...func(*Options)) (*Server, string, *http.Client) {
	t.Helper()
	cfg := config.DefaultServer()
	cfg.DB = "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	if mut != nil {
		mut(&cfg)
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	o := Options{KEK: seal.NewKEK(), Migrate: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range opts {
		f(&o)
	}
	srv, err := Open(t.Context(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	if tc, err := srv.TLSConfig(); err != nil {
		t.Fatal(err)
	} else if tc != nil {
		roots := x509.NewCertPool()
		roots.AddCert(srv.SelfSignedCertificate().Leaf)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	return srv, strings.TrimSuffix(srv.Issuer, "/"), client
}

func getJSON(t *testing.T, c *http.Client, url string) (int, map[string]any) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func TestHealthAndReadiness(t *testing.T) {
	srv, base, c := startServer(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := getJSON(t, c, base+path); code != 200 || body["status"] != "ok" {
			t.Errorf("%s: %d %v", path, code, body)
		}
	}
	if code, body := getJSON(t, c, base+"/.well-known/openid-configuration"); code != 200 || body["issuer"] != srv.Issuer {
		t.Errorf("discovery: %d issuer %v, want %s", code, body["issuer"], srv.Issuer)
	}
}

func TestSelfSignedTLS(t *testing.T) {
	srv, base, c := startServer(t, func(cfg *config.Server) { cfg.TLSSelfSigned = true })
	if !strings.HasPrefix(srv.Issuer, "https://127.0.0.1:") {
		t.Fatalf("issuer = %s, want https://127.0.0.1:PORT/", srv.Issuer)
	}
	if code, _ := getJSON(t, c, base+"/healthz"); code != 200 {
		t.Fatalf("healthz over TLS: %d", code)
	}
}

// TestKeysForNewAPIs: an API added while the server runs (by `sesame apply` in another process,
// say) gets signing keys at housekeeping's next key check (every 2 s), published in the JWKS.
func TestKeysForNewAPIs(t *testing.T) {
	ticks := make(chan time.Time)
	srv, base, c := startServer(t, nil, func(o *Options) { o.keyTicks = ticks })
	if err := srv.Store.CreateResourceServer(t.Context(), store.ResourceServer{ID: store.NewID("", 12),
		Identifier: "https://es.example.com", SigningAlg: "ES256"}); err != nil {
		t.Fatal(err)
	}
	es256 := func() int {
		_, body := getJSON(t, c, base+"/.well-known/jwks.json")
		keys, _ := body["keys"].([]any)
		n := 0
		for _, k := range keys {
			if k.(map[string]any)["alg"] == "ES256" {
				n++
			}
		}
		return n
	}
	if n := es256(); n != 0 {
		t.Fatalf("before the key check: got %d ES256 keys, want none", n)
	}
	// Housekeeping takes one tick at a time: once it takes the second, the first check is done.
	ticks <- time.Now()
	ticks <- time.Now()
	if n := es256(); n != 2 { // current and next
		t.Fatalf("after a key check: got %d ES256 keys, want 2", n)
	}
}

// TestWarnsOfExposedDatabase checks the start-up warning for a database file that other users
// may read (one made before Sesame created it 0600), and its absence for a private one.
func TestWarnsOfExposedDatabase(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o600} {
		t.Run(fmt.Sprintf("%04o", uint32(mode)), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			if err := os.WriteFile(path, nil, mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil { // whatever the umask
				t.Fatal(err)
			}
			cfg := config.DefaultServer()
			cfg.DB = "sqlite://" + path
			cfg.Normalize()
			var logged bytes.Buffer
			srv, err := Open(t.Context(), cfg, Options{KEK: seal.NewKEK(), Migrate: true,
				Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			if err != nil {
				t.Fatal(err)
			}
			srv.Close()
			warned := strings.Contains(logged.String(), `level=WARN msg="database file is readable by other users`) &&
				strings.Contains(logged.String(), "path="+path+" mode=0644")
			if want := mode == 0o644; warned != want {
				t.Errorf("mode %04o: got warned=%v, want %v; log:\n%s", uint32(mode), warned, want, logged.String())
			}
		})
	}
}

// TestMFALogSenderRefused checks that serve refuses a tenant with the email or sms factor
// while mfa_sender is log (the default), naming the settings to change, and that a real
// sender or the development flag lets it start.
func TestMFALogSenderRefused(t *testing.T) {
	tests := []struct {
		name    string
		factors store.MFAFactors
		mut     func(*config.Server)
		wantErr string
	}{
		{"email with log", store.MFAFactors{Email: true}, nil,
			"mfa_sender is log, which writes live MFA codes to the server log, and the tenant enables the email factor: set mfa_sender (--mfa-sender, SESAME_MFA_SENDER) to smtp or webhook, or in development set dev_log_mfa_codes: true (--dev-log-mfa-codes)"},
		{"sms with explicit log", store.MFAFactors{SMS: true, OTP: true}, func(c *config.Server) { c.MFASender = "log" },
			"the tenant enables the sms factor"},
		{"email with development flag", store.MFAFactors{Email: true}, func(c *config.Server) { c.DevLogMFACodes = true }, ""},
		{"email with webhook", store.MFAFactors{Email: true, SMS: true}, func(c *config.Server) {
			c.MFASender, c.WebhookURL = "webhook", "https://hooks.example.com/mfa"
		}, ""},
		{"otp only with log", store.MFAFactors{OTP: true, RecoveryCode: true}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.DefaultServer()
			cfg.DB = "sqlite://" + filepath.Join(t.TempDir(), "s.db")
			if tc.mut != nil {
				tc.mut(&cfg)
			}
			cfg.Normalize()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			kek := seal.NewKEK()
			srv, err := Open(t.Context(), cfg, Options{KEK: kek, Migrate: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatalf("first start (no factors yet): %v", err)
			}
			if err := srv.Store.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.MFAFactors = tc.factors; return nil }); err != nil {
				t.Fatal(err)
			}
			srv.Close()
			srv, err = Open(t.Context(), cfg, Options{KEK: kek, Migrate: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err == nil {
				srv.Close()
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Open: got error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

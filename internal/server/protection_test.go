package server

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// TestProtectionSettingsWired drives a server built from config keys alone: trusted_proxies,
// rate_limit_ip_per_minute and mfa_sender outbox reach the token endpoint.
func TestProtectionSettingsWired(t *testing.T) {
	outbox := filepath.Join(t.TempDir(), "outbox")
	srv, ts := openWith(t, func(c *config.Server) {
		c.TrustedProxies = "127.0.0.0/8"
		c.RateLimitIPPerMinute = 4
		c.MFASender, c.OutboxDir = "outbox", outbox
	}, Options{})
	ap := guard.Defaults()
	ap.BruteForce.MaxAttempts = 2
	if err := srv.Store.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.AttackProtection = &ap; return nil }); err != nil {
		t.Fatal(err)
	}
	post := func(pw, xff string) *http.Response { t.Helper(); return postStreamLogin(t, ts.URL, pw, xff) }
	// Two failures from one client behind the proxy block it and mail the user a link.
	for range 2 {
		if res := post("wrong", "198.51.100.1"); res.StatusCode != http.StatusForbidden || res.Header.Get("X-RateLimit-Limit") != "4" {
			t.Fatalf("wrong password: got %d, X-RateLimit-Limit %q", res.StatusCode, res.Header.Get("X-RateLimit-Limit"))
		}
	}
	if res := post(streamPassword, "198.51.100.1"); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("blocked client: got %d, want 429", res.StatusCode)
	}
	flush(t, srv)
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox: got %d messages, want the unblock mail", len(files))
	}
	mail, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mail), srv.Issuer+"unblock?ticket=") || !strings.Contains(string(mail), "198.51.100.1") {
		t.Errorf("mail: got %q, want a link to %sunblock and the client's IP", mail, srv.Issuer)
	}
	// Another client behind the same proxy is neither blocked nor sharing the IP's bucket...
	if res := post(streamPassword, "198.51.100.2"); res.StatusCode != http.StatusOK || res.Header.Get("X-RateLimit-Remaining") != "3" {
		t.Fatalf("another client: got %d, X-RateLimit-Remaining %q, want 200 and 3", res.StatusCode, res.Header.Get("X-RateLimit-Remaining"))
	}
	// ...while the first one spends its bucket (4 a minute): the fourth request is still
	// counted (and refused by brute force), the fifth is refused by the rate limit.
	if res := post(streamPassword, "198.51.100.1"); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("X-RateLimit-Remaining") != "0" ||
		res.Header.Get("Retry-After") != "" {
		t.Fatalf("fourth request: got %d, X-RateLimit-Remaining %q, Retry-After %q, want 429, 0 and none",
			res.StatusCode, res.Header.Get("X-RateLimit-Remaining"), res.Header.Get("Retry-After"))
	}
	if res := post(streamPassword, "198.51.100.1"); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("fifth request: got %d Retry-After %q, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// TestIPv6ClientPrefixWired checks that ipv6_client_prefix decides which IPv6 addresses count
// as one client: two addresses of one /56 share the per-IP rate limit under a /56, and do not
// under the default /64.
func TestIPv6ClientPrefixWired(t *testing.T) {
	tests := []struct {
		name       string
		prefix     int
		wantSecond int
	}{
		{"default /64: another /64 is another client", 0, http.StatusOK},
		{"/56: one site is one client", 56, http.StatusTooManyRequests},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ts := openWith(t, func(c *config.Server) {
				c.TrustedProxies = "127.0.0.0/8"
				c.RateLimitIPPerMinute = 1
				c.IPv6ClientPrefix = tc.prefix
			}, Options{})
			post := func(xff string) int { t.Helper(); return postStreamLogin(t, ts.URL, streamPassword, xff).StatusCode }
			if got := post("2001:db8:9:100::1"); got != http.StatusOK {
				t.Fatalf("first request: got %d, want 200", got)
			}
			if got := post("2001:db8:9:1ff::1"); got != tc.wantSecond {
				t.Errorf("second request, from the same /56: got %d, want %d", got, tc.wantSecond)
			}
		})
	}
}

// postStreamLogin sends the stream client's password grant for its user with password pw, as
// the trusted proxy that forwards it for xff.
func postStreamLogin(t *testing.T, base, pw, xff string) *http.Response {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {streamClientID}, "client_secret": {streamSecret},
		"username": {"streamer@example.com"}, "password": {pw}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", xff)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

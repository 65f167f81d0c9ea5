package oauthserver_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

const (
	sameUserIPText  = "Too many login attempts for this user from this IP address. Please try again later."
	rateLimitedText = "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers."
)

func withRateLimits(l oauthserver.RateLimits) func(*oauthserver.Config) {
	return func(c *oauthserver.Config) { c.RateLimits = l }
}

// logCount counts the tenant log events of typ emitted so far.
func (e *env) logCount(typ string) int {
	e.t.Helper()
	return len(e.tenantLogs(typ))
}

func TestSameUserIPRateLimit(t *testing.T) {
	const ip1, ip2 = "203.0.113.20", "203.0.113.21"
	e := newEnv(t)
	e.trustForwardedFor()
	var list []attempt
	for range 20 { // 20 in a minute pass, right passwords included
		list = append(list, right(aliceEmail, alicePass, ip1))
	}
	refused := attempt{aliceEmail, alicePass, ip1, http.StatusTooManyRequests, "too_many_attempts", sameUserIPText}
	list = append(list, refused, refused,
		right(bobEmail, bobPass, ip1),     // another user from the same IP
		right(aliceEmail, alicePass, ip2)) // the same user from another IP
	e.attempts(list)
	r := e.postForm("/oauth/token", passwordForm(), "auth0-forwarded-for", ip1)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "6" {
		t.Fatalf("refused login: got %d Retry-After %q, want 429 and 6 (one login back every 6 s)", r.Status, r.Header.Get("Retry-After"))
	}
	// Then 10 a minute: one every 6 seconds.
	e.clock.Advance(6 * time.Second)
	e.attempts([]attempt{right(aliceEmail, alicePass, ip1), refused})
	// A flood of refusals is one limit_sul line a minute, not one each.
	if n := e.logCount("limit_sul"); n != 1 {
		t.Errorf("limit_sul events: got %d, want 1", n)
	}
	e.clock.Advance(time.Minute)
	e.attempts([]attempt{right(aliceEmail, alicePass, ip1)})
	// Refused logins were never judged: they did not count towards brute force.
	if n := e.logCount("limit_wc"); n != 0 {
		t.Errorf("limit_wc events: got %d, want 0", n)
	}
}

// rateHeaders returns a response's X-RateLimit-* values.
func rateHeaders(t *testing.T, r response) (limit, remaining int, reset int64) {
	t.Helper()
	var err1, err2, err3 error
	limit, err1 = strconv.Atoi(r.Header.Get("X-RateLimit-Limit"))
	remaining, err2 = strconv.Atoi(r.Header.Get("X-RateLimit-Remaining"))
	reset, err3 = strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("X-RateLimit-* headers: got %v", r.Header)
	}
	return limit, remaining, reset
}

func TestTokenRateLimits(t *testing.T) {
	type step struct {
		form          url.Values
		ip            string // auth0-forwarded-for (honoured for the confidential app)
		wantStatus    int
		wantRemaining int // -1: no X-RateLimit-* headers
		wantRetry     string
	}
	const ip1, ip2 = "198.51.100.30", "198.51.100.31"
	spa := passwordForm("client_id", spaID, "client_secret", "", "username", bobEmail, "password", bobPass)
	tests := []struct {
		name   string
		limits oauthserver.RateLimits
		steps  []step
		// wantLimits is how many api_limit events are logged.
		wantLimits int
	}{
		{"off by default: no headers", oauthserver.RateLimits{}, []step{
			{passwordForm(), ip1, 200, -1, ""},
		}, 0},
		{"per IP", oauthserver.RateLimits{PerIP: 3}, []step{
			{passwordForm(), ip1, 200, 2, ""},
			{passwordForm("password", "wrong"), ip1, 403, 1, ""}, // failures count too
			{passwordForm(), ip1, 200, 0, ""},
			{passwordForm(), ip1, 429, 0, "20"}, // 3 a minute: one back every 20 s
			{passwordForm(), ip1, 429, 0, "20"},
			{passwordForm(), ip2, 200, 2, ""}, // the end user's IP, forwarded by a trusted client
		}, 1},
		{"per client", oauthserver.RateLimits{PerClient: 2}, []step{
			{passwordForm(), ip1, 200, 1, ""},
			{passwordForm(), ip2, 200, 0, ""},
			{passwordForm(), ip1, 429, 0, "30"},
			{spa, "", 200, 1, ""}, // another client has its own bucket
		}, 1},
		{"unauthenticated requests spend no client's budget", oauthserver.RateLimits{PerClient: 1}, []step{
			{passwordForm("client_secret", "wrong-secret-wrong-secret-wrong-secret"), ip1, 401, -1, ""},
			{passwordForm("client_secret", "wrong-secret-wrong-secret-wrong-secret"), ip1, 401, -1, ""},
			{passwordForm(), ip1, 200, 0, ""},
		}, 0},
		{"tightest bucket is reported", oauthserver.RateLimits{PerIP: 100, PerClient: 5}, []step{
			{passwordForm(), ip1, 200, 4, ""},
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withRateLimits(tc.limits))
			e.trustForwardedFor()
			for i, s := range tc.steps {
				var hdr []string
				if s.ip != "" {
					hdr = []string{"auth0-forwarded-for", s.ip}
				}
				r := e.postForm("/oauth/token", s.form, hdr...)
				if r.Status != s.wantStatus {
					t.Fatalf("step %d: got %d %s, want %d", i, r.Status, r.Raw, s.wantStatus)
				}
				if s.wantRemaining < 0 {
					if h := r.Header.Get("X-RateLimit-Limit"); h != "" {
						t.Errorf("step %d: got X-RateLimit-Limit %q, want none", i, h)
					}
					continue
				}
				_, remaining, reset := rateHeaders(t, r)
				if remaining != s.wantRemaining {
					t.Errorf("step %d: X-RateLimit-Remaining %d, want %d", i, remaining, s.wantRemaining)
				}
				now := e.clock.Now().Unix()
				if reset < now || reset > now+60 {
					t.Errorf("step %d: X-RateLimit-Reset %d, want within a minute of %d", i, reset, now)
				}
				if got := r.Header.Get("Retry-After"); got != s.wantRetry {
					t.Errorf("step %d: Retry-After %q, want %q", i, got, s.wantRetry)
				}
				if s.wantStatus == http.StatusTooManyRequests && (r.str("error") != "too_many_requests" || r.str("error_description") != rateLimitedText) {
					t.Errorf("step %d: got %s, want too_many_requests", i, r.Raw)
				}
			}
			if n := e.logCount("api_limit"); n != tc.wantLimits {
				t.Errorf("api_limit events: got %d, want %d", n, tc.wantLimits)
			}
		})
	}
}

func TestTokenRateLimitRefills(t *testing.T) {
	e := newEnv(t, withRateLimits(oauthserver.RateLimits{PerIP: 2}))
	for range 2 {
		e.login()
	}
	if r := e.postForm("/oauth/token", passwordForm()); r.Status != http.StatusTooManyRequests {
		t.Fatalf("third request: got %d, want 429", r.Status)
	}
	e.clock.Advance(30 * time.Second) // 2 a minute: one back every 30 s
	r := e.login()
	if _, remaining, _ := rateHeaders(t, r); remaining != 0 {
		t.Errorf("X-RateLimit-Remaining %d, want 0", remaining)
	}
}

func TestRefreshTokenRateLimit(t *testing.T) {
	e := newEnv(t, withRateLimits(oauthserver.RateLimits{PerRefreshToken: 2}))
	refresh := func(rt string) response {
		return e.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {appID},
			"client_secret": {appSecret}, "refresh_token": {rt}})
	}
	rt := e.login("scope", "offline_access").str("refresh_token")
	other := e.login("scope", "offline_access").str("refresh_token")
	for i := range 2 {
		r := refresh(rt)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh %d: got %d %s", i, r.Status, r.Raw)
		}
		rt = r.str("refresh_token")
	}
	// The family's third redemption within the minute is refused, whatever token of it is used.
	r := refresh(rt)
	if r.Status != http.StatusTooManyRequests || r.str("error") != "too_many_requests" || r.Header.Get("Retry-After") != "30" {
		t.Fatalf("third refresh: got %d %s Retry-After %q, want 429 too_many_requests, 30", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	// The token was not spent: after the wait it still works.
	if r := refresh(other); r.Status != http.StatusOK {
		t.Fatalf("another family: got %d %s, want 200", r.Status, r.Raw)
	}
	e.clock.Advance(30 * time.Second)
	if r := refresh(rt); r.Status != http.StatusOK {
		t.Fatalf("after 30 s: got %d %s, want 200", r.Status, r.Raw)
	}
	if n := e.logCount("api_limit"); n != 1 {
		t.Errorf("api_limit events: got %d, want 1", n)
	}
}

func TestTrustedProxies(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		proxies []netip.Prefix
		xff     string
		wantIP  string
	}{
		{"behind a trusted proxy", loopback, "192.0.2.1, 198.51.100.40", "198.51.100.40"},
		{"through a chain of trusted proxies", append(loopback, netip.MustParsePrefix("10.0.0.0/8")), "198.51.100.41, 10.1.2.3", "198.51.100.41"},
		{"untrusted peer: header ignored", nil, "198.51.100.42", "127.0.0.1"},
		{"garbage header: the proxy", loopback, "not-an-ip", "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *oauthserver.Config) { c.TrustedProxies = tc.proxies })
			e.setAttackProtection(func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 })
			for range 2 {
				e.postForm("/oauth/token", passwordForm("password", "wrong"), "X-Forwarded-For", tc.xff)
			}
			// Blocked for the client the proxy named...
			if r := e.postForm("/oauth/token", passwordForm(), "X-Forwarded-For", tc.xff); r.Status != http.StatusTooManyRequests {
				t.Fatalf("after 2 failures: got %d %s, want 429", r.Status, r.Raw)
			}
			evs := e.tenantLogs("fp")
			if len(evs) == 0 || evs[0].IP != tc.wantIP || evs[0].ClientIP != tc.wantIP {
				t.Fatalf("fp events: got %+v, want ip and client_ip %s", evs, tc.wantIP)
			}
			// ...and only for it, when the proxy is trusted: another client behind it is not.
			want := http.StatusOK
			if tc.proxies == nil {
				want = http.StatusTooManyRequests // the header is not believed: same caller
			}
			if r := e.postForm("/oauth/token", passwordForm(), "X-Forwarded-For", "203.0.113.99"); r.Status != want {
				t.Errorf("another forwarded client: got %d %s, want %d", r.Status, r.Raw, want)
			}
		})
	}
}

// TestPublicClientRateLimitPerIP checks that a burst for a public client (no secret: anyone
// can send its client_id) from one address does not lock the client out for everyone else.
func TestPublicClientRateLimitPerIP(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	e := newEnv(t, withRateLimits(oauthserver.RateLimits{PerClient: 3}), func(c *oauthserver.Config) { c.TrustedProxies = loopback })
	spa := passwordForm("client_id", spaID, "client_secret", "", "username", bobEmail, "password", "wrong")
	for i := range 3 {
		if r := e.postForm("/oauth/token", spa, "X-Forwarded-For", "198.51.100.80"); r.Status != http.StatusForbidden {
			t.Fatalf("request %d: got %d %s, want 403", i, r.Status, r.Raw)
		}
	}
	if r := e.postForm("/oauth/token", spa, "X-Forwarded-For", "198.51.100.80"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("fourth request from the same address: got %d %s, want 429", r.Status, r.Raw)
	}
	r := e.postForm("/oauth/token", passwordForm("client_id", spaID, "client_secret", "", "username", bobEmail, "password", bobPass),
		"X-Forwarded-For", "198.51.100.81")
	if r.Status != http.StatusOK {
		t.Fatalf("the public client from another address: got %d %s, want 200", r.Status, r.Raw)
	}
	// A confidential client proved itself: its bucket is one, whatever the address.
	for i, ip := range []string{"198.51.100.82", "198.51.100.83", "198.51.100.84"} {
		if r := e.postForm("/oauth/token", passwordForm(), "X-Forwarded-For", ip); r.Status != http.StatusOK {
			t.Fatalf("confidential request %d: got %d %s, want 200", i, r.Status, r.Raw)
		}
	}
	if r := e.postForm("/oauth/token", passwordForm(), "X-Forwarded-For", "198.51.100.85"); r.Status != http.StatusTooManyRequests {
		t.Errorf("fourth confidential request: got %d %s, want 429", r.Status, r.Raw)
	}
}

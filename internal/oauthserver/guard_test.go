package oauthserver_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

// The attack-protection texts of WIRE.md §1 and §5, as SDKs match them.
const (
	bruteForceText = "Your account has been blocked after multiple consecutive login attempts. We've sent you a notification via your preferred contact method with instructions on how to unblock it."
	ipThrottleText = "We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator."
	leakedText     = "This login attempt has been blocked because the password you're using was previously disclosed through a data breach (not in this application). Please check your email for more information."
)

// setAttackProtection stores Auth0's defaults changed by edit.
func (e *env) setAttackProtection(edit func(*store.AttackProtection)) {
	e.t.Helper()
	ap := guard.Defaults()
	edit(&ap)
	if err := guard.Validate(ap); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.UpdateTenant(e.t.Context(), func(tn *store.Tenant) error { tn.AttackProtection = &ap; return nil }); err != nil {
		e.t.Fatal(err)
	}
}

// trustForwardedFor lets the confidential app speak for end users' IPs.
func (e *env) trustForwardedFor() {
	e.t.Helper()
	if err := e.st.UpdateClient(e.t.Context(), appID, func(c *store.Client) error { c.IsTokenEndpointIPHeaderTrusted = true; return nil }); err != nil {
		e.t.Fatal(err)
	}
}

// attempt is one password grant by the confidential app, for user from ip.
type attempt struct {
	user, pass, ip string
	wantStatus     int
	wantError      string // error code, "" for success
	wantText       string // error_description, checked when not empty
}

func (e *env) attempts(list []attempt) {
	e.t.Helper()
	for i, a := range list {
		r := e.postForm("/oauth/token", passwordForm("username", a.user, "password", a.pass), "auth0-forwarded-for", a.ip)
		if r.Status != a.wantStatus || r.str("error") != a.wantError || (a.wantText != "" && r.str("error_description") != a.wantText) {
			e.t.Fatalf("attempt %d (%s from %s): got %d %s %q, want %d %s %q", i, a.user, a.ip, r.Status,
				r.str("error"), r.str("error_description"), a.wantStatus, a.wantError, a.wantText)
		}
		if a.wantStatus == http.StatusTooManyRequests && r.Header.Get("Cache-Control") != "no-store" {
			e.t.Errorf("attempt %d: got Cache-Control %q, want no-store", i, r.Header.Get("Cache-Control"))
		}
	}
}

func wrong(user, ip string, n int) []attempt {
	out := make([]attempt, n)
	for i := range out {
		out[i] = attempt{user, "wrong password", ip, http.StatusForbidden, "invalid_grant", "Wrong email or password."}
	}
	return out
}

func right(user, pass, ip string) attempt { return attempt{user, pass, ip, http.StatusOK, "", ""} }

func blockedBF(user, pass, ip string) attempt {
	return attempt{user, pass, ip, http.StatusTooManyRequests, "too_many_attempts", bruteForceText}
}

func TestBruteForceProtection(t *testing.T) {
	const ip1, ip2 = "203.0.113.10", "203.0.113.11"
	tests := []struct {
		name     string
		settings func(*store.AttackProtection)
		attempts []attempt
		wantWC   int // limit_wc events
	}{
		{"10 failures then blocked even with the right password", nil,
			append(wrong(aliceEmail, ip1, 10), blockedBF(aliceEmail, alicePass, ip1), blockedBF(aliceEmail, alicePass, ip1)), 1},
		{"11 wrong passwords then the right one", nil,
			append(append(wrong(aliceEmail, ip1, 10), blockedBF(aliceEmail, "wrong password", ip1)), blockedBF(aliceEmail, alicePass, ip1)), 1},
		{"same user from another IP is not blocked", nil,
			append(append(wrong(aliceEmail, ip1, 10), blockedBF(aliceEmail, alicePass, ip1)), right(aliceEmail, alicePass, ip2)), 1},
		{"identifier is case-insensitive", nil,
			append(wrong("ALICE@example.com", ip1, 10), blockedBF(aliceEmail, alicePass, ip1)), 1},
		{"unknown user is counted too", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 3 },
			append(wrong("nobody@example.com", ip1, 3), blockedBF("nobody@example.com", "x", ip1)), 1},
		{"success resets the count", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 3 },
			append(append(wrong(aliceEmail, ip1, 2), right(aliceEmail, alicePass, ip1)), append(wrong(aliceEmail, ip1, 3), blockedBF(aliceEmail, alicePass, ip1))...), 1},
		{"allowlisted IP is never blocked", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Allowlist = []string{"203.0.113.0/24", "2001:db8::/32"}
		}, append(append(wrong(aliceEmail, ip1, 5), right(aliceEmail, alicePass, ip1)), append(wrong(aliceEmail, "2001:db8::5", 3), right(aliceEmail, alicePass, "2001:db8::5"))...), 0},
		{"monitoring mode logs but never blocks", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Shields = []string{guard.ShieldUserNotification}
		}, append(wrong(aliceEmail, ip1, 5), right(aliceEmail, alicePass, ip1)), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.trustForwardedFor()
			if tc.settings != nil {
				e.setAttackProtection(tc.settings)
			}
			e.attempts(tc.attempts)
			if evs := e.tenantLogs("limit_wc"); len(evs) != tc.wantWC {
				t.Errorf("limit_wc events: got %d, want %d", len(evs), tc.wantWC)
			}
		})
	}
}

func TestBruteForceUntrustedHeaderIsIgnored(t *testing.T) {
	// Without trust, auth0-forwarded-for does not change the IP: varying it does not escape.
	e := newEnv(t)
	e.setAttackProtection(func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 })
	e.attempts(append(wrong(aliceEmail, "192.0.2.1", 2), blockedBF(aliceEmail, alicePass, "192.0.2.2")))
}

func TestSuspiciousIPThrottling(t *testing.T) {
	const ip = "198.51.100.7"
	e := newEnv(t)
	e.trustForwardedFor()
	e.setAttackProtection(func(ap *store.AttackProtection) {
		ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: 5, Rate: 864000}
	})
	var list []attempt
	for i := range 5 { // one failure each on five accounts: no brute force, but the IP's bucket empties
		list = append(list, wrong(fmt.Sprintf("user%d@example.com", i), ip, 1)...)
	}
	list = append(list,
		attempt{aliceEmail, alicePass, ip, http.StatusTooManyRequests, "too_many_attempts", ipThrottleText},
		right(aliceEmail, alicePass, "198.51.100.8"))
	e.attempts(list)
	if evs := e.tenantLogs("limit_mu"); len(evs) != 1 || evs[0].IP != ip {
		t.Errorf("limit_mu events: got %+v, want one for %s", evs, ip)
	}
	// One token comes back every 864 s.
	e.clock.Advance(864 * time.Second)
	e.attempts([]attempt{right(bobEmail, bobPass, ip)})
}

func TestBreachedPassword(t *testing.T) {
	tests := []struct {
		name     string
		settings func(*store.AttackProtection)
		pass     string
		want     attempt
		wantLeak int
	}{
		{"off by default", nil, "AUTH0-TEST-secret", right("leaky@example.com", "", ""), 0},
		{"test prefix is refused", func(ap *store.AttackProtection) {
			ap.Breached.Enabled, ap.Breached.Shields = true, []string{guard.ShieldBlock}
		}, "AUTH0-TEST-secret", attempt{wantStatus: http.StatusUnauthorized, wantError: "password_leaked", wantText: leakedText}, 1},
		{"imported hash is refused", func(ap *store.AttackProtection) {
			ap.Breached.Enabled, ap.Breached.Shields = true, []string{guard.ShieldBlock}
		}, "password1234", attempt{wantStatus: http.StatusUnauthorized, wantError: "password_leaked", wantText: leakedText}, 1},
		{"monitoring logs only", func(ap *store.AttackProtection) {
			ap.Breached.Enabled, ap.Breached.Shields = true, []string{guard.ShieldAdminNotification}
		}, "AUTH0-TEST-secret", right("", "", ""), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.trustForwardedFor()
			if tc.settings != nil {
				e.setAttackProtection(tc.settings)
			}
			// SHA-1("password1234"), as a Pwned Passwords download line.
			if _, err := e.st.AddBreachedHashes(t.Context(), []string{"E6B6AFBD6D76BB5D2041542D7D2E3FAC5BB05593"}); err != nil {
				t.Fatal(err)
			}
			e.mustUser(store.User{Connection: connName, Email: "leaky@example.com"}, tc.pass)
			a := tc.want
			a.user, a.pass, a.ip = "leaky@example.com", tc.pass, "192.0.2.50"
			e.attempts([]attempt{a})
			// A wrong password is never reported as breached.
			e.attempts(wrong("leaky@example.com", "192.0.2.50", 1))
			if evs := e.tenantLogs("pwd_leak"); len(evs) != tc.wantLeak {
				t.Errorf("pwd_leak events: got %d, want %d", len(evs), tc.wantLeak)
			}
		})
	}
}

func TestParallelWrongPasswordsCannotBypass(t *testing.T) {
	e := newEnv(t)
	e.trustForwardedFor()
	statuses := make([]int, 20)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = e.postForm("/oauth/token", passwordForm("password", "wrong password"), "auth0-forwarded-for", "192.0.2.77").Status
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusForbidden] != guard.DefaultMaxAttempts || count[http.StatusTooManyRequests] != 20-guard.DefaultMaxAttempts {
		t.Errorf("20 parallel wrong passwords: got statuses %v, want %d × 403 and %d × 429", count, guard.DefaultMaxAttempts, 20-guard.DefaultMaxAttempts)
	}
	e.attempts([]attempt{blockedBF(aliceEmail, alicePass, "192.0.2.77")})
}

func TestUnblockReleasesBruteForce(t *testing.T) {
	tests := []struct {
		name    string
		release func(e *env, svc *admin.Service) error
		wantLog int // ublkdu events
	}{
		{"admin unblock", func(e *env, svc *admin.Service) error { return svc.UnblockUser(e.t.Context(), e.bob) }, 1},
		{"password change", func(e *env, svc *admin.Service) error {
			return svc.SetPassword(e.t.Context(), e.bob, "Bob's New Password 2")
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.trustForwardedFor()
			e.setAttackProtection(func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 })
			// Blocked by email from one IP and by username from another.
			e.attempts(append(append(wrong(bobEmail, "192.0.2.1", 2), blockedBF(bobEmail, bobPass, "192.0.2.1")),
				append(wrong("bob", "192.0.2.2", 2), blockedBF("bob", bobPass, "192.0.2.2"))...))
			svc := &admin.Service{Store: e.st, Hasher: e.hasher, Now: e.clock.Now}
			if err := tc.release(e, svc); err != nil {
				t.Fatalf("release: %v", err)
			}
			pass := bobPass
			if tc.wantLog == 0 {
				pass = "Bob's New Password 2"
			}
			e.attempts([]attempt{right(bobEmail, pass, "192.0.2.1"), right("bob", pass, "192.0.2.2")})
			evs, err := e.st.ListLogs(t.Context(), store.LogFilter{Type: "ublkdu"})
			if err != nil || len(evs) != tc.wantLog || (tc.wantLog == 1 && evs[0].UserID != e.bob) {
				t.Errorf("ublkdu events: got %+v, %v, want %d for bob", evs, err, tc.wantLog)
			}
		})
	}
}

// countVerifications wraps the server's real directories so that n counts password
// verifications: every Authenticate call verifies one password (a dummy one for an unknown
// user), whatever its outcome.
func countVerifications(n *atomic.Int64) func(*oauthserver.Config) {
	return func(c *oauthserver.Config) { c.Directories = countingDirs{Directories: c.Directories, n: n} }
}

type countingDirs struct {
	oauthserver.Directories
	n *atomic.Int64
}

func (d countingDirs) Directory(c store.Connection) (directory.Directory, error) {
	dir, err := d.Directories.Directory(c)
	if err != nil {
		return nil, err
	}
	return countingDir{Directory: dir, n: d.n}, nil
}

type countingDir struct {
	directory.Directory
	n *atomic.Int64
}

func (d countingDir) Authenticate(ctx context.Context, username, pw string) (directory.Identity, error) {
	d.n.Add(1)
	return d.Directory.Authenticate(ctx, username, pw)
}

// TestSuspiciousIPBurstVerifiesAtMostTheBucket sends rounds of parallel wrong-password logins
// for distinct accounts (so brute force never steps in) from one IP: the IP's bucket must bound
// how many passwords each burst gets verified, not merely how many come after it.
func TestSuspiciousIPBurstVerifiesAtMostTheBucket(t *testing.T) {
	const capacity, burst, rounds, ip = 5, 40, 20, "198.51.100.60"
	var verified atomic.Int64
	e := newEnv(t, countVerifications(&verified))
	e.trustForwardedFor()
	e.setAttackProtection(func(ap *store.AttackProtection) {
		ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: capacity, Rate: 864000}
	})
	for round := range rounds {
		verified.Store(0)
		statuses := make([]int, burst)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				form := passwordForm("username", fmt.Sprintf("r%d-u%d@example.com", round, i), "password", "wrong password")
				statuses[i] = e.postForm("/oauth/token", form, "auth0-forwarded-for", ip).Status
			})
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		got := verified.Load()
		t.Logf("round %d: %d of %d passwords verified, statuses %v", round, got, burst, count)
		if got != capacity || count[http.StatusForbidden] != capacity || count[http.StatusTooManyRequests] != burst-capacity {
			t.Errorf("round %d: %d of %d passwords verified, statuses %v; want %d verified, %d × 403 and %d × 429",
				round, got, burst, count, capacity, capacity, burst-capacity)
		}
		e.clock.Advance(capacity * 864 * time.Second) // the bucket is full again
	}
}

// Resolve forwards the real directory's optional ability, which the embedded interface hides.
func (d countingDir) Resolve(ctx context.Context, login string) (string, error) {
	if r, ok := d.Directory.(directory.Resolver); ok {
		return r.Resolve(ctx, login)
	}
	return "", nil
}

// TestBruteForceCountsPerUser checks that a user's email and username share one brute-force
// count, while names of nobody are counted each on its own and refused with the very same
// answer, so that the block tells nothing of who exists.
func TestBruteForceCountsPerUser(t *testing.T) {
	const ip1, ip2 = "203.0.113.40", "203.0.113.41"
	e := newEnv(t)
	e.trustForwardedFor()
	e.setAttackProtection(func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 3 })
	e.attempts(append(append(wrong(bobEmail, ip1, 2), wrong("bob", ip1, 1)...),
		blockedBF(bobEmail, bobPass, ip1), blockedBF("bob", bobPass, ip1), blockedBF("BOB@example.com", bobPass, ip1),
		right("bob", bobPass, ip2))) // another IP is another pair
	e.attempts(append(wrong("ghost@example.com", ip1, 3),
		blockedBF("ghost@example.com", "x", ip1),
		attempt{"ghost", "x", ip1, http.StatusForbidden, "invalid_grant", "Wrong email or password."}))
	known := e.postForm("/oauth/token", passwordForm("username", "bob", "password", "x"), "auth0-forwarded-for", ip1)
	unknown := e.postForm("/oauth/token", passwordForm("username", "ghost@example.com", "password", "x"), "auth0-forwarded-for", ip1)
	if known.Status != unknown.Status || known.Raw != unknown.Raw {
		t.Errorf("blocked known user: %d %s; blocked unknown name: %d %s; want the same answer", known.Status, known.Raw, unknown.Status, unknown.Raw)
	}
	// Auth0's user-blocks, by user and by identifier, see the user's count and release it.
	svc := &admin.Service{Store: e.st, Hasher: e.hasher, Now: e.clock.Now}
	for _, list := range []func() ([]admin.UserBlock, error){
		func() ([]admin.UserBlock, error) { return svc.UserBlocks(t.Context(), e.bob) },
		func() ([]admin.UserBlock, error) { return svc.IdentifierBlocks(t.Context(), "bob") },
	} {
		bs, err := list()
		if err != nil || len(bs) != 1 || bs[0].IP != ip1 || bs[0].Connection != connName || bs[0].Attempts < 3 {
			t.Errorf("blocks: got %+v, %v, want bob's one block from %s in %s", bs, err, ip1, connName)
		}
	}
	if n, err := svc.UnblockIdentifier(t.Context(), "bob"); err != nil || n != 1 {
		t.Errorf("UnblockIdentifier: got %d, %v, want 1 counter released", n, err)
	}
	e.attempts([]attempt{right(bobEmail, bobPass, ip1), blockedBF("ghost@example.com", "x", ip1)})
}

// TestIPv6ClientsCountedPerNetwork checks that the addresses of one IPv6 /64, which one
// subscriber can all use, share one IP bucket and one brute-force count, while IPv4 addresses
// count alone.
func TestIPv6ClientsCountedPerNetwork(t *testing.T) {
	e := newEnv(t)
	e.trustForwardedFor()
	e.setAttackProtection(func(ap *store.AttackProtection) {
		ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: 3, Rate: 864000}
		ap.BruteForce.MaxAttempts = 2
	})
	throttled := attempt{aliceEmail, alicePass, "2001:db8:7:1:ffff::1", http.StatusTooManyRequests, "too_many_attempts", ipThrottleText}
	e.attempts(append(append(append(append(
		wrong("user1@example.com", "2001:db8:7:1::1", 1),
		wrong("user2@example.com", "2001:db8:7:1::2", 1)...),
		wrong("user3@example.com", "2001:db8:7:1:abcd:ef01:2345:6789", 1)...),
		throttled, right(aliceEmail, alicePass, "2001:db8:7:2::1")), // the next /64 is another client
		// Brute force: alice from one /64, under two addresses.
		wrong(aliceEmail, "2001:db8:8:1::1", 1)...))
	e.attempts(append(wrong(aliceEmail, "2001:db8:8:1::2", 1),
		blockedBF(aliceEmail, alicePass, "2001:db8:8:1::3"), right(aliceEmail, alicePass, "2001:db8:8:2::1"),
		// IPv4: each address alone.
		attempt{"user4@example.com", "x", "198.51.100.70", http.StatusForbidden, "invalid_grant", "Wrong email or password."},
		attempt{"user5@example.com", "x", "198.51.100.70", http.StatusForbidden, "invalid_grant", "Wrong email or password."},
		right(bobEmail, bobPass, "198.51.100.71")))
}

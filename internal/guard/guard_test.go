package guard_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newGuard returns a Guard over a fresh in-memory SQLite store holding settings (nil: defaults).
func newGuard(t *testing.T, edit func(*store.AttackProtection)) (*guard.Guard, *sqlstore.Store, *clock) {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if edit != nil {
		ap := guard.Defaults()
		edit(&ap)
		if err := st.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.AttackProtection = &ap; return nil }); err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
	}
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return guard.New(st, c.now, guard.Options{}), st, c
}

// newGuardWith is newGuard with deployment options.
func newGuardWith(t *testing.T, o guard.Options, edit func(*store.AttackProtection)) (*guard.Guard, *clock) {
	t.Helper()
	_, st, c := newGuard(t, edit)
	return guard.New(st, c.now, o), c
}

// step is one login attempt of a scenario.
type step struct {
	id, ip     string
	user       string        // the user id resolved from id, "" for nobody
	ok         bool          // the password is right
	after      time.Duration // clock advance before the attempt
	wantReason guard.Reason  // 0: not blocked
	wantEvents string        // event types logged, space-separated
}

// run plays steps against g, as the password grant does.
func run(t *testing.T, g *guard.Guard, c *clock, steps []step) {
	t.Helper()
	for i, s := range steps {
		c.add(s.after)
		a := &guard.Attempt{Identifier: s.id, UserID: s.user, IP: s.ip}
		var evs []guard.Event
		err := g.Check(t.Context(), a)
		if err == nil {
			if s.ok {
				err = g.Success(t.Context(), a)
			} else {
				evs, err = g.Failure(t.Context(), a)
			}
		}
		var be *guard.BlockedError
		var got guard.Reason
		if errors.As(err, &be) {
			got = be.Reason
		} else if err != nil {
			t.Fatalf("step %d: got error %v", i, err)
		}
		if got != s.wantReason {
			t.Fatalf("step %d (%s from %s): got blocked %v, want %v", i, s.id, s.ip, got, s.wantReason)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		if g := strings.Join(types, " "); g != s.wantEvents {
			t.Errorf("step %d: got events %q, want %q", i, g, s.wantEvents)
		}
	}
}

// fails is n failed attempts of id from ip; the one reaching max logs limit_wc.
func fails(id, ip string, n, max int) []step {
	var out []step
	for i := 1; i <= n; i++ {
		s := step{id: id, ip: ip}
		if i == max {
			s.wantEvents = "limit_wc"
		}
		out = append(out, s)
	}
	return out
}

func TestBruteForce(t *testing.T) {
	const ip, other = "203.0.113.7", "198.51.100.1"
	tests := []struct {
		name  string
		edit  func(*store.AttackProtection)
		steps []step
	}{
		{"blocked after max attempts, even with the right password", nil, append(fails("alice@example.com", ip, 10, 10),
			step{id: "alice@example.com", ip: ip, ok: true, wantReason: guard.BruteForce})},
		{"identifier is case-insensitive", nil, append(fails("Alice@Example.com", ip, 10, 10),
			step{id: "alice@example.COM", ip: ip, ok: true, wantReason: guard.BruteForce})},
		{"another IP is not blocked", nil, append(fails("alice", ip, 10, 10),
			step{id: "alice", ip: other, ok: true})},
		{"count per identifier blocks every IP", func(ap *store.AttackProtection) {
			ap.BruteForce.Mode = guard.ModePerIdentifier
			ap.BruteForce.MaxAttempts = 3
		}, append(fails("alice", ip, 3, 3), step{id: "alice", ip: other, ok: true, wantReason: guard.BruteForce})},
		{"success resets the count", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 3 },
			append(append(fails("bob", ip, 2, 3), step{id: "bob", ip: ip, ok: true}), fails("bob", ip, 3, 3)...)},
		{"allowlisted IP is never blocked", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Allowlist = []string{"203.0.113.0/24"}
		}, []step{{id: "carol", ip: ip}, {id: "carol", ip: ip}, {id: "carol", ip: ip}, {id: "carol", ip: ip, ok: true}}},
		{"allowlisted IPv6 is never blocked", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 1
			ap.BruteForce.Allowlist = []string{"2001:db8::/32"}
		}, []step{{id: "carol", ip: "2001:db8::1"}, {id: "carol", ip: "2001:db8::1", ok: true}}},
		{"monitoring mode logs but never blocks", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Shields = []string{guard.ShieldUserNotification}
		}, append(fails("dave", ip, 4, 2), step{id: "dave", ip: ip, ok: true})},
		{"disabled counts nothing", func(ap *store.AttackProtection) {
			ap.BruteForce.Enabled = false
			ap.BruteForce.MaxAttempts = 1
		}, []step{{id: "erin", ip: ip}, {id: "erin", ip: ip}, {id: "erin", ip: ip, ok: true}}},
		{"released 30 days after the last failure", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 },
			append(fails("frank", ip, 2, 2), step{id: "frank", ip: ip, ok: true, after: guard.CounterExpiry + time.Second})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _, c := newGuard(t, tc.edit)
			run(t, g, c, tc.steps)
		})
	}
}

func TestUnblock(t *testing.T) {
	g, _, c := newGuard(t, func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 })
	var steps []step
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		steps = append(steps, fails("grace@example.com", ip, 2, 2)...)
		steps = append(steps, step{id: "grace@example.com", ip: ip, ok: true, wantReason: guard.BruteForce})
	}
	steps = append(steps, fails("grace@example.comx", "192.0.2.1", 2, 2)...)
	run(t, g, c, steps)
	n, err := g.Unblock(t.Context(), "", "Grace@example.com", "grace", "")
	if err != nil || n != 2 {
		t.Fatalf("Unblock: got %d, %v, want 2, nil", n, err)
	}
	run(t, g, c, []step{
		{id: "grace@example.com", ip: "192.0.2.1", ok: true},
		{id: "grace@example.com", ip: "192.0.2.2", ok: true},
		{id: "grace@example.comx", ip: "192.0.2.1", ok: true, wantReason: guard.BruteForce},
	})
}

func TestBlocks(t *testing.T) {
	const ip1, ip2, ip3 = "192.0.2.1", "192.0.2.2", "192.0.2.3"
	// blockHenry: henry blocked from ip1 (one refused attempt on top) and ip2, one failure
	// short from ip3; hank (another identifier) blocked from ip1.
	blockHenry := func(t *testing.T, g *guard.Guard, c *clock) {
		t.Helper()
		steps := append(fails("Henry@Example.com", ip1, 2, 2), step{id: "henry@example.com", ip: ip1, wantReason: guard.BruteForce})
		steps = append(steps, fails("henry@example.com", ip2, 2, 2)...)
		steps = append(steps, fails("henry@example.com", ip3, 1, 2)...)
		run(t, g, c, append(steps, fails("hank", ip1, 2, 2)...))
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := start.Add(guard.CounterExpiry)
	tests := []struct {
		name string
		edit func(*store.AttackProtection)
		want []guard.Block
	}{
		{"at or over max attempts, per IP", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 }, []guard.Block{
			{Identifier: "henry@example.com", IP: ip1, Attempts: 3, Until: until},
			{Identifier: "henry@example.com", IP: ip2, Attempts: 2, Until: until},
		}},
		{"a higher max_attempts releases them", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 4 }, nil},
		{"allowlisted IP is not blocked", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Allowlist = []string{ip1}
		}, []guard.Block{{Identifier: "henry@example.com", IP: ip2, Attempts: 2, Until: until}}},
		{"monitoring mode blocks nothing", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Shields = []string{guard.ShieldUserNotification}
		}, nil},
		{"per identifier ignores per-IP counters", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Mode = guard.ModePerIdentifier
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Counted under max_attempts 2, per IP; then the settings under test apply.
			g, st, c := newGuard(t, func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 })
			blockHenry(t, g, c)
			ap := guard.Defaults()
			tc.edit(&ap)
			if err := st.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.AttackProtection = &ap; return nil }); err != nil {
				t.Fatal(err)
			}
			got, err := g.Blocks(t.Context(), "", "HENRY@example.com", "henry@example.com", "")
			if err != nil {
				t.Fatalf("Blocks: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Blocks: got %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("per identifier, from any IP", func(t *testing.T) {
		g, _, c := newGuard(t, func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 2
			ap.BruteForce.Mode = guard.ModePerIdentifier
		})
		run(t, g, c, append(fails("ivy", ip1, 1, 2), step{id: "ivy", ip: ip2, after: time.Hour, wantEvents: "limit_wc"}))
		got, err := g.Blocks(t.Context(), "", "ivy")
		want := []guard.Block{{Identifier: "ivy", Attempts: 2, Until: until.Add(time.Hour)}}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Blocks: got %+v, %v, want %+v", got, err, want)
		}
	})
	t.Run("none after Unblock", func(t *testing.T) {
		g, _, c := newGuard(t, func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 })
		blockHenry(t, g, c)
		if _, err := g.Unblock(t.Context(), "", "henry@example.com"); err != nil {
			t.Fatal(err)
		}
		got, err := g.Blocks(t.Context(), "", "henry@example.com", "hank")
		want := []guard.Block{{Identifier: "hank", IP: ip1, Attempts: 2, Until: until}}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Blocks: got %+v, %v, want %+v", got, err, want)
		}
	})
}

func TestParallelAttemptsCannotBypass(t *testing.T) {
	g, _, _ := newGuard(t, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	verified, events := 0, 0
	for range 20 {
		wg.Go(func() {
			a := &guard.Attempt{Identifier: "victim", IP: "192.0.2.9"}
			if err := g.Check(t.Context(), a); err != nil {
				return
			}
			evs, err := g.Failure(t.Context(), a)
			if err != nil {
				t.Errorf("Failure: %v", err)
			}
			mu.Lock()
			verified++
			events += len(evs)
			mu.Unlock()
		})
	}
	wg.Wait()
	if verified != guard.DefaultMaxAttempts || events != 1 {
		t.Errorf("20 parallel attempts: got %d verified and %d events, want %d and 1", verified, events, guard.DefaultMaxAttempts)
	}
}

func TestSuspiciousIP(t *testing.T) {
	const ip = "198.51.100.23"
	small := func(shields ...string) func(*store.AttackProtection) {
		return func(ap *store.AttackProtection) {
			ap.SuspiciousIP.Shields = shields
			ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: 3, Rate: 60000}
		}
	}
	tests := []struct {
		name  string
		edit  func(*store.AttackProtection)
		steps []step
	}{
		{"throttled across accounts once the bucket is empty", small(guard.ShieldBlock), []step{
			{id: "u1", ip: ip}, {id: "u2", ip: ip}, {id: "u3", ip: ip, wantEvents: "limit_mu"},
			{id: "u4", ip: ip, ok: true, wantReason: guard.SuspiciousIP},
			{id: "u4", ip: "198.51.100.24", ok: true},
		}},
		{"a token comes back after the rate", small(guard.ShieldBlock), []step{
			{id: "u1", ip: ip}, {id: "u2", ip: ip}, {id: "u3", ip: ip, wantEvents: "limit_mu"},
			{id: "u4", ip: ip, after: 59 * time.Second, wantReason: guard.SuspiciousIP},
			{id: "u4", ip: ip, after: time.Second, ok: true},
			{id: "u5", ip: ip, wantEvents: "limit_mu"},
			{id: "u6", ip: ip, ok: true, wantReason: guard.SuspiciousIP},
		}},
		{"monitoring mode never throttles", small(guard.ShieldAdminNotification), []step{
			{id: "u1", ip: ip}, {id: "u2", ip: ip}, {id: "u3", ip: ip, wantEvents: "limit_mu"},
			{id: "u4", ip: ip}, {id: "u5", ip: ip, ok: true},
		}},
		{"allowlisted IP is never throttled", func(ap *store.AttackProtection) {
			small(guard.ShieldBlock)(ap)
			ap.SuspiciousIP.Allowlist = []string{ip}
		}, []step{{id: "u1", ip: ip}, {id: "u2", ip: ip}, {id: "u3", ip: ip}, {id: "u4", ip: ip}, {id: "u5", ip: ip, ok: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _, c := newGuard(t, tc.edit)
			run(t, g, c, tc.steps)
		})
	}
}

func TestBreached(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*store.AttackProtection)
		password   string
		wantBlock  bool
		wantEvents int
	}{
		{"disabled by default", nil, "AUTH0-TEST-x", false, 0},
		{"test prefix is breached", enableBreached(guard.ShieldBlock), "AUTH0-TEST-hunter2", true, 1},
		{"imported hash is breached", enableBreached(guard.ShieldBlock), "password", true, 1},
		{"other password passes", enableBreached(guard.ShieldBlock), "correct horse battery staple", false, 0},
		{"monitoring logs only", enableBreached(guard.ShieldUserNotification), "password", false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, st, _ := newGuard(t, tc.edit)
			list := "# sha1 of \"password\"\n5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\n\n7c4a8d09ca3762af61e59520943dc26494f8941b\n"
			if n, err := guard.ImportBreached(t.Context(), st, strings.NewReader(list)); err != nil || n != 2 {
				t.Fatalf("ImportBreached: got %d, %v, want 2, nil", n, err)
			}
			a := &guard.Attempt{Identifier: "u", IP: "192.0.2.1"}
			if err := g.Check(t.Context(), a); err != nil {
				t.Fatalf("Check: %v", err)
			}
			evs, err := g.Breached(t.Context(), a, tc.password)
			var be *guard.BlockedError
			if got := errors.As(err, &be) && be.Reason == guard.BreachedPassword; got != tc.wantBlock {
				t.Errorf("blocked: got %v (err %v), want %v", got, err, tc.wantBlock)
			}
			if len(evs) != tc.wantEvents || (len(evs) == 1 && evs[0].Type != "pwd_leak") {
				t.Errorf("events: got %v, want %d pwd_leak", evs, tc.wantEvents)
			}
		})
	}
}

func enableBreached(shields ...string) func(*store.AttackProtection) {
	return func(ap *store.AttackProtection) {
		ap.Breached.Enabled = true
		ap.Breached.Shields = shields
	}
}

func TestImportBreachedBadLine(t *testing.T) {
	_, st, _ := newGuard(t, nil)
	_, err := guard.ImportBreached(t.Context(), st, strings.NewReader("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:1\nnot-a-hash\n"))
	if !errors.Is(err, guard.ErrBadHashLine) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ImportBreached: got %v, want ErrBadHashLine at line 2", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*store.AttackProtection)
		want []string // substrings of the error, in order; none: valid
	}{
		{"defaults are valid", func(*store.AttackProtection) {}, nil},
		{"every problem at once", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 101
			ap.BruteForce.Mode = "per_moon"
			ap.BruteForce.Allowlist = []string{"10.0.0.0/33"}
			ap.SuspiciousIP.Shields = []string{"user_notification"}
			ap.Breached.Method = "psychic"
		}, []string{"breachedPasswordDetection.method", "bruteForceProtection.allowlist", "bruteForceProtection.max_attempts",
			"bruteForceProtection.mode", "suspiciousIpThrottling.shields"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ap := guard.Defaults()
			tc.edit(&ap)
			err := guard.Validate(ap)
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("Validate: got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: got nil, want errors about %v", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("Validate: got %d errors %q, want %d", len(lines), lines, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d: got %q, want it to start with %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestParseAllowlist(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    string
		wantErr bool
	}{
		{"v4 address and range", []string{"10.1.2.3", "192.168.0.0/16"}, "[10.1.2.3/32 192.168.0.0/16]", false},
		{"range is masked", []string{"10.1.2.3/8"}, "[10.0.0.0/8]", false},
		{"v6", []string{"2001:db8::1", "2001:db8::/32"}, "[2001:db8::1/128 2001:db8::/32]", false},
		{"v4-mapped range is v4", []string{"::ffff:10.0.0.0/104"}, "[10.0.0.0/8]", false},
		{"spaces trimmed", []string{" 10.0.0.1 "}, "[10.0.0.1/32]", false},
		{"garbage", []string{"ten.0.0.1"}, "", true},
		{"bad length", []string{"10.0.0.0/40"}, "", true},
		{"zone refused", []string{"fe80::1%eth0"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := guard.ParseAllowlist(tc.in)
			if (err != nil) != tc.wantErr || !errors.Is(err, guard.ErrBadAllowlist) && tc.wantErr {
				t.Fatalf("ParseAllowlist: got error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && fmt.Sprint(got) != tc.want {
				t.Errorf("ParseAllowlist: got %v, want %s", got, tc.want)
			}
		})
	}
}

// TestAllowedMatch checks which client addresses an allowlist entry lets through.
func TestAllowedMatch(t *testing.T) {
	tests := []struct {
		entry, ip string
		want      bool
	}{
		{"10.0.0.0/8", "10.9.9.9", true},
		{"10.0.0.0/8", "::ffff:10.9.9.9", true}, // a mapped client is its IPv4 self
		{"10.0.0.0/8", "11.0.0.1", false},
		{"::ffff:10.0.0.0/104", "10.1.1.1", true},
		{"2001:db8::/32", "2001:db8::7", true},
		{"2001:db8::/32", "10.1.1.1", false},
		{"::/0", "198.51.100.1", true}, // every IPv6 address, the IPv4-mapped ones included
		{"::ffff:0.0.0.0/0", "0.0.0.0", true},
		{"0.0.0.0/0", "2001:db8::7", false},
		{"10.0.0.1", "not an ip", false},
		{"2001:db8::/32", "2001:db8:1:2::/64", true}, // a counted network, all of it in the range
		{"2001:db8:1:2::1", "2001:db8:1:2::/64", false},
		{"2001:db8:1:2::/80", "2001:db8:1:2::/64", false},
	}
	for _, tc := range tests {
		list, err := guard.ParseAllowlist([]string{tc.entry})
		if err != nil {
			t.Fatalf("ParseAllowlist(%q): %v", tc.entry, err)
		}
		if got := guard.Allowed(list, tc.ip); got != tc.want {
			t.Errorf("allowlist %q, client %q: allowed = %v, want %v", tc.entry, tc.ip, got, tc.want)
		}
	}
}

func TestAbandon(t *testing.T) {
	g, st, c := newGuard(t, func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 })
	// Two real failures would block; attempts that were never judged must not count.
	for range 5 {
		a := &guard.Attempt{Identifier: "heidi", IP: "192.0.2.3"}
		if err := g.Check(t.Context(), a); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if err := g.Abandon(t.Context(), a); err != nil {
			t.Fatalf("Abandon: %v", err)
		}
	}
	// Abandon after Failure keeps the failure.
	a := &guard.Attempt{Identifier: "heidi", IP: "192.0.2.3"}
	if err := g.Check(t.Context(), a); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if _, err := g.Failure(t.Context(), a); err != nil {
		t.Fatalf("Failure: %v", err)
	}
	if err := g.Abandon(t.Context(), a); err != nil {
		t.Fatalf("Abandon: %v", err)
	}
	if n, err := st.GetCounter(t.Context(), "bf|5:heidi|192.0.2.3", c.now()); err != nil || n != 1 {
		t.Errorf("counter: got %d, %v, want 1 (the one failure)", n, err)
	}
	run(t, g, c, []step{{id: "heidi", ip: "192.0.2.3", wantEvents: "limit_wc"}, {id: "heidi", ip: "192.0.2.3", ok: true, wantReason: guard.BruteForce}})
}

// TestBruteForcePerUser checks that a user's identifiers share one count while names of
// nobody are counted each on its own.
func TestBruteForcePerUser(t *testing.T) {
	const ip, other = "203.0.113.7", "198.51.100.1"
	const uid = "auth0|kim"
	kim := func(id string, ok bool, reason guard.Reason, events string) step {
		return step{id: id, user: uid, ip: ip, ok: ok, wantReason: reason, wantEvents: events}
	}
	max3 := func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 3 }
	tests := []struct {
		name  string
		edit  func(*store.AttackProtection)
		steps []step
	}{
		{"email and username share the user's count", max3, []step{
			kim("kim@example.com", false, 0, ""), kim("kim", false, 0, ""), kim("KIM@example.com", false, 0, "limit_wc"),
			kim("kim", true, guard.BruteForce, ""), kim("kim@example.com", true, guard.BruteForce, ""),
			{id: "kim", user: uid, ip: other, ok: true},
		}},
		{"a success by either name resets the count", max3, []step{
			kim("kim@example.com", false, 0, ""), kim("kim", false, 0, ""), kim("kim", true, 0, ""),
			kim("kim@example.com", false, 0, ""), kim("kim", false, 0, ""), kim("kim", true, 0, ""),
		}},
		{"names of nobody count each on its own", max3, append(append(fails("ghost@example.com", ip, 3, 3),
			step{id: "ghost", ip: ip}, step{id: "ghost@example.com", ip: ip, wantReason: guard.BruteForce}),
			step{id: "ghost", ip: ip})},
		{"per identifier mode: the user's count holds from every IP", func(ap *store.AttackProtection) {
			max3(ap)
			ap.BruteForce.Mode = guard.ModePerIdentifier
		}, []step{
			kim("kim@example.com", false, 0, ""), {id: "kim", user: uid, ip: other},
			{id: "kim", user: uid, ip: "192.0.2.9", wantEvents: "limit_wc"}, kim("kim@example.com", true, guard.BruteForce, ""),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _, c := newGuard(t, tc.edit)
			run(t, g, c, tc.steps)
		})
	}
	t.Run("Blocks and Unblock name the user's count", func(t *testing.T) {
		g, _, c := newGuard(t, max3)
		run(t, g, c, []step{kim("kim", false, 0, ""), kim("kim@example.com", false, 0, ""), kim("kim", false, 0, "limit_wc")})
		run(t, g, c, fails("kim", other, 3, 3)) // before kim existed: the name's own count
		got, err := g.Blocks(t.Context(), uid, "Kim@example.com", "kim")
		until := c.now().Add(guard.CounterExpiry)
		want := []guard.Block{
			{Identifier: "kim@example.com", UserID: uid, IP: ip, Attempts: 3, Until: until},
			{Identifier: "kim", IP: other, Attempts: 3, Until: until},
		}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("Blocks: got %+v, %v, want %+v", got, err, want)
		}
		if n, err := g.Unblock(t.Context(), uid, "kim@example.com", "kim"); err != nil || n != 2 {
			t.Fatalf("Unblock: got %d, %v, want 2, nil", n, err)
		}
		run(t, g, c, []step{kim("kim", true, 0, ""), {id: "kim", ip: other, ok: true}})
	})
}

// TestClientNetworks checks which addresses count as one client: an IPv6 network of the
// configured prefix (a /64 by default), each IPv4 address alone, IPv4-mapped IPv6 addresses
// as the IPv4 address they map.
func TestClientNetworks(t *testing.T) {
	small := func(ap *store.AttackProtection) {
		ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: 3, Rate: 60000}
		ap.BruteForce.MaxAttempts = 2
	}
	// throttled empties the bucket of the first address and tries the last ones after it.
	throttled := func(first, second, third, probe string, wantProbe guard.Reason) []step {
		return []step{{id: "u1", ip: first}, {id: "u2", ip: second}, {id: "u3", ip: third, wantEvents: "limit_mu"},
			{id: "u4", ip: probe, ok: true, wantReason: wantProbe}}
	}
	tests := []struct {
		name   string
		prefix int
		steps  []step
	}{
		{"one /64 shares the IP bucket", 0, throttled("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:abcd::9", guard.SuspiciousIP)},
		{"another /64 has its own bucket", 0, throttled("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:3::1", 0)},
		{"one /64 shares brute-force counts", 0, []step{{id: "lee", ip: "2001:db8:5:6::1"}, {id: "lee", ip: "2001:db8:5:6::2", wantEvents: "limit_wc"},
			{id: "lee", ip: "2001:db8:5:6:7::8", ok: true, wantReason: guard.BruteForce}, {id: "lee", ip: "2001:db8:5:7::1", ok: true}}},
		{"prefix 128: each address alone", 128, throttled("2001:db8:1:2::1", "2001:db8:1:2::1", "2001:db8:1:2::1", "2001:db8:1:2::2", 0)},
		{"prefix 48: the /48 shares the bucket", 48, throttled("2001:db8:1:2::1", "2001:db8:1:3::1", "2001:db8:1:ffff::1", "2001:db8:1:4::1", guard.SuspiciousIP)},
		{"IPv4 addresses count alone", 0, throttled("198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2", 0)},
		{"an IPv4-mapped address is its IPv4 self", 0, throttled("::ffff:198.51.100.1", "198.51.100.1", "::ffff:198.51.100.1", "198.51.100.1", guard.SuspiciousIP)},
		{"IPv4 is not grouped by the IPv6 prefix", 48, throttled("::ffff:198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.0", 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, c := newGuardWith(t, guard.Options{IPv6Prefix: tc.prefix}, small)
			run(t, g, c, tc.steps)
		})
	}
	t.Run("an allowlisted address is matched in full", func(t *testing.T) {
		g, c := newGuardWith(t, guard.Options{}, func(ap *store.AttackProtection) {
			small(ap)
			ap.SuspiciousIP.Allowlist = []string{"2001:db8:1:2::1"}
		})
		run(t, g, c, append(throttled("2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:2::4", "2001:db8:1:2::5", guard.SuspiciousIP),
			step{id: "u5", ip: "2001:db8:1:2::1", ok: true}))
	})
}

// TestIPTokenGivenBack checks that only failed logins spend the IP's bucket: a success or an
// abandoned attempt gives its token back, and a refused one keeps none.
func TestIPTokenGivenBack(t *testing.T) {
	const ip = "198.51.100.40"
	g, _, c := newGuard(t, func(ap *store.AttackProtection) {
		ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: 2, Rate: 60000}
	})
	var steps []step
	for i := range 5 {
		steps = append(steps, step{id: fmt.Sprintf("ok%d", i), ip: ip, ok: true})
	}
	run(t, g, c, steps)
	for range 5 {
		a := &guard.Attempt{Identifier: "shed", IP: ip}
		if err := g.Check(t.Context(), a); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if err := g.Abandon(t.Context(), a); err != nil {
			t.Fatalf("Abandon: %v", err)
		}
	}
	run(t, g, c, []step{{id: "f1", ip: ip}, {id: "f2", ip: ip, wantEvents: "limit_mu"},
		{id: "f3", ip: ip, ok: true, wantReason: guard.SuspiciousIP}, {id: "f3", ip: ip, ok: true, wantReason: guard.SuspiciousIP},
		{id: "f3", ip: ip, after: time.Minute, ok: true}, {id: "f4", ip: ip, wantEvents: "limit_mu"}})
}

// TestParallelIPBurstVerifiesAtMostTheBucket is the guard's half of the HTTP burst test: of
// parallel attempts from one IP for distinct accounts, at most the bucket's size get through
// Check, round after round.
func TestParallelIPBurstVerifiesAtMostTheBucket(t *testing.T) {
	const capacity, burst = 5, 40
	g, _, c := newGuard(t, func(ap *store.AttackProtection) {
		ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: capacity, Rate: 60000}
	})
	for round := range 20 {
		var passed atomic.Int64
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() {
				a := &guard.Attempt{Identifier: fmt.Sprintf("r%d-u%d", round, i), IP: "192.0.2.99"}
				if err := g.Check(t.Context(), a); err != nil {
					return
				}
				passed.Add(1)
				if _, err := g.Failure(t.Context(), a); err != nil {
					t.Errorf("Failure: %v", err)
				}
			})
		}
		wg.Wait()
		if n := passed.Load(); n != capacity {
			t.Errorf("round %d: %d of %d attempts passed Check, want %d", round, n, burst, capacity)
		}
		c.add(capacity * time.Minute)
	}
}

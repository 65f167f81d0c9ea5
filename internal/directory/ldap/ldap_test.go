package ldap_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/ldap"
	"github.com/sesameauth/sesame/internal/directory/ldap/slapdtest"
)

// steps records the steps a directory reports.
type steps struct {
	mu  sync.Mutex
	all []ldap.Step
}

func (s *steps) add(st ldap.Step) { s.mu.Lock(); s.all = append(s.all, st); s.mu.Unlock() }

func (s *steps) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.all {
		if st.Name == name {
			n++
		}
	}
	return n
}

func newDir(t *testing.T, opts map[string]any, tr *steps) *ldap.Directory {
	t.Helper()
	cfg, err := ldap.ParseConfig("employees", "ad", opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var trace func(ldap.Step)
	if tr != nil {
		trace = tr.add
	}
	d, err := ldap.New(cfg, nil, trace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func TestAuthenticate(t *testing.T) {
	sl := slapdtest.Start(t)
	aliceID := "ad|employees|" + sl.EntryUUID("uid=alice,"+slapdtest.People)
	for _, tc := range []struct {
		name, user, pw string
		want           error // nil: success
		notWant        error
		searched       bool
	}{
		{name: "right password", user: "alice", pw: slapdtest.AlicePass, searched: true},
		{name: "wrong password", user: "alice", pw: "nope", want: directory.ErrInvalidCredentials, notWant: directory.ErrUnknownUser, searched: true},
		{name: "unknown user", user: "mallory", pw: "whatever", want: directory.ErrUnknownUser, searched: true},
		{name: "empty password never reaches the directory", user: "alice", pw: "", want: directory.ErrInvalidCredentials},
		{name: "filter injection is looked for literally", user: "*)(uid=*", pw: slapdtest.AlicePass, want: directory.ErrUnknownUser, searched: true},
		{name: "wildcard is looked for literally", user: "*", pw: slapdtest.AlicePass, want: directory.ErrUnknownUser, searched: true},
		{name: "several entries are refused", user: "dup", pw: slapdtest.DupPass, want: directory.ErrInvalidCredentials, notWant: directory.ErrUnknownUser, searched: true},
		{name: "too long username", user: strings.Repeat("a", ldap.MaxUsernameLength+1), pw: "x", want: directory.ErrInvalidCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr steps
			d := newDir(t, sl.Options(), &tr)
			u, err := d.Authenticate(t.Context(), tc.user, tc.pw)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				if u.UserID != aliceID || u.Email != "alice@acme.test" || u.Name != "Alice Archer" || u.GivenName != "Alice" ||
					u.FamilyName != "Archer" || u.Username != "alice" || u.Nickname != "alice" || u.Blocked {
					t.Errorf("got profile %+v", u)
				}
				if !slices.Equal(u.Groups, []string{"admins", "engineering"}) {
					t.Errorf("got groups %v, want [admins engineering]", u.Groups)
				}
			} else if !errors.Is(err, tc.want) || (tc.notWant != nil && errors.Is(err, tc.notWant)) {
				t.Fatalf("got %v, want %v (not %v)", err, tc.want, tc.notWant)
			}
			if got := tr.count("search") > 0; got != tc.searched {
				t.Errorf("directory searched: %t, want %t", got, tc.searched)
			}
		})
	}
}

func TestStartTLS(t *testing.T) {
	sl := slapdtest.Start(t)
	for _, tc := range []struct {
		name string
		ca   bool
		ok   bool
	}{
		{"with the test CA", true, true},
		{"system roots do not trust the test CA", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := sl.Options()
			opts["ldap_starttls"] = true
			if tc.ca {
				opts["ldap_ca"] = string(sl.CAPEM)
			}
			_, err := newDir(t, opts, nil).Authenticate(t.Context(), "bob", slapdtest.BobPass)
			if tc.ok && err != nil {
				t.Fatalf("got %v, want success", err)
			}
			if !tc.ok && !errors.Is(err, directory.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	sl := slapdtest.Start(t)
	d := newDir(t, sl.Options(), nil)
	dn := sl.AddPerson("dave", "dave-pw", "dave@acme.test", "Dave", "Dean")
	id := "ad|employees|" + sl.EntryUUID(dn)
	u, err := d.Lookup(t.Context(), id)
	if err != nil || u.Email != "dave@acme.test" || u.Blocked {
		t.Fatalf("got %+v, %v", u, err)
	}
	sl.Lock(dn)
	if u, err = d.Lookup(t.Context(), id); err != nil || !u.Blocked {
		t.Fatalf("locked: got blocked %t, %v; want blocked", u.Blocked, err)
	}
	sl.Delete(dn)
	if _, err = d.Lookup(t.Context(), id); !errors.Is(err, directory.ErrUserNotFound) {
		t.Fatalf("deleted: got %v, want ErrUserNotFound", err)
	}
	for _, bad := range []string{"auth0|x", "ad|other|" + sl.EntryUUID("uid=bob,"+slapdtest.People), "ad|employees|*"} {
		if _, err := d.Lookup(t.Context(), bad); !errors.Is(err, directory.ErrUserNotFound) {
			t.Errorf("Lookup(%q): got %v, want ErrUserNotFound", bad, err)
		}
	}
}

// TestOutage: a stopped or hung directory answers ErrUnavailable within the timeout, and
// logins work again once it is back, on the same Directory (its pool replaces dead
// connections).
func TestOutage(t *testing.T) {
	sl := slapdtest.Start(t)
	opts := sl.Options()
	opts["ldap_timeout_ms"] = 500
	d := newDir(t, opts, nil)
	login := func() (time.Duration, error) {
		start := time.Now()
		_, err := d.Authenticate(context.Background(), "bob", slapdtest.BobPass)
		return time.Since(start), err
	}
	if _, err := login(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		down, up func()
	}{
		{"stopped", sl.Stop, sl.Restart},
		{"hung", sl.Pause, sl.Resume},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.down()
			took, err := login()
			if !errors.Is(err, directory.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			// The bound is the timeout plus scheduling slack on a busy machine, not a speed claim.
			if took > 3*time.Second {
				t.Errorf("answer took %v with a 500ms timeout", took)
			}
			tc.up()
			if _, err := login(); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
		})
	}
}

// TestPoolReuse: logins reuse the pooled connections instead of dialling each time.
func TestPoolReuse(t *testing.T) {
	sl := slapdtest.Start(t)
	var tr steps
	d := newDir(t, sl.Options(), &tr)
	for range 20 {
		if _, err := d.Authenticate(t.Context(), "bob", slapdtest.BobPass); err != nil {
			t.Fatal(err)
		}
	}
	if n := tr.count("connect"); n != 2 {
		t.Errorf("20 sequential logins opened %d connections, want 2 (one search, one bind)", n)
	}
	if n := tr.count("service bind"); n != 1 {
		t.Errorf("service account bound %d times, want 1", n)
	}
}

func TestParseConfig(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"ldap_url": "ldap://h:389", "ldap_bind_user": "cn=s,dc=x", "ldap_bind_credentials": "p", "ldap_base": "dc=x"}
	}
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		want   []string // substrings of the error; none: valid
	}{
		{"minimal", func(map[string]any) {}, nil},
		{"no url", func(m map[string]any) { delete(m, "ldap_url") }, []string{"options.ldap_url: is required"}},
		{"http url", func(m map[string]any) { m["ldap_url"] = "http://h" }, []string{"options.ldap_url"}},
		{"anonymous", func(m map[string]any) { delete(m, "ldap_bind_user"); delete(m, "ldap_bind_credentials") },
			[]string{"options.ldap_bind_user: is required", "options.ldap_bind_credentials: is required"}},
		{"filter without placeholder", func(m map[string]any) { m["ldap_user_by_name"] = "(uid=alice)" }, []string{"must contain {0}"}},
		{"broken filter", func(m map[string]any) { m["ldap_user_by_name"] = "(uid={0}" }, []string{"is not an LDAP filter"}},
		{"starttls on ldaps", func(m map[string]any) { m["ldap_url"] = "ldaps://h"; m["ldap_starttls"] = true }, []string{"options.ldap_starttls"}},
		{"timeout out of range", func(m map[string]any) { m["ldap_timeout_ms"] = 0.5 }, []string{"options.ldap_timeout_ms"}},
		{"unknown key", func(m map[string]any) { m["ldap_urll"] = "x" }, []string{"options.ldap_urll: is not an option"}},
		{"bad CA", func(m map[string]any) { m["ldap_ca"] = "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n" }, []string{"options.ldap_ca"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.change(m)
			_, err := ldap.ParseConfig("c", "ad", m, nil)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got valid, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestPoolParallel: bursts of parallel logins, more than the pool holds, all succeed (waiting
// for a connection within the timeout) and never open more connections than the pool's size.
func TestPoolParallel(t *testing.T) {
	sl := slapdtest.Start(t)
	opts := sl.Options()
	opts["ldap_pool_size"] = 3
	var tr steps
	d := newDir(t, opts, &tr)
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make(chan error, 24)
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				user, pw := "bob", slapdtest.BobPass
				if i%2 == 0 {
					user, pw = "alice", slapdtest.AlicePass
				}
				if _, err := d.Authenticate(context.Background(), user, pw); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
	if n := tr.count("connect"); n > 6 {
		t.Errorf("opened %d connections, want at most 6 (3 per pool)", n)
	}
}

// TestRestartWithFullPool: after the directory restarts, the first login succeeds even with
// every pooled connection dead (they are dropped and one fresh connection is opened).
func TestRestartWithFullPool(t *testing.T) {
	sl := slapdtest.Start(t)
	d := newDir(t, sl.Options(), nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Authenticate(context.Background(), "bob", slapdtest.BobPass); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sl.Stop()
	sl.Restart()
	for i := range 3 {
		if _, err := d.Authenticate(t.Context(), "bob", slapdtest.BobPass); err != nil {
			t.Fatalf("login %d after the restart: %v", i, err)
		}
	}
}

package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// withStore opens the harness's database for a direct look or setup.
func (h *harness) withStore(fn func(st *sqlstore.Store)) {
	h.t.Helper()
	st, err := sqlstore.Open(h.t.Context(), "sqlite://"+h.db)
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	fn(st)
}

func TestBreachedImport(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		want     string // stdout, or a substring of the error
		wantErr  bool
		wantSufs []string // stored under 5BAA6 afterwards
	}{
		{"hashes with counts", "# Pwned Passwords\n5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\n7c4a8d09ca3762af61e59520943dc26494f8941b\n",
			"Imported 2 new breached password hashes\n", false, []string{"1E4C9B93F3F0682250B6CF8331B7EE68FD8"}},
		{"bad line", "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:1\nhunter2\n", "line 2", true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			path := filepath.Join(h.dir, "breached.txt")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.wantErr {
				h.fails(tc.want, "", "breached", "import", path)
				return
			}
			if got := h.ok("", "breached", "import", path); got != tc.want {
				t.Errorf("first import: got %q, want %q", got, tc.want)
			}
			if got := h.ok("", "breached", "import", path); got != "Imported 0 new breached password hashes\n" {
				t.Errorf("second import: got %q, want nothing new", got)
			}
			h.withStore(func(st *sqlstore.Store) {
				got, err := st.BreachedSuffixes(t.Context(), "5BAA6")
				if err != nil || strings.Join(got, ",") != strings.Join(tc.wantSufs, ",") {
					t.Errorf("stored suffixes: got %v, %v, want %v", got, err, tc.wantSufs)
				}
			})
		})
	}
}

func TestLogs(t *testing.T) {
	h := newHarness(t)
	h.ok("", "migrate")
	now := time.Now().UTC()
	h.withStore(func(st *sqlstore.Store) {
		for _, e := range []store.LogEvent{
			{Date: now.Add(-3 * time.Hour), Type: "fp", UserID: "auth0|a", UserName: "alice@example.com", IP: "192.0.2.1", Description: "Wrong email or password."},
			{Date: now.Add(-30 * time.Minute), Type: "fp", UserID: "auth0|b", UserName: "bob@example.com", IP: "192.0.2.2", Description: "Wrong email or password."},
			{Date: now.Add(-20 * time.Minute), Type: "limit_wc", UserName: "bob@example.com", IP: "192.0.2.2", Description: "Blocked account"},
			{Date: now.Add(-10 * time.Minute), Type: "sepft", UserID: "auth0|a", UserName: "alice@example.com", IP: "192.0.2.1"},
		} {
			if err := st.AppendLog(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	})
	tests := []struct {
		name      string
		args      []string
		wantTypes []string // event types, oldest first
	}{
		{"all, oldest first", nil, []string{"fp", "fp", "limit_wc", "sepft"}},
		{"by type", []string{"--type", "fp"}, []string{"fp", "fp"}},
		{"by user", []string{"--user", "auth0|a"}, []string{"fp", "sepft"}},
		{"since a duration", []string{"--since", "1h"}, []string{"fp", "limit_wc", "sepft"}},
		{"since a time", []string{"--since", now.Add(-15 * time.Minute).Format(time.RFC3339)}, []string{"sepft"}},
		{"limit keeps the newest", []string{"--limit", "2"}, []string{"limit_wc", "sepft"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []struct {
				Type     string `json:"type"`
				UserName string `json:"user_name"`
			}
			h.okJSON(&got, "", append([]string{"logs"}, tc.args...)...)
			var types []string
			for _, e := range got {
				types = append(types, e.Type)
			}
			if strings.Join(types, " ") != strings.Join(tc.wantTypes, " ") {
				t.Errorf("logs %v: got types %v, want %v", tc.args, types, tc.wantTypes)
			}
		})
	}
	out := h.ok("", "logs", "--type", "limit_wc")
	if !strings.Contains(out, "limit_wc") || !strings.Contains(out, "bob@example.com") || !strings.Contains(out, "Blocked account") {
		t.Errorf("logs text: got %q, want the limit_wc line with bob and its description", out)
	}
	h.fails("--since", "", "logs", "--since", "yesterday")
}

// failLogins records n failed logins of id from ip through the guard, as the password grant
// does, against the harness's database.
func (h *harness) failLogins(id, ip string, n int) {
	h.t.Helper()
	h.withStore(func(st *sqlstore.Store) {
		g := guard.New(st, nil, guard.Options{})
		for range n {
			a := &guard.Attempt{Identifier: id, IP: ip}
			if err := g.Check(h.t.Context(), a); err != nil {
				h.t.Fatalf("Check: %v", err)
			}
			if _, err := g.Failure(h.t.Context(), a); err != nil {
				h.t.Fatalf("Failure: %v", err)
			}
		}
	})
}

func TestUserBlocks(t *testing.T) {
	h := newHarness(t)
	h.ok("", "connections", "create", "--name", conn)
	var u userOut
	h.okJSON(&u, "Secret123\n", "users", "create", "--connection", conn, "--email", "alice@example.com", "--username", "alice", "--password-stdin")
	h.failLogins("Alice@Example.com", "192.0.2.1", guard.DefaultMaxAttempts)
	h.failLogins("alice", "192.0.2.2", guard.DefaultMaxAttempts)
	h.failLogins("alice", "192.0.2.3", guard.DefaultMaxAttempts-1) // one short: not blocked
	h.failLogins("ghost", "192.0.2.1", guard.DefaultMaxAttempts)

	type blocksOut struct {
		BlockedFor []struct {
			Identifier   string `json:"identifier"`
			IP           string `json:"ip"`
			Connection   string `json:"connection"`
			Attempts     int    `json:"attempts"`
			BlockedUntil string `json:"blocked_until"`
		} `json:"blocked_for"`
	}
	summary := func(b blocksOut) string {
		var s []string
		for _, e := range b.BlockedFor {
			s = append(s, fmt.Sprintf("%s %s %s %d", e.Identifier, e.IP, e.Connection, e.Attempts))
			if until, err := time.Parse(time.RFC3339, e.BlockedUntil); err != nil || until.Before(time.Now().Add(guard.CounterExpiry-time.Hour)) {
				t.Errorf("blocked_until %q: want about %v from now", e.BlockedUntil, guard.CounterExpiry)
			}
		}
		return strings.Join(s, ", ")
	}
	blocks := func(args ...string) string {
		t.Helper()
		var got blocksOut // fresh each time: decoding into a used one keeps absent fields
		h.okJSON(&got, "", append([]string{"users", "blocks"}, args...)...)
		return summary(got)
	}
	if s, want := blocks(u.UserID), "alice@example.com 192.0.2.1 "+conn+" 10, alice 192.0.2.2 "+conn+" 10"; s != want {
		t.Errorf("users blocks --json: got %q, want %q", s, want)
	}
	out := h.ok("", "users", "blocks", u.UserID)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "IDENTIFIER") ||
		!strings.Contains(lines[1], "alice@example.com") || !strings.Contains(lines[1], "192.0.2.1") {
		t.Errorf("users blocks: got %q, want a header and two rows", out)
	}
	if s, want := blocks("--identifier", "ALICE@example.com"), "alice@example.com 192.0.2.1 "+conn+" 10"; s != want {
		t.Errorf("users blocks --identifier: got %q, want %q", s, want)
	}
	if s, want := blocks("--identifier", "ghost"), "ghost 192.0.2.1  10"; s != want {
		t.Errorf("users blocks --identifier of no user: got %q, want %q", s, want)
	}

	if out := h.ok("", "users", "unblock", "--identifier", "GHOST"); out != "Released 1 brute-force block(s) of GHOST\n" {
		t.Errorf("users unblock --identifier: got %q, want one block released", out)
	}
	if s := blocks("--identifier", "ghost"); s != "" {
		t.Errorf("users blocks --identifier after unblock --identifier: got %q, want none", s)
	}
	h.fails("either a USER_ID or an --identifier", "", "users", "unblock")
	h.ok("", "users", "unblock", u.UserID)
	if out := h.ok("", "users", "blocks", u.UserID); out != "No brute-force blocks\n" {
		t.Errorf("users blocks after unblock: got %q, want none", out)
	}
	if out := h.ok("", "users", "blocks", u.UserID, "--json"); strings.TrimSpace(out) != `{
  "blocked_for": []
}` {
		t.Errorf("users blocks --json after unblock: got %q, want an empty blocked_for", out)
	}
	h.fails("either a USER_ID or an --identifier", "", "users", "blocks")
	h.fails("either a USER_ID or an --identifier", "", "users", "blocks", u.UserID, "--identifier", "alice")
	h.fails("no user has the id, email or username", "", "users", "blocks", "auth0|nobody")
}

// TestUsersByLogin checks that block, unblock and blocks accept the email or username a user
// logs in with, and that a login nobody has is answered with the way to reach its blocks.
func TestUsersByLogin(t *testing.T) {
	h := newHarness(t)
	h.ok("", "connections", "create", "--name", conn)
	h.ok("", "connections", "create", "--name", "Other-Users")
	var alice, other userOut
	h.okJSON(&alice, "Secret123\n", "users", "create", "--connection", conn, "--email", "alice@example.com", "--username", "alice", "--password-stdin")
	h.okJSON(&other, "Secret123\n", "users", "create", "--connection", "Other-Users", "--email", "shared@example.com", "--password-stdin")
	h.ok("Secret123\n", "users", "create", "--connection", conn, "--email", "shared@example.com", "--password-stdin")
	h.failLogins("alice@example.com", "192.0.2.1", guard.DefaultMaxAttempts)

	if out := h.ok("", "users", "block", "Alice@Example.com"); out != "Blocked user "+alice.UserID+"\n" {
		t.Errorf("users block EMAIL: got %q, want alice blocked by id", out)
	}
	if out := h.ok("", "users", "blocks", "alice"); !strings.Contains(out, "alice@example.com") {
		t.Errorf("users blocks USERNAME: got %q, want alice's block", out)
	}
	if out := h.ok("", "users", "unblock", "alice@example.com"); out != "Unblocked user "+alice.UserID+"\n" {
		t.Errorf("users unblock EMAIL: got %q, want alice unblocked by id", out)
	}
	if u := h.user(conn, "alice@example.com"); u.Blocked {
		t.Errorf("after users unblock EMAIL: got blocked=true, want false")
	}
	if out := h.ok("", "users", "blocks", "alice@example.com"); out != "No brute-force blocks\n" {
		t.Errorf("users blocks after unblock EMAIL: got %q, want none", out)
	}
	if out := h.ok("", "users", "unblock", other.UserID); out != "Unblocked user "+other.UserID+"\n" {
		t.Errorf("users unblock USER_ID: got %q", out)
	}
	h.fails(`no user has the id, email or username "ghost@example.com"; to act on the brute-force blocks of a login that is no user's, use --identifier "ghost@example.com"`,
		"", "users", "unblock", "ghost@example.com")
	h.fails(`"shared@example.com" is the email or username of 2 users`, "", "users", "unblock", "shared@example.com")
	h.fails("not found", "", "users", "delete", "alice@example.com") // destructive: by id only
}

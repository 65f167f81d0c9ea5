package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

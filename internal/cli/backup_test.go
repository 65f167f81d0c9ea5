package cli_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// TestBackupRestoreCommands: sesame backup writes a private, checked snapshot and names the
// KEK to keep apart; sesame restore refuses while the database is open, refuses a file that
// is not a snapshot, and otherwise puts the snapshot back (what was added after it is gone).
func TestBackupRestoreCommands(t *testing.T) {
	h := newHarness(t)
	h.ok("", "apis", "create", "--identifier", "https://before.example.com")
	snap := filepath.Join(h.dir, "snap.db")
	out := h.ok("", "backup", "--out", snap)
	if !strings.Contains(out, "sesame.kek") {
		t.Errorf("backup output %q does not name the KEK file to back up", out)
	}
	if fi, err := os.Stat(snap); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	h.fails("exists", "", "backup", "--out", snap)
	h.ok("", "apis", "create", "--identifier", "https://after.example.com")

	// An open store (a server, another command) holds the lock: restore refuses.
	st, err := sqlstore.Open(t.Context(), "sqlite://"+h.db)
	if err != nil {
		t.Fatal(err)
	}
	h.fails("open in another process", "", "restore", "--from", snap)
	st.Close()

	junk := filepath.Join(h.dir, "junk.db")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.fails("not a SQLite database", "", "restore", "--from", junk)
	h.ok("", "restore", "--from", snap)
	apis := h.ok("", "apis", "list")
	if !strings.Contains(apis, "https://before.example.com") || strings.Contains(apis, "https://after.example.com") {
		t.Errorf("after restore, apis list = %q; want the API made before the snapshot only", apis)
	}
	h.fails("pg_dump", "", "backup", "--out", filepath.Join(h.dir, "x.db"), "--db", "postgres://u@127.0.0.1/db", "--kek", strings.Repeat("A", 43)+"=")
}

// TestHealthcheckCommand: exit status follows the server's answer.
func TestHealthcheckCommand(t *testing.T) {
	h := newHarness(t)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer ok.Close()
	h.ok("", "healthcheck", "--url", ok.URL+"/healthz")
	h.fails("answered 503", "", "healthcheck", "--url", ok.URL+"/readyz")
}

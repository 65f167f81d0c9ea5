package cli_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/server"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

// testClock is a settable clock for the server node of a CLI test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// serveNode starts a server node over the harness's database and KEK, as `sesame serve` on
// another machine would, with its clock under the test's control.
func (h *harness) serveNode(clock *testClock) string {
	h.t.Helper()
	kek, _, err := seal.LoadOrCreateKEKFile(filepath.Join(h.dir, "sesame.kek"), false)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := config.DefaultServer()
	cfg.DB = "sqlite://" + h.db
	cfg.PasswordHashMemoryKiB, cfg.PasswordHashIterations = 64, 1
	ts := httptest.NewUnstartedServer(nil)
	cfg.Addr = ts.Listener.Addr().String()
	cfg.Normalize()
	srv, err := server.Open(h.t.Context(), cfg, server.Options{KEK: kek, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		h.t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	h.t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

// keyOut is one key of `sesame keys list --json`.
type keyOut struct {
	KID   string `json:"kid"`
	Alg   string `json:"alg"`
	State string `json:"state"`
}

// rs256Keys runs a keys command with --json (keys list when args is empty) and maps each state
// to the kid of the RS256 key in it (the last one, for states several keys share).
func (h *harness) rs256Keys(args ...string) map[string]string {
	h.t.Helper()
	if len(args) == 0 {
		args = []string{"keys", "list"}
	}
	var ks []keyOut
	h.okJSON(&ks, "", args...)
	m := map[string]string{}
	for _, k := range ks {
		if k.Alg == "RS256" {
			m[k.State] = k.KID
		}
	}
	return m
}

func jwksKIDs(t *testing.T, base string) []string {
	t.Helper()
	res, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// TestKeysRevoke: `sesame keys revoke KID` on the current key makes the next key current,
// publishes a new next key, drops KID from a running node's /.well-known/jwks.json within
// token.RefreshInterval (not after 31 days, as rotation would), and logs a tenant event.
func TestKeysRevoke(t *testing.T) {
	h := newHarness(t)
	h.ok("", "apis", "create", "--identifier", "urn:api") // creates RS256 keys
	b := h.rs256Keys()
	clock := &testClock{t: time.Now()}
	base := h.serveNode(clock)
	if kids := jwksKIDs(t, base); !slices.Contains(kids, b["current"]) || !slices.Contains(kids, b["next"]) {
		t.Fatalf("JWKS before revocation: got %v, want %s and %s", kids, b["current"], b["next"])
	}

	out := h.ok("", "keys", "revoke", b["current"])
	if !strings.Contains(out, "Revoked RS256 signing key "+b["current"]+" (was current); "+b["next"]+" signs now") {
		t.Errorf("keys revoke: got %q, want it to name the revoked key and the one signing now", out)
	}
	a := h.rs256Keys()
	if a["revoked"] != b["current"] || a["current"] != b["next"] || a["next"] == "" || a["next"] == b["next"] {
		t.Errorf("after revoke: got %v, want %s revoked, %s current and a new next", a, b["current"], b["next"])
	}

	clock.Advance(token.RefreshInterval)
	kids := jwksKIDs(t, base)
	if slices.Contains(kids, b["current"]) || !slices.Contains(kids, a["current"]) || !slices.Contains(kids, a["next"]) {
		t.Errorf("JWKS %s after revocation: got %v, want %s gone and %s, %s published", token.RefreshInterval, kids, b["current"], a["current"], a["next"])
	}

	st, err := sqlstore.Open(t.Context(), "sqlite://"+h.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListLogs(t.Context(), store.LogFilter{Type: "sapi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Details["kid"] != b["current"] || evs[0].Details["current"] != b["next"] {
		t.Errorf("tenant log: got %+v, want one sapi event for the revocation of %s", evs, b["current"])
	}

	h.fails("already revoked", "", "keys", "revoke", b["current"])
	h.fails("no signing key", "", "keys", "revoke", "no-such-kid")
	h.fails("accepts 1 arg", "", "keys", "revoke")
}

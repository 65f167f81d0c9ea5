package cli_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionsTestFetch runs `actions test` on an action that calls fetch(): the engine is the
// one serve builds, so the server config's actions_fetch_allow decides what it may reach.
func TestActionsTestFetch(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tier":"gold"}`))
	}))
	defer api.Close()
	h := newHarness(t)
	h.ok("", "migrate")
	code := filepath.Join(h.dir, "tier.js")
	if err := os.WriteFile(code, []byte(`exports.onExecutePostLogin = async (event, api) => {
  const r = await fetch('`+api.URL+`/tier');
  api.accessToken.setCustomClaim('https://example.com/tier', (await r.json()).tier);
};`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.ok("", "actions", "deploy", "tier", "--code", code)

	var res map[string]any
	h.okJSON(&res, "", "actions", "test", "tier")
	if got := res["result"].(string); !strings.Contains(got, `TypeError: fetch: host "`+strings.TrimPrefix(api.URL, "http://")+`" is not allowed`) {
		t.Errorf("without an allowlist: result %q, want the host refused", got)
	}

	h.env["SESAME_ACTIONS_FETCH_ALLOW"] = "127.0.0.1"
	res = nil
	h.okJSON(&res, "", "actions", "test", "tier")
	if res["result"] != "allowed" || res["access_token_claims"].(map[string]any)["https://example.com/tier"] != "gold" {
		t.Errorf("with 127.0.0.1 allowed: got %v, want the tier claim", res)
	}
}

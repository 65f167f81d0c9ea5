package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestActionsCommands(t *testing.T) {
	h := newHarness(t)
	h.ok("", "migrate")
	write := func(name, body string) string {
		p := filepath.Join(h.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	code := write("roles.js", `exports.onExecutePostLogin = async (event, api) => {
  const key = await Promise.resolve(event.secrets.API_KEY);
  api.accessToken.setCustomClaim('https://example.com/roles', event.user.app_metadata.roles);
  api.idToken.setCustomClaim('https://example.com/key', key);
  api.accessToken.addScope('extra');
};`)
	h.ok("sk_live_1\n", "actions", "deploy", "roles", "--code", code, "--secret", "API_KEY", "--bind")

	var list []map[string]any
	h.okJSON(&list, "", "actions", "list")
	want := []map[string]any{{"name": "roles", "deployed": true, "runtime": "node18", "post_login_position": float64(1), "secrets": []any{"API_KEY"}}}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("actions list (-want +got):\n%s", diff)
	}

	event := write("event.json", `{"user":{"user_id":"auth0|1","app_metadata":{"roles":["admin"]}},"transaction":{"requested_scopes":["openid"]}}`)
	var res map[string]any
	h.okJSON(&res, "", "actions", "test", "roles", "--event", event)
	if got := res["access_token_claims"]; !cmp.Equal(map[string]any{"https://example.com/roles": []any{"admin"}}, got) {
		t.Errorf("access token claims: got %v", got)
	}
	if got := res["id_token_claims"]; !cmp.Equal(map[string]any{"https://example.com/key": "sk_live_1"}, got) {
		t.Errorf("ID token claims: got %v", got)
	}
	if got := res["scopes"]; !cmp.Equal([]any{"openid", "extra"}, got) || res["result"] != "allowed" {
		t.Errorf("scopes %v result %v, want [openid extra] allowed", got, res["result"])
	}
	text := h.ok("", "actions", "test", "roles", "--event", event)
	if !strings.Contains(text, "access token claim https://example.com/roles: [admin]") {
		t.Errorf("text output %q lacks the roles claim", text)
	}

	broken := write("broken.js", "exports.onExecutePostLogin = async (event, api) => {\n  api.deny(;\n};")
	h.fails("broken:2:12", "", "actions", "deploy", "broken", "--code", broken)
	h.fails("does not exist", "", "actions", "deploy", "ghost")
}

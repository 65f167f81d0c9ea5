package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConnectionsCustomDatabase: `connections create --custom-script` makes a custom database
// from script files (checked, configuration sealed), and `connections get-user` runs its
// get_user script.
func TestConnectionsCustomDatabase(t *testing.T) {
	h := newHarness(t)
	write := func(name, code string) string {
		p := filepath.Join(h.dir, name)
		if err := os.WriteFile(p, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	login := write("login.js", `function login(email, password, callback) { callback(new WrongUsernameOrPasswordError(email)); }`)
	getUser := write("get_user.js", `function getByEmail(email, callback) {
  if (email !== configuration.KNOWN) return callback(null);
  callback(null, {user_id: 'legacy-7', email: email, nickname: 'known'});
}`)
	bad := write("bad.js", `function login(email, password, callback) { var m = require('mysql'); callback(); }`)

	h.fails("require of mysql: not available", "", "connections", "create", "--name", "legacy-bad", "--custom-script", "login="+bad)
	h.fails("add --custom-script", "", "connections", "create", "--name", "legacy-bad", "--import-mode")

	var view struct {
		Options map[string]any `json:"options"`
	}
	h.okJSON(&view, "", "connections", "create", "--name", "legacy", "--custom-script", "login="+login,
		"--custom-script", "get_user="+getUser, "--configuration", "KNOWN=known@example.com", "--import-mode")
	conf, _ := view.Options["configuration"].(map[string]any)
	if v, _ := conf["KNOWN"].(string); !strings.HasPrefix(v, "sealed:v1:") {
		t.Errorf("configuration.KNOWN = %q, want it sealed", v)
	}
	if cs, _ := view.Options["customScripts"].(map[string]any); !strings.Contains(cs["login"].(string), "WrongUsernameOrPasswordError") {
		t.Errorf("customScripts = %v", cs)
	}

	out := h.ok("", "connections", "get-user", "legacy", "known@example.com")
	if !strings.Contains(out, "legacy-7") || !strings.Contains(out, "known") {
		t.Errorf("get-user output:\n%s", out)
	}
	h.fails("finds no user", "", "connections", "get-user", "legacy", "other@example.com")
}

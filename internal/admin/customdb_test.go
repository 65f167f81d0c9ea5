package admin_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/directory/scripted"
)

const customDBLogin = `function login(email, password, callback) {
  var pg = require('pg');
  var bcrypt = require('bcrypt@0.8.5');
  callback(new WrongUsernameOrPasswordError(email));
}`

// customDBTenant writes a tenant file with a custom-database connection as the Deploy CLI
// exports one (scripts as files under databases/<name>/) and returns its path.
func customDBTenant(t *testing.T, login, pgURL string) string {
	t.Helper()
	dir := t.TempDir()
	scripts := filepath.Join(dir, "databases", "legacy")
	if err := os.MkdirAll(scripts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scripts, "login.js"), []byte(login), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := `databases:
  - name: legacy
    strategy: auth0
    enabled_clients: []
    options:
      enabledDatabaseCustomization: true
      import_mode: true
      configuration:
        PG_URL: "` + pgURL + `"
      customScripts:
        login: ./databases/legacy/login.js
        get_user: |
          function getByEmail(email, callback) { callback(null); }
`
	path := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadTenant(t *testing.T, path string) *config.TenantFile {
	t.Helper()
	tf, err := config.LoadTenantFile(path, config.TenantOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

// TestApplyCustomDatabase: the scripts are read from the files the Deploy CLI writes and
// stored as code; the configuration is stored sealed (the password in the connection string
// appears nowhere in the stored options), opens back to the value, and an unchanged file
// applies as unchanged.
func TestApplyCustomDatabase(t *testing.T) {
	s := applyService(t)
	const secretURL = "postgres://legacy:Tr0ub4dor@127.0.0.1:5432/legacy"
	path := customDBTenant(t, customDBLogin, secretURL)
	applyOK(t, s, loadTenant(t, path))
	c, err := s.GetConnection(t.Context(), "legacy")
	if err != nil {
		t.Fatal(err)
	}
	if !scripted.Enabled(c) {
		t.Fatalf("options = %v", c.Options)
	}
	cs := c.Options["customScripts"].(map[string]any)
	if cs["login"] != customDBLogin || !strings.Contains(cs["get_user"].(string), "getByEmail") {
		t.Errorf("customScripts = %v", cs)
	}
	conf := c.Options["configuration"].(map[string]any)
	if v, _ := conf["PG_URL"].(string); !strings.HasPrefix(v, "sealed:v1:") || strings.Contains(v, "Tr0ub4dor") {
		t.Errorf("stored configuration.PG_URL = %q, want it sealed", v)
	}
	open, err := scripted.OpenConfiguration(s.Box, "legacy", c.Options["configuration"])
	if err != nil || open["PG_URL"] != secretURL {
		t.Errorf("OpenConfiguration = %v, %v", open, err)
	}
	r := applyOK(t, s, loadTenant(t, path))
	if !slices.Contains(r.Unchanged, `connection "legacy"`) {
		t.Errorf("re-apply: created %v, changed %v, unchanged %v", r.Created, r.Changed, r.Unchanged)
	}
}

func TestApplyCustomDatabaseProblems(t *testing.T) {
	tests := []struct {
		name  string
		login string
		want  string
	}{
		{name: "module the sandbox lacks", login: `function login(e, p, cb) { var m = require('mysql'); cb(); }`,
			want: "databases[0].options.customScripts.login: legacy/login: require of mysql: not available"},
		{name: "syntax error", login: "function login(e, p, cb) {\n  cb(;\n}",
			want: "databases[0].options.customScripts.login: legacy/login:2:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := applyService(t)
			_, err := s.Apply(t.Context(), loadTenant(t, customDBTenant(t, tc.login, "postgres://x")))
			got := strings.Join(applyProblems(t, err), "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", got, tc.want)
			}
			if _, err := s.GetConnection(t.Context(), "legacy"); err == nil {
				t.Error("a refused file stored the connection")
			}
		})
	}
}

// TestCustomDatabaseOverAPI: the Management API path takes code, never file references (a
// name ending in .js is compiled as code, so it fails rather than reading a server file), and
// keeps sealed values it is handed back.
func TestCustomDatabaseOverAPI(t *testing.T) {
	s := applyService(t)
	opts := map[string]any{"enabledDatabaseCustomization": true,
		"customScripts": map[string]any{"login": "/etc/passwd.js"}, "configuration": map[string]any{"K": "v"}}
	if _, err := s.CreateConnectionFrom(t.Context(), admin.ConnectionInput{Name: "api-legacy", Options: opts}); err == nil {
		t.Fatal("a file reference over the API was accepted")
	}
	opts["customScripts"] = map[string]any{"login": customDBLogin}
	c, err := s.CreateConnectionFrom(t.Context(), admin.ConnectionInput{Name: "api-legacy", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	sealed := c.Options["configuration"].(map[string]any)["K"].(string)
	if !strings.HasPrefix(sealed, "sealed:v1:") {
		t.Fatalf("configuration.K = %q", sealed)
	}
	// A PATCH that sends the options back as GET showed them keeps the value.
	back := map[string]any{"enabledDatabaseCustomization": true, "customScripts": map[string]any{"login": customDBLogin},
		"configuration": map[string]any{"K": sealed}}
	c2, err := s.UpdateConnection(t.Context(), c.ID, admin.ConnectionPatch{Options: &back})
	if err != nil {
		t.Fatal(err)
	}
	if open, err := scripted.OpenConfiguration(s.Box, "api-legacy", c2.Options["configuration"]); err != nil || open["K"] != "v" {
		t.Errorf("after PATCH: %v, %v", open, err)
	}
}

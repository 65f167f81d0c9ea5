package admin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store"
)

const hooksFile = `
actions:
  - name: add-roles
    code: ./actions/add-roles/code.js
    runtime: node18
    deployed: true
    dependencies: [{name: lodash, version: 4.17.21}]
    secrets: [{name: API_KEY, value: sk_live_123}]
    supported_triggers: [{id: post-login, version: v3}]
  - name: inline
    code: "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/y', 1); };"
  - name: m2m
    code: "exports.onExecuteCredentialsExchange = async (event, api) => { api.accessToken.setCustomClaim('https://x/m', 1); };"
    supported_triggers: [{id: credentials-exchange, version: v2}]
triggers:
  post-login:
    - action_name: inline
      display_name: Inline
    - action_name: add-roles
      display_name: Add roles
  credentials-exchange:
    - action_name: m2m
      display_name: Machines
rules:
  - name: second
    script: "function (user, context, callback) { callback(null, user, context); }"
    order: 2
    enabled: false
`

func TestApplyHooks(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "actions", "add-roles"), 0o755); err != nil {
		t.Fatal(err)
	}
	code := "exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('https://example.com/roles', event.authorization.roles);\n};\n"
	if err := os.WriteFile(filepath.Join(dir, "actions", "add-roles", "code.js"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	s := applyService(t)
	tf, err := config.ParseTenantFile([]byte(hooksFile), config.TenantOptions{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r := applyOK(t, s, tf)
	if diff := cmp.Diff([]string{"rule second", "action add-roles", "action inline", "action m2m"}, r.Created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"trigger credentials-exchange", "trigger post-login"}, r.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	a, err := s.Store.GetAction(t.Context(), "add-roles")
	if err != nil {
		t.Fatal(err)
	}
	if a.Code != code || !a.Deployed || len(a.Secrets) != 1 || a.SupportedTriggers[0] != "post-login" {
		t.Errorf("stored action: got %+v, want the file's code, deployed, one secret", a)
	}
	v, err := s.Box.Open(a.Secrets[0].ValueSealed, store.ActionSecretAAD("add-roles", "API_KEY"))
	if err != nil || string(v) != "sk_live_123" {
		t.Errorf("sealed secret: got %q, %v, want sk_live_123", v, err)
	}
	b, err := s.Store.TriggerBindings(t.Context(), store.TriggerPostLogin)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.TriggerBinding{{ActionName: "inline", DisplayName: "Inline"}, {ActionName: "add-roles", DisplayName: "Add roles"}}, b); diff != "" {
		t.Errorf("bindings (-want +got):\n%s", diff)
	}
	if b, err := s.Store.TriggerBindings(t.Context(), store.TriggerCredentialsExchange); err != nil ||
		!cmp.Equal([]store.TriggerBinding{{ActionName: "m2m", DisplayName: "Machines"}}, b) {
		t.Errorf("credentials-exchange bindings: got %+v (%v), want m2m", b, err)
	}
	rules, _ := s.Store.ListRules(t.Context())
	if len(rules) != 1 || rules[0].Order != 2 || rules[0].Enabled {
		t.Errorf("rules: got %+v, want second, order 2, disabled", rules)
	}
	again := applyOK(t, s, tf)
	if len(again.Created)+len(again.Changed) != 0 {
		t.Errorf("second apply: got created %q changed %q, want nothing", again.Created, again.Changed)
	}
}

func TestApplyHooksProblems(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "action syntax error with line and column",
			yaml: "actions:\n  - name: broken\n    code: \"exports.onExecutePostLogin = async (event, api) => {\\n  api.accessToken.setCustomClaim('a' 'b');\\n};\"\n",
			want: []string{"actions[0].code: does not compile: line 2, column 38: Unexpected string"},
		},
		{
			name: "rule syntax error",
			yaml: "rules:\n  - name: r\n    script: \"function (user, context, callback) {\\n  callback(null user);\\n}\"\n",
			want: []string{"rules[0].script: does not compile: line 2, column 17: Unexpected identifier"},
		},
		{
			name: "binding to an unknown action, missing file",
			yaml: "actions:\n  - name: a\n    code: ./nope.js\ntriggers:\n  post-login:\n    - action_name: ghost\n",
			want: []string{"actions[0].code: reading ./nope.js: no such file or directory",
				`triggers.post-login[0].action_name: no action named "ghost"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := applyService(t)
			tf, err := config.ParseTenantFile([]byte(tc.yaml), config.TenantOptions{BaseDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Apply(t.Context(), tf)
			if diff := cmp.Diff(tc.want, applyProblems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if acts, _ := s.Store.ListActions(t.Context()); len(acts) != 0 {
				t.Errorf("got %d actions stored, want none", len(acts))
			}
		})
	}
}

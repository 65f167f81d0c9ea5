package mgmtapi_test

import (
	"net/http"
	"strings"
	"testing"
)

const (
	actionV1 = "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/v', 1); };"
	actionV2 = "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/v', 2); };"
)

// TestActionsAPI follows the Deploy CLI's import of an action: create, list (status
// built), deploy, edit and deploy again, versions, rollback, bind to post-login by name,
// read the bindings back (action.name), delete.
func TestActionsAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:actions", "create:actions", "update:actions", "delete:actions")

	r := e.do(t, "POST", "/actions/actions", tok, map[string]any{
		"name": "claims", "code": actionV1, "runtime": "node22",
		"dependencies":       []map[string]string{{"name": "lodash", "version": "4.17.21"}},
		"secrets":            []map[string]string{{"name": "KEY", "value": "s3cret"}},
		"supported_triggers": []map[string]string{{"id": "post-login", "version": "v3"}},
	})
	if r.status != http.StatusCreated {
		t.Fatalf("create: status %d, body %s", r.status, r.raw)
	}
	created := r.obj(t)
	id, _ := created["id"].(string)
	if id == "" || created["status"] != "built" || created["all_changes_deployed"] != false || created["deployed_version"] != nil {
		t.Errorf("created action: %s, want an id, status built, not deployed", r.raw)
	}
	if sec := created["secrets"].([]any)[0].(map[string]any); sec["name"] != "KEY" || sec["value"] != nil {
		t.Errorf("secrets: got %v, want the name without the value", sec)
	}
	if trig := created["supported_triggers"].([]any)[0].(map[string]any); trig["id"] != "post-login" || trig["version"] != "v3" {
		t.Errorf("supported_triggers: got %v", trig)
	}

	r = e.do(t, "GET", "/actions/actions?page=0&per_page=100", tok, nil)
	list := r.obj(t)
	if r.status != 200 || list["total"] != float64(1) || list["per_page"] != float64(100) || len(list["actions"].([]any)) != 1 {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	if got := e.do(t, "GET", "/actions/actions?actionName=other", tok, nil).obj(t); got["total"] != float64(0) {
		t.Errorf("filtered by actionName: %v, want none", got)
	}

	r = e.do(t, "POST", "/actions/actions/"+id+"/deploy", tok, nil)
	v1 := r.obj(t)
	if r.status != http.StatusAccepted || v1["number"] != float64(1) || v1["deployed"] != true || v1["status"] != "built" ||
		v1["action"].(map[string]any)["name"] != "claims" {
		t.Fatalf("deploy: %d %s", r.status, r.raw)
	}
	r = e.do(t, "PATCH", "/actions/actions/"+id, tok, map[string]any{"name": "claims", "code": actionV2,
		"secrets": []map[string]string{{"name": "KEY"}}})
	patched := r.obj(t)
	dv, _ := patched["deployed_version"].(map[string]any)
	if r.status != 200 || patched["code"] != actionV2 || patched["all_changes_deployed"] != false || dv["code"] != actionV1 {
		t.Fatalf("patch: %d %s, want the new draft with version 1 still deployed", r.status, r.raw)
	}
	if r := e.do(t, "POST", "/actions/actions/"+id+"/deploy", tok, nil); r.obj(t)["number"] != float64(2) {
		t.Fatalf("second deploy: %s", r.raw)
	}
	if got := e.do(t, "GET", "/actions/actions/"+id, tok, nil).obj(t); got["all_changes_deployed"] != true {
		t.Errorf("after the second deploy: %v, want all changes deployed", got)
	}
	r = e.do(t, "GET", "/actions/actions/"+id+"/versions", tok, nil)
	vs := r.obj(t)["versions"].([]any)
	if len(vs) != 2 || vs[0].(map[string]any)["number"] != float64(2) || vs[0].(map[string]any)["deployed"] != true ||
		vs[1].(map[string]any)["deployed"] != false {
		t.Fatalf("versions: %s", r.raw)
	}
	v1id := v1["id"].(string)
	if got := e.do(t, "GET", "/actions/actions/"+id+"/versions/"+v1id, tok, nil).obj(t); got["code"] != actionV1 {
		t.Errorf("version 1: %v", got)
	}
	r = e.do(t, "POST", "/actions/actions/"+id+"/versions/"+v1id+"/deploy", tok, nil)
	if got := r.obj(t); r.status != http.StatusAccepted || got["number"] != float64(3) || got["code"] != actionV1 {
		t.Errorf("rollback: %d %s, want version 3 with version 1's code", r.status, r.raw)
	}

	r = e.do(t, "GET", "/actions/triggers", tok, nil)
	trigs := r.obj(t)["triggers"].([]any)
	if len(trigs) != 2 || trigs[0].(map[string]any)["id"] != "post-login" || trigs[0].(map[string]any)["version"] != "v3" ||
		trigs[1].(map[string]any)["id"] != "credentials-exchange" || trigs[1].(map[string]any)["version"] != "v2" {
		t.Errorf("triggers: %s", r.raw)
	}
	r = e.do(t, "PATCH", "/actions/triggers/post-login/bindings", tok, map[string]any{"bindings": []map[string]any{
		{"ref": map[string]string{"type": "action_name", "value": "claims"}, "display_name": "Claims"}}})
	if r.status != 200 {
		t.Fatalf("bind: %d %s", r.status, r.raw)
	}
	r = e.do(t, "GET", "/actions/triggers/post-login/bindings?page=0&per_page=50", tok, nil)
	bs := r.obj(t)["bindings"].([]any)
	if len(bs) != 1 || bs[0].(map[string]any)["display_name"] != "Claims" || bs[0].(map[string]any)["action"].(map[string]any)["name"] != "claims" {
		t.Fatalf("bindings: %s", r.raw)
	}
	wantError(t, e.do(t, "PATCH", "/actions/triggers/post-login/bindings", tok, map[string]any{"bindings": []map[string]any{
		{"ref": map[string]string{"type": "action_name", "value": "ghost"}}}}),
		400, "invalid_body", `Payload validation error: bindings[0].ref.value: no action has name "ghost"`)
	wantError(t, e.do(t, "GET", "/actions/triggers/pre-user-registration/bindings", tok, nil), 404, "inexistent_trigger", "The trigger does not exist.")

	r = e.do(t, "DELETE", "/actions/actions/"+id, tok, nil)
	if r.status != http.StatusConflict {
		t.Errorf("deleting a bound action: %d %s, want 409", r.status, r.raw)
	}
	if r := e.do(t, "DELETE", "/actions/actions/"+id+"?force=true", tok, nil); r.status != http.StatusNoContent {
		t.Errorf("delete force: %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "GET", "/actions/actions/"+id, tok, nil), 404, "inexistent_action", "The action does not exist.")
}

func TestActionsAPIErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:actions", "create:actions")
	wantError(t, e.do(t, "POST", "/actions/actions", tok, map[string]any{"name": "a",
		"code":               "exports.onExecutePostLogin = async (e, api) => {\n  api.x('a' 'b');\n};",
		"supported_triggers": []map[string]string{{"id": "post-login"}}}),
		400, "invalid_body", "Payload validation error: code: does not compile: line 2, column 13: Unexpected string")
	wantError(t, e.do(t, "POST", "/actions/actions", tok, map[string]any{"code": actionV1}),
		400, "invalid_body", "Payload validation error: supported_triggers: is required; name: is required")
	wantError(t, e.do(t, "GET", "/actions/actions", e.token(t, "read:rules"), nil),
		403, "insufficient_scope", "Insufficient scope, expected any of: read:actions")
	wantError(t, e.do(t, "POST", "/actions/actions", e.token(t, "read:actions"), map[string]any{}),
		403, "insufficient_scope", "Insufficient scope, expected any of: create:actions")
	wantError(t, e.do(t, "PATCH", "/actions/triggers/post-login/bindings", tok, map[string]any{"bindings": []any{}}),
		403, "insufficient_scope", "Insufficient scope, expected any of: update:actions")
	if evs := e.events.All(); len(evs) == 0 || evs[len(evs)-1].Type != "fapi" {
		t.Errorf("a refused write: events %+v, want an fapi event", evs)
	}
}

// TestActionsTestAPI runs an action's draft against sample events through
// POST /actions/actions/{id}/test: what it sets on the tokens, a deny, a secret from the
// action and one from the sample, and the refusals (bad payload, unknown action, scope).
func TestActionsTestAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:actions", "create:actions")
	code := `exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata && event.user.app_metadata.banned) { api.access.deny("banned user"); return; }
  api.accessToken.setCustomClaim("https://x/email", event.user.email);
  api.idToken.setCustomClaim("https://x/key", event.secrets.KEY);
  api.user.setAppMetadata("seen", true);
};`
	r := e.do(t, "POST", "/actions/actions", tok, map[string]any{"name": "tested", "code": code,
		"secrets":            []map[string]string{{"name": "KEY", "value": "from-action"}},
		"supported_triggers": []map[string]string{{"id": "post-login", "version": "v3"}}})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["id"].(string)
	path := "/actions/actions/" + id + "/test"

	cases := []struct {
		name    string
		payload map[string]any
		want    func(p map[string]any) string // "" when p is right
	}{
		{"claims from the event and the action's secret", map[string]any{"user": map[string]any{"email": "ann@example.com"}},
			func(p map[string]any) string {
				at, _ := p["access_token_claims"].(map[string]any)
				it, _ := p["id_token_claims"].(map[string]any)
				am, _ := p["app_metadata"].(map[string]any)
				if p["result"] != "allowed" || at["https://x/email"] != "ann@example.com" || it["https://x/key"] != "from-action" || am["seen"] != true {
					return "want allowed, the email claim, the action's secret and app_metadata.seen"
				}
				return ""
			}},
		{"a secret in the sample overrides the action's", map[string]any{"secrets": map[string]any{"KEY": "from-sample"}},
			func(p map[string]any) string {
				if it, _ := p["id_token_claims"].(map[string]any); it["https://x/key"] != "from-sample" {
					return "want the sample's secret"
				}
				return ""
			}},
		{"a deny is the result", map[string]any{"user": map[string]any{"app_metadata": map[string]any{"banned": true}}},
			func(p map[string]any) string {
				if res, _ := p["result"].(string); !strings.Contains(res, "banned user") {
					return "want the deny reason as the result"
				}
				return ""
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, "POST", path, tok, map[string]any{"payload": c.payload})
			if r.status != http.StatusOK {
				t.Fatalf("status %d, body %s", r.status, r.raw)
			}
			p, _ := r.obj(t)["payload"].(map[string]any)
			if msg := c.want(p); msg != "" {
				t.Errorf("payload %s: %s", r.raw, msg)
			}
		})
	}

	wantError(t, e.do(t, "POST", path, tok, map[string]any{}),
		400, "invalid_body", "Payload validation error: 'Expected type object' on property payload (the post-login event to test with).")
	wantError(t, e.do(t, "POST", path, tok, map[string]any{"payload": map[string]any{"user": map[string]any{"email": 5}}}),
		400, "invalid_body", "Payload validation error: payload.user.email: expected string, found number")
	wantError(t, e.do(t, "POST", "/actions/actions/act_nope/test", tok, map[string]any{"payload": map[string]any{}}),
		404, "inexistent_action", "The action does not exist.")
	wantError(t, e.do(t, "POST", path, e.token(t, "read:actions"), map[string]any{"payload": map[string]any{}}),
		403, "insufficient_scope", "Insufficient scope, expected any of: create:actions")
	// Testing changes nothing: the stored action is as it was.
	if got := e.do(t, "GET", "/actions/actions/"+id, tok, nil).obj(t); got["code"] != code {
		t.Errorf("after tests: action %v, want it unchanged", got)
	}
}

package admin_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

const (
	claimV1 = "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/v', 1); };"
	claimV2 = "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/v', 2); };"
)

// TestActionLifecycle drives an action through Auth0's lifecycle: a draft, deployed as
// version 1, edited (the edit does not run until deployed as version 2), rolled back to
// version 1's code as version 3, bound to post-login, and deleted.
func TestActionLifecycle(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	a, err := s.CreateAction(ctx, admin.ActionChange{Name: ptr("claims"), Code: ptr(claimV1), Runtime: ptr("node22"),
		SupportedTriggers: ptr([]string{store.TriggerPostLogin}),
		Secrets:           ptr([]admin.SecretChange{{Name: "KEY", Value: ptr("s3cret")}})}, false)
	if err != nil {
		t.Fatalf("CreateAction: %v", err)
	}
	if a.Deployed || a.Version != nil || a.AllChangesDeployed {
		t.Errorf("new draft: got deployed %v version %v all deployed %v, want a plain draft", a.Deployed, a.Version, a.AllChangesDeployed)
	}
	_, v1, err := s.DeployAction(ctx, a.ID)
	if err != nil || v1.Number != 1 || v1.Code != claimV1 {
		t.Fatalf("DeployAction: got %+v, %v, want version 1 of the draft", v1, err)
	}
	a, err = s.UpdateAction(ctx, a.ID, admin.ActionChange{Code: ptr(claimV2), Secrets: ptr([]admin.SecretChange{{Name: "KEY"}})})
	if err != nil {
		t.Fatalf("UpdateAction: %v", err)
	}
	if a.Code != claimV2 || a.Version == nil || a.Version.Code != claimV1 || a.AllChangesDeployed {
		t.Errorf("after an edit: draft %q, deployed %+v, all deployed %v; want the new draft and version 1 still deployed", a.Code, a.Version, a.AllChangesDeployed)
	}
	if v, err := s.Box.Open(a.Secrets[0].ValueSealed, store.ActionSecretAAD("claims", "KEY")); err != nil || string(v) != "s3cret" {
		t.Errorf("a secret sent back without value: got %q, %v, want the stored value kept", v, err)
	}
	if _, v2, err := s.DeployAction(ctx, a.ID); err != nil || v2.Number != 2 {
		t.Fatalf("second deploy: got %+v, %v, want version 2", v2, err)
	}
	_, v3, err := s.RollbackAction(ctx, a.ID, v1.ID)
	if err != nil || v3.Number != 3 || v3.Code != claimV1 {
		t.Fatalf("RollbackAction: got %+v, %v, want version 3 with version 1's code", v3, err)
	}
	_, vs, err := s.ActionVersions(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, v := range vs {
		nums = append(nums, v.Number)
	}
	if !slices.Equal(nums, []int{3, 2, 1}) {
		t.Errorf("versions: got %v, want [3 2 1]", nums)
	}
	got, err := s.GetAction(ctx, a.ID)
	if err != nil || got.Version.ID != v3.ID || got.Code != claimV2 {
		t.Errorf("after rollback: deployed %+v draft %q (%v), want version 3 deployed and the draft untouched", got.Version, got.Code, err)
	}

	bs, err := s.UpdateTriggerBindings(ctx, store.TriggerPostLogin, []admin.BindingRef{{Type: "action_name", Value: "claims"}})
	if err != nil || len(bs) != 1 || bs[0].DisplayName != "claims" || bs[0].Action.ID != a.ID {
		t.Fatalf("UpdateTriggerBindings: got %+v, %v, want claims bound under its own name", bs, err)
	}
	if err := s.DeleteAction(ctx, a.ID, false); admin.Status(err) != http.StatusConflict {
		t.Errorf("deleting a bound action without force: got %v, want a conflict", err)
	}
	if err := s.DeleteAction(ctx, a.ID, true); err != nil {
		t.Errorf("DeleteAction force: %v", err)
	}
	if _, err := s.GetAction(ctx, a.ID); admin.Status(err) != http.StatusNotFound {
		t.Errorf("GetAction after delete: got %v, want not found", err)
	}
}

func TestActionRules(t *testing.T) {
	cases := []struct {
		name   string
		change admin.ActionChange
		want   []string // ValidationError fields
	}{
		{"name and triggers required", admin.ActionChange{Code: ptr(claimV1)}, []string{"supported_triggers", "name"}},
		{"syntax error", admin.ActionChange{Name: ptr("a"), Code: ptr("exports.onExecutePostLogin = async (e, api) => { api.x('a' 'b'); };"),
			SupportedTriggers: ptr([]string{"post-login"})}, []string{"code"}},
		{"unknown runtime", admin.ActionChange{Name: ptr("a"), Code: ptr(claimV1), Runtime: ptr("python3"),
			SupportedTriggers: ptr([]string{"post-login"})}, []string{"runtime"}},
		{"secret twice", admin.ActionChange{Name: ptr("a"), Code: ptr(claimV1), SupportedTriggers: ptr([]string{"post-login"}),
			Secrets: ptr([]admin.SecretChange{{Name: "K", Value: ptr("1")}, {Name: "K", Value: ptr("2")}})}, []string{"secrets[1].name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := crudService(t)
			_, err := s.CreateAction(t.Context(), tc.change, false)
			if diff := cmp.Diff(tc.want, validationFields(err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s\n(%v)", diff, err)
			}
			if acts, _ := s.Store.ListActions(t.Context()); len(acts) != 0 {
				t.Errorf("got %d actions stored, want none", len(acts))
			}
		})
	}
	t.Run("compile error names line and column", func(t *testing.T) {
		s, _ := crudService(t)
		_, err := s.CreateAction(t.Context(), admin.ActionChange{Name: ptr("a"), SupportedTriggers: ptr([]string{"post-login"}),
			Code: ptr("exports.onExecutePostLogin = async (e, api) => {\n  api.x('a' 'b');\n};")}, false)
		if err == nil || !strings.Contains(err.Error(), "code: does not compile: line 2, column 13: Unexpected string") {
			t.Errorf("got %v, want the line and column", err)
		}
	})
	t.Run("name taken, rename refused, binding checks", func(t *testing.T) {
		s, _ := crudService(t)
		ctx := t.Context()
		ch := admin.ActionChange{Name: ptr("m2m"), Code: ptr("exports.onExecuteCredentialsExchange = async () => {};"),
			SupportedTriggers: ptr([]string{store.TriggerCredentialsExchange})}
		a, err := s.CreateAction(ctx, ch, true)
		if err != nil || !a.Deployed || !a.AllChangesDeployed {
			t.Fatalf("CreateAction deploy: got %+v, %v, want deployed", a, err)
		}
		if _, err := s.CreateAction(ctx, ch, false); admin.Status(err) != http.StatusConflict {
			t.Errorf("same name twice: got %v, want a conflict", err)
		}
		if _, err := s.UpdateAction(ctx, a.ID, admin.ActionChange{Name: ptr("other")}); admin.Status(err) != http.StatusBadRequest {
			t.Errorf("rename: got %v, want a validation error", err)
		}
		_, err = s.UpdateTriggerBindings(ctx, store.TriggerPostLogin, []admin.BindingRef{{Type: "action_id", Value: a.ID},
			{Type: "action_name", Value: "ghost"}, {Type: "binding_id", Value: "x"}})
		if diff := cmp.Diff([]string{"bindings[0].ref", "bindings[1].ref.value", "bindings[2].ref.type"}, validationFields(err)); diff != "" {
			t.Errorf("bad bindings (-want +got):\n%s", diff)
		}
		if _, err := s.TriggerBindings(ctx, "pre-user-registration"); admin.Status(err) != http.StatusNotFound {
			t.Errorf("unknown trigger: got %v, want not found", err)
		}
	})
}

func TestRules(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	script := "function (user, context, callback) { callback(null, user, context); }"
	r1, err := s.CreateRule(ctx, admin.RuleChange{Name: ptr("first"), Script: ptr(script)})
	if err != nil || r1.Order != 1 || !r1.Enabled {
		t.Fatalf("CreateRule: got %+v, %v, want order 1, enabled", r1, err)
	}
	r2, err := s.CreateRule(ctx, admin.RuleChange{Name: ptr("second one"), Script: ptr(script), Enabled: ptr(false), Stage: ptr("login_success")})
	if err != nil || r2.Order != 2 || r2.Enabled {
		t.Fatalf("CreateRule: got %+v, %v, want order 2, disabled", r2, err)
	}
	if _, err := s.CreateRule(ctx, admin.RuleChange{Name: ptr("first"), Script: ptr(script)}); admin.Status(err) != http.StatusConflict {
		t.Errorf("same name twice: got %v, want a conflict", err)
	}
	for _, bad := range []admin.RuleChange{
		{Name: ptr("bad/name"), Script: ptr(script)},
		{Name: ptr("x"), Script: ptr("function (user, context, callback) { callback(null user); }")},
		{Name: ptr("x"), Script: ptr(script), Stage: ptr("pre_authorize")},
		{Name: ptr("x")},
	} {
		if _, err := s.CreateRule(ctx, bad); admin.Status(err) != http.StatusBadRequest {
			t.Errorf("CreateRule(%+v): got %v, want a validation error", bad, err)
		}
	}
	r1, err = s.UpdateRule(ctx, r1.ID, admin.RuleChange{Name: ptr("renamed"), Order: ptr(5)})
	if err != nil || r1.Name != "renamed" || r1.Order != 5 {
		t.Fatalf("UpdateRule: got %+v, %v", r1, err)
	}
	if _, err := s.UpdateRule(ctx, r1.ID, admin.RuleChange{Name: ptr("second one")}); admin.Status(err) != http.StatusConflict {
		t.Errorf("renaming onto a taken name: got %v, want a conflict", err)
	}
	if _, err := s.UpdateRule(ctx, r1.ID, admin.RuleChange{Script: ptr("function (")}); admin.Status(err) != http.StatusBadRequest {
		t.Errorf("a broken script: got %v, want a validation error", err)
	}
	list, _ := s.ListRules(ctx, admin.RuleFilter{})
	if len(list) != 2 || list[0].Name != "second one" || list[1].Name != "renamed" || list[1].Script != script {
		t.Errorf("ListRules: got %+v, want second one (2) then renamed (5), script unchanged", list)
	}
	if enabled, _ := s.ListRules(ctx, admin.RuleFilter{Enabled: ptr(true)}); len(enabled) != 1 || enabled[0].ID != r1.ID {
		t.Errorf("enabled rules: got %+v, want only renamed", enabled)
	}
	if err := s.DeleteRule(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRule(ctx, r2.ID); admin.Status(err) != http.StatusNotFound {
		t.Errorf("DeleteRule twice: got %v, want not found", err)
	}
}

func TestRulesConfigs(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	if err := s.SetRulesConfig(ctx, "API_KEY", "one"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRulesConfig(ctx, "API_KEY", "two"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]string{{"bad key", "v"}, {"K", ""}, {strings.Repeat("k", 128), "v"}} {
		if err := s.SetRulesConfig(ctx, bad[0], bad[1]); admin.Status(err) != http.StatusBadRequest {
			t.Errorf("SetRulesConfig(%q, %q): got %v, want a validation error", bad[0], bad[1], err)
		}
	}
	keys, err := s.RulesConfigKeys(ctx)
	if err != nil || !slices.Equal(keys, []string{"API_KEY"}) {
		t.Errorf("RulesConfigKeys: got %v, %v", keys, err)
	}
	cs, _ := s.Store.ListRulesConfigs(ctx)
	if v, err := s.Box.Open(cs[0].ValueSealed, store.RulesConfigAAD("API_KEY")); err != nil || string(v) != "two" {
		t.Errorf("stored value: got %q, %v, want two, sealed", v, err)
	}
	if err := s.DeleteRulesConfig(ctx, "API_KEY"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRulesConfig(ctx, "API_KEY"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteRulesConfig twice: got %v, want not found", err)
	}
}

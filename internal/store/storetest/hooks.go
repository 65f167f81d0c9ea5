package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/store"
)

func testHooks(t *testing.T, newStore NewStore) {
	ctx := t.Context
	action := func(name string) store.Action {
		return store.Action{ID: "act_" + name, Name: name, Code: "exports.onExecutePostLogin = async () => {};",
			Runtime: "node18", Dependencies: []store.ActionDependency{{Name: "lodash", Version: "4.17.21"}},
			SupportedTriggers: []string{store.TriggerPostLogin},
			Secrets:           []store.ActionSecret{{Name: "KEY", ValueSealed: []byte{1, 2, 3}}},
			Deployed:          true, CreatedAt: at(0), UpdatedAt: at(0)}
	}
	t.Run("actions round-trip and replace keeps id", func(t *testing.T) {
		s := newStore(t)
		v0, err := s.HooksVersion(ctx())
		must(t, "HooksVersion", err)
		must(t, "PutAction b", s.PutAction(ctx(), action("b")))
		must(t, "PutAction a", s.PutAction(ctx(), action("a")))
		got, err := s.ListActions(ctx())
		must(t, "ListActions", err)
		if diff := cmp.Diff([]store.Action{action("a"), action("b")}, got); diff != "" {
			t.Errorf("ListActions: (-want +got)\n%s", diff)
		}
		repl := action("a")
		repl.ID, repl.Code, repl.CreatedAt, repl.UpdatedAt = "act_other", "// v2", at(5), at(5)
		must(t, "PutAction replace", s.PutAction(ctx(), repl))
		a, err := s.GetAction(ctx(), "a")
		must(t, "GetAction", err)
		if a.ID != "act_a" || a.Code != "// v2" || !a.CreatedAt.Equal(at(0)) || !a.UpdatedAt.Equal(at(5)) {
			t.Errorf("GetAction after replace: got id %q code %q created %v updated %v, want act_a, // v2, %v, %v",
				a.ID, a.Code, a.CreatedAt, a.UpdatedAt, at(0), at(5))
		}
		v1, err := s.HooksVersion(ctx())
		must(t, "HooksVersion", err)
		if v1 <= v0 {
			t.Errorf("HooksVersion after writes: got %d, want more than %d", v1, v0)
		}
		if _, err := s.GetAction(ctx(), "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetAction missing: got %v, want ErrNotFound", err)
		}
	})
	t.Run("bindings keep order and follow deletes", func(t *testing.T) {
		s := newStore(t)
		for _, n := range []string{"a", "b", "c"} {
			must(t, "PutAction", s.PutAction(ctx(), action(n)))
		}
		want := []store.TriggerBinding{{ActionName: "c", DisplayName: "C"}, {ActionName: "a", DisplayName: "A"}, {ActionName: "b", DisplayName: "B"}}
		must(t, "SetTriggerBindings", s.SetTriggerBindings(ctx(), store.TriggerPostLogin, want))
		got, err := s.TriggerBindings(ctx(), store.TriggerPostLogin)
		must(t, "TriggerBindings", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TriggerBindings: (-want +got)\n%s", diff)
		}
		v0, _ := s.HooksVersion(ctx())
		must(t, "DeleteAction", s.DeleteAction(ctx(), "a"))
		got, err = s.TriggerBindings(ctx(), store.TriggerPostLogin)
		must(t, "TriggerBindings", err)
		if diff := cmp.Diff([]store.TriggerBinding{want[0], want[2]}, got); diff != "" {
			t.Errorf("TriggerBindings after delete: (-want +got)\n%s", diff)
		}
		if v1, _ := s.HooksVersion(ctx()); v1 == v0 {
			t.Errorf("HooksVersion after DeleteAction: got %d, want a change", v1)
		}
		err = s.SetTriggerBindings(ctx(), store.TriggerPostLogin, []store.TriggerBinding{{ActionName: "nope"}})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("binding an unknown action: got %v, want ErrNotFound", err)
		}
		if got, _ := s.TriggerBindings(ctx(), store.TriggerPostLogin); len(got) != 2 {
			t.Errorf("bindings after a failed replace: got %d, want 2 (unchanged)", len(got))
		}
		if err := s.DeleteAction(ctx(), "a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteAction twice: got %v, want ErrNotFound", err)
		}
	})
	t.Run("rules ordered by order then name", func(t *testing.T) {
		s := newStore(t)
		rule := func(name string, order int, enabled bool) store.Rule {
			return store.Rule{ID: "rul_" + name, Name: name, Script: "function (u, c, cb) { cb(null, u, c); }",
				Order: order, Enabled: enabled, CreatedAt: at(0), UpdatedAt: at(0)}
		}
		must(t, "PutRule", s.PutRule(ctx(), rule("z", 1, true)))
		must(t, "PutRule", s.PutRule(ctx(), rule("y", 2, false)))
		must(t, "PutRule", s.PutRule(ctx(), rule("x", 2, true)))
		got, err := s.ListRules(ctx())
		must(t, "ListRules", err)
		if diff := cmp.Diff([]store.Rule{rule("z", 1, true), rule("x", 2, true), rule("y", 2, false)}, got); diff != "" {
			t.Errorf("ListRules: (-want +got)\n%s", diff)
		}
		must(t, "DeleteRule", s.DeleteRule(ctx(), "x"))
		if err := s.DeleteRule(ctx(), "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteRule twice: got %v, want ErrNotFound", err)
		}
	})
	t.Run("rule update by id renames", func(t *testing.T) {
		s := newStore(t)
		for _, n := range []string{"a", "b"} {
			must(t, "PutRule", s.PutRule(ctx(), store.Rule{ID: "rul_" + n, Name: n, Script: "//", Order: 1, Enabled: true, CreatedAt: at(0)}))
		}
		v0, _ := s.HooksVersion(ctx())
		must(t, "UpdateRule", s.UpdateRule(ctx(), "rul_a", func(r *store.Rule) error {
			r.Name, r.Order, r.Enabled, r.UpdatedAt = "c", 7, false, at(3)
			return nil
		}))
		got, err := s.ListRules(ctx())
		must(t, "ListRules", err)
		want := []store.Rule{{ID: "rul_b", Name: "b", Script: "//", Order: 1, Enabled: true, CreatedAt: at(0)},
			{ID: "rul_a", Name: "c", Script: "//", Order: 7, CreatedAt: at(0), UpdatedAt: at(3)}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListRules after rename: (-want +got)\n%s", diff)
		}
		if v1, _ := s.HooksVersion(ctx()); v1 == v0 {
			t.Errorf("HooksVersion after UpdateRule: got %d, want a change", v1)
		}
		err = s.UpdateRule(ctx(), "rul_a", func(r *store.Rule) error { r.Name = "b"; return nil })
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("renaming onto a taken name: got %v, want ErrConflict", err)
		}
		if err := s.UpdateRule(ctx(), "rul_none", func(*store.Rule) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateRule unknown id: got %v, want ErrNotFound", err)
		}
	})
	t.Run("action versions number from one and deploy", func(t *testing.T) {
		s := newStore(t)
		must(t, "PutAction", s.PutAction(ctx(), action("a")))
		must(t, "PutAction", s.PutAction(ctx(), action("b")))
		ver := func(id, code string) store.ActionVersion {
			return store.ActionVersion{ID: id, Code: code, Runtime: "node22",
				Dependencies:      []store.ActionDependency{{Name: "lodash", Version: "4.17.21"}},
				SupportedTriggers: []string{store.TriggerPostLogin}, CreatedAt: at(1)}
		}
		v1, err := s.DeployActionVersion(ctx(), "a", ver("ver_1", "// one"))
		must(t, "DeployActionVersion", err)
		v2, err := s.DeployActionVersion(ctx(), "a", ver("ver_2", "// two"))
		must(t, "DeployActionVersion", err)
		vb, err := s.DeployActionVersion(ctx(), "b", ver("ver_b", "// b"))
		must(t, "DeployActionVersion", err)
		if v1.Number != 1 || v2.Number != 2 || vb.Number != 1 || v1.ActionID != "act_a" || vb.ActionID != "act_b" {
			t.Errorf("version numbers: got a:%d,%d b:%d (action ids %q %q), want a:1,2 b:1", v1.Number, v2.Number, vb.Number, v1.ActionID, vb.ActionID)
		}
		a, err := s.GetAction(ctx(), "a")
		must(t, "GetAction", err)
		if a.DeployedVersion != "ver_2" || !a.Deployed {
			t.Errorf("deployed version: got %q (deployed %v), want ver_2", a.DeployedVersion, a.Deployed)
		}
		// A draft update keeps the deployed version.
		draft := action("a")
		draft.Code, draft.Deployed = "// three", true
		must(t, "PutAction", s.PutAction(ctx(), draft))
		if a, _ := s.GetAction(ctx(), "a"); a.DeployedVersion != "ver_2" || a.Code != "// three" {
			t.Errorf("after a draft update: got deployed %q code %q, want ver_2 and the new draft", a.DeployedVersion, a.Code)
		}
		list, err := s.ListActionVersions(ctx(), "act_a")
		must(t, "ListActionVersions", err)
		if diff := cmp.Diff([]store.ActionVersion{v2, v1}, list); diff != "" {
			t.Errorf("ListActionVersions: (-want +got)\n%s", diff)
		}
		got, err := s.GetActionVersion(ctx(), "act_a", "ver_1")
		must(t, "GetActionVersion", err)
		if diff := cmp.Diff(v1, got); diff != "" {
			t.Errorf("GetActionVersion: (-want +got)\n%s", diff)
		}
		if _, err := s.GetActionVersion(ctx(), "act_b", "ver_1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a version asked of another action: got %v, want ErrNotFound", err)
		}
		if _, err := s.DeployActionVersion(ctx(), "none", ver("ver_x", "")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deploying an unknown action: got %v, want ErrNotFound", err)
		}
		must(t, "DeleteAction", s.DeleteAction(ctx(), "a"))
		if list, _ := s.ListActionVersions(ctx(), "act_a"); len(list) != 0 {
			t.Errorf("versions of a deleted action: got %d, want 0", len(list))
		}
	})
	t.Run("rules configs", func(t *testing.T) {
		s := newStore(t)
		must(t, "PutRulesConfig", s.PutRulesConfig(ctx(), store.RulesConfig{Key: "b", ValueSealed: []byte{1}, CreatedAt: at(0), UpdatedAt: at(0)}))
		must(t, "PutRulesConfig", s.PutRulesConfig(ctx(), store.RulesConfig{Key: "a", ValueSealed: []byte{2}, CreatedAt: at(0), UpdatedAt: at(0)}))
		v0, _ := s.HooksVersion(ctx())
		must(t, "PutRulesConfig", s.PutRulesConfig(ctx(), store.RulesConfig{Key: "b", ValueSealed: []byte{3}, CreatedAt: at(9), UpdatedAt: at(9)}))
		if v1, _ := s.HooksVersion(ctx()); v1 == v0 {
			t.Errorf("HooksVersion after PutRulesConfig: got %d, want a change", v1)
		}
		got, err := s.ListRulesConfigs(ctx())
		must(t, "ListRulesConfigs", err)
		want := []store.RulesConfig{{Key: "a", ValueSealed: []byte{2}, CreatedAt: at(0), UpdatedAt: at(0)},
			{Key: "b", ValueSealed: []byte{3}, CreatedAt: at(0), UpdatedAt: at(9)}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListRulesConfigs: (-want +got)\n%s", diff)
		}
		must(t, "DeleteRulesConfig", s.DeleteRulesConfig(ctx(), "a"))
		if err := s.DeleteRulesConfig(ctx(), "a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteRulesConfig twice: got %v, want ErrNotFound", err)
		}
	})
	t.Run("parallel deploys number versions without gaps or clashes", func(t *testing.T) {
		s := newStore(t)
		must(t, "PutAction", s.PutAction(ctx(), action("a")))
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := s.DeployActionVersion(ctx(), "a", store.ActionVersion{ID: fmt.Sprintf("ver_%d", i), Code: "//", Runtime: "node18"})
				errs <- err
			}()
		}
		for range n {
			must(t, "DeployActionVersion", <-errs)
		}
		list, err := s.ListActionVersions(ctx(), "act_a")
		must(t, "ListActionVersions", err)
		for i, v := range list {
			if v.Number != n-i {
				t.Fatalf("version numbers: got %d at position %d, want %d..1", v.Number, i, n)
			}
		}
		if len(list) != n {
			t.Errorf("got %d versions, want %d", len(list), n)
		}
	})
	t.Run("create refuses a taken name", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateAction", s.CreateAction(ctx(), action("a")))
		dup := action("a")
		dup.ID = "act_other"
		if err := s.CreateAction(ctx(), dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateAction with a taken name: got %v, want ErrConflict", err)
		}
		r := store.Rule{ID: "rul_1", Name: "r", Script: "//", Order: 1, Enabled: true, CreatedAt: at(0)}
		must(t, "CreateRule", s.CreateRule(ctx(), r))
		r.ID = "rul_2"
		if err := s.CreateRule(ctx(), r); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateRule with a taken name: got %v, want ErrConflict", err)
		}
		if got, _ := s.GetAction(ctx(), "a"); got.ID != "act_a" {
			t.Errorf("the first action was replaced: id %q", got.ID)
		}
	})
}

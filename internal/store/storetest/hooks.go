package storetest

import (
	"errors"
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
}

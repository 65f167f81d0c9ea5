package sqlstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sesameauth/sesame/internal/store"
)

// TestCopyTenantState checks that Copy carries what an admin configured beyond the core
// records — Actions, Rules and their order, attack-protection settings, the breached-password
// list — and the live attack-protection state, so that a move between databases neither drops a
// customisation nor releases a blocked attacker.
func TestCopyTenantState(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	forEachCopy(t, toSQLiteAndPostgres, func(t *testing.T, dst, src *Store) {
		ctx := t.Context()
		ap := &store.AttackProtection{BruteForce: store.BruteForceProtection{Enabled: true, Shields: []string{"block"}, MaxAttempts: 3}}
		if err := src.UpdateTenant(ctx, func(tn *store.Tenant) error {
			tn.FriendlyName, tn.AttackProtection = "Acme", ap
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		act := store.Action{Name: "add-roles", ID: "act_1", Code: "exports.onExecutePostLogin = async () => {};",
			Runtime: "node18", SupportedTriggers: []string{store.TriggerPostLogin},
			Secrets: []store.ActionSecret{{Name: "K", ValueSealed: []byte("sealed")}}, Deployed: true, CreatedAt: now, UpdatedAt: now}
		if err := src.PutAction(ctx, act); err != nil {
			t.Fatal(err)
		}
		binding := []store.TriggerBinding{{ActionName: "add-roles", DisplayName: "Add roles"}}
		if err := src.SetTriggerBindings(ctx, store.TriggerPostLogin, binding); err != nil {
			t.Fatal(err)
		}
		rule := store.Rule{Name: "deny-contractors", ID: "rul_1", Script: "function (u, c, cb) { cb(null, u, c); }", Order: 2, Enabled: true, CreatedAt: now, UpdatedAt: now}
		if err := src.PutRule(ctx, rule); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := src.RecordFailure(ctx, "bf:alice@example.com|192.0.2.1", now, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := src.RecordFailure(ctx, "bf:gone", now.Add(-2*time.Hour), time.Hour); err != nil {
			t.Fatal(err)
		}
		const pwned = "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8" // SHA-1 of "password"
		if _, err := src.AddBreachedHashes(ctx, []string{pwned}); err != nil {
			t.Fatal(err)
		}
		versionBefore, err := dst.HooksVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}

		n, err := Copy(ctx, dst, src, CopyOptions{Now: now})
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
		if n.Actions != 1 || n.Rules != 1 || n.TriggerBindings != 1 || n.GuardState != 1 || n.BreachedHashes != 1 {
			t.Errorf("counts: got %+v, want 1 action, rule, binding, live counter (the expired one left behind) and breached hash", n)
		}
		gotTenant, err := dst.GetTenant(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(ap, gotTenant.AttackProtection); d != "" {
			t.Errorf("attack protection (-want +got):\n%s", d)
		}
		gotAct, err := dst.GetAction(ctx, "add-roles")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(act, gotAct, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("action (-want +got):\n%s", d)
		}
		gotBind, err := dst.TriggerBindings(ctx, store.TriggerPostLogin)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(binding, gotBind); d != "" {
			t.Errorf("bindings (-want +got):\n%s", d)
		}
		gotRules, err := dst.ListRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]store.Rule{rule}, gotRules); d != "" {
			t.Errorf("rules (-want +got):\n%s", d)
		}
		if c, err := dst.GetCounter(ctx, "bf:alice@example.com|192.0.2.1", now); err != nil || c != 3 {
			t.Errorf("brute-force counter on the target: got %d, %v; want 3", c, err)
		}
		if got, err := dst.BreachedSuffixes(ctx, pwned[:5]); err != nil || len(got) != 1 || got[0] != pwned[5:] {
			t.Errorf("breached suffixes on the target: got %v, %v; want [%s]", got, err, pwned[5:])
		}
		if v, err := dst.HooksVersion(ctx); err != nil || v <= versionBefore {
			t.Errorf("hooks version on the target: got %d, %v; want above %d so running nodes re-read", v, err, versionBefore)
		}
	})
}

package admin_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

func TestUpdateAttackProtection(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	got, err := s.AttackProtection(ctx)
	if err != nil || !cmp.Equal(got, guard.Defaults()) {
		t.Fatalf("AttackProtection before any write: got %+v, %v, want the defaults", got, err)
	}
	// A PATCH body decoded over the current section changes only what it names.
	got, err = s.UpdateAttackProtection(ctx, func(ap *store.AttackProtection) error {
		return json.Unmarshal([]byte(`{"max_attempts": 3, "allowlist": ["10.0.0.0/8"]}`), &ap.BruteForce)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := guard.Defaults()
	want.BruteForce.MaxAttempts, want.BruteForce.Allowlist = 3, []string{"10.0.0.0/8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after a change (-want +got):\n%s", diff)
	}
	_, err = s.UpdateAttackProtection(ctx, func(ap *store.AttackProtection) error {
		return json.Unmarshal([]byte(`{"stage": {"pre-login": {"max_attempts": 0}}, "shields": ["block", "nope"]}`), &ap.SuspiciousIP)
	})
	if diff := cmp.Diff([]string{"suspiciousIpThrottling.shields", "suspiciousIpThrottling.stage.pre-login.max_attempts"}, validationFields(err)); diff != "" {
		t.Errorf("bad settings (-want +got):\n%s\n%v", diff, err)
	}
	if stored, _ := s.AttackProtection(ctx); !cmp.Equal(stored, want) {
		t.Errorf("a refused change was stored: got %+v", stored)
	}
}

func TestGuardian(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	enabled := func() []string {
		fs, err := s.GuardianFactors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != len(admin.GuardianFactorNames) {
			t.Errorf("factors: got %d, want every Auth0 factor", len(fs))
		}
		var on []string
		for _, f := range fs {
			if f.Enabled {
				on = append(on, f.Name)
			}
		}
		return on
	}
	if got := enabled(); !slices.Equal(got, []string{"otp", "recovery-code"}) {
		t.Errorf("factors of a new tenant: got %v, want otp and recovery-code (what runs)", got)
	}
	if _, err := s.SetGuardianFactor(ctx, "email", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetGuardianFactor(ctx, "otp", false); err != nil {
		t.Fatal(err)
	}
	if got := enabled(); !slices.Equal(got, []string{"email", "recovery-code"}) {
		t.Errorf("factors after changes: got %v, want email and recovery-code", got)
	}
	if _, err := s.SetGuardianFactor(ctx, "duo", false); err != nil {
		t.Errorf("disabling an unsupported factor: %v, want accepted", err)
	}
	if _, err := s.SetGuardianFactor(ctx, "duo", true); admin.Status(err) != http.StatusBadRequest {
		t.Errorf("enabling an unsupported factor: got %v, want a validation error", err)
	}
	if _, err := s.SetGuardianFactor(ctx, "carrier-pigeon", false); admin.Status(err) != http.StatusNotFound {
		t.Errorf("an unknown factor: got %v, want not found", err)
	}
	if p, err := s.SetGuardianPolicies(ctx, []string{"all-applications"}); err != nil || !slices.Equal(p, []string{"all-applications"}) {
		t.Errorf("SetGuardianPolicies: got %v, %v", p, err)
	}
	if tn, _ := s.Store.GetTenant(ctx); tn.MFAPolicy != store.MFAAlways {
		t.Errorf("policy stored: got %q, want always", tn.MFAPolicy)
	}
	if _, err := s.SetGuardianPolicies(ctx, []string{"confidence-score"}); admin.Status(err) != http.StatusBadRequest {
		t.Errorf("adaptive MFA: got %v, want a validation error", err)
	}
	if p, _ := s.SetGuardianPolicies(ctx, []string{}); len(p) != 0 {
		t.Errorf("policies after []: got %v", p)
	}
}

func TestSigningKeys(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	keys := token.NewKeys(s.Store.(store.SigningKeys), s.Box, nil)
	s.Keys = keys
	if err := keys.Ensure(ctx, "RS256"); err != nil {
		t.Fatal(err)
	}
	before, err := s.SigningKeys(ctx)
	if err != nil || len(before) != 2 {
		t.Fatalf("SigningKeys: got %d keys, %v, want a current and a next", len(before), err)
	}
	var next string
	for _, k := range before {
		if len(k.Certificate) == 0 {
			t.Errorf("key %s has no certificate", k.KID)
		}
		if k.State == store.KeyNext {
			next = k.KID
		}
	}
	cur, err := s.RotateSigningKeys(ctx)
	if err != nil || cur.KID != next {
		t.Fatalf("RotateSigningKeys: got %+v, %v, want the next key %s current", cur, err, next)
	}
	rev, err := s.RevokeSigningKey(ctx, cur.KID)
	if err != nil || rev.State != store.KeyRevoked {
		t.Fatalf("RevokeSigningKey: got %+v, %v, want revoked", rev, err)
	}
	if _, err := s.RevokeSigningKey(ctx, cur.KID); admin.Status(err) != http.StatusConflict {
		t.Errorf("revoking twice: got %v, want a conflict", err)
	}
	if _, err := s.RevokeSigningKey(ctx, "nope"); admin.Status(err) != http.StatusNotFound {
		t.Errorf("revoking an unknown kid: got %v, want not found", err)
	}
	if _, err := s.SigningKey(ctx, "nope"); admin.Status(err) != http.StatusNotFound {
		t.Errorf("SigningKey unknown: got %v, want not found", err)
	}
}

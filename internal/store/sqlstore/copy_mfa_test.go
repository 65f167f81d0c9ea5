package sqlstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/store"
)

// TestCopyMFA checks that Copy carries enrolled authenticators and the tenant's MFA settings
// (a user must not lose their second factor in a move between databases).
func TestCopyMFA(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	forEachCopy(t, toSQLiteAndPostgres, func(t *testing.T, dst, src *Store) {
		ctx := t.Context()
		tenant := store.Tenant{FriendlyName: "Acme", MFAPolicy: store.MFAAlways, MFAFactors: store.MFAFactors{OTP: true, RecoveryCode: true}}
		if err := src.UpdateTenant(ctx, func(tn *store.Tenant) error { *tn = tenant; return nil }); err != nil {
			t.Fatal(err)
		}
		a := store.MFAAuthenticator{ID: "totp|dev_1", UserID: "auth0|1", Kind: store.AuthenticatorTOTP,
			SecretSealed: []byte("sealed"), Confirmed: true, CreatedAt: now, LastStep: 42}
		if err := src.CreateMFAAuthenticator(ctx, a); err != nil {
			t.Fatal(err)
		}
		n, err := Copy(ctx, dst, src, CopyOptions{Now: now})
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
		if n.MFAAuthenticators != 1 {
			t.Errorf("MFAAuthenticators copied: got %d, want 1", n.MFAAuthenticators)
		}
		got, err := dst.ListMFAAuthenticators(ctx, "auth0|1")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]store.MFAAuthenticator{a}, got); d != "" {
			t.Errorf("authenticators (-want +got):\n%s", d)
		}
		gotTenant, err := dst.GetTenant(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if gotTenant.MFAPolicy != tenant.MFAPolicy || gotTenant.MFAFactors != tenant.MFAFactors {
			t.Errorf("tenant MFA: got %q %+v, want %q %+v", gotTenant.MFAPolicy, gotTenant.MFAFactors, tenant.MFAPolicy, tenant.MFAFactors)
		}
	})
}

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func testMFA(t *testing.T, newStore NewStore) {
	totp := func(id, user string) store.MFAAuthenticator {
		return store.MFAAuthenticator{ID: id, UserID: user, Kind: store.AuthenticatorTOTP,
			SecretSealed: []byte{1, 2, 3}, CreatedAt: at(0)}
	}
	t.Run("tenant policy and factors round trip", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		want := store.Tenant{FriendlyName: "Acme", MFAPolicy: store.MFAAlways,
			MFAFactors: store.MFAFactors{OTP: true, Email: true}}
		must(t, "UpdateTenant", s.UpdateTenant(ctx, func(tn *store.Tenant) error { *tn = want; return nil }))
		got, err := s.GetTenant(ctx)
		must(t, "GetTenant", err)
		diff(t, "tenant", got, want)
	})
	t.Run("authenticators round trip, list per user, confirm and delete", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		a := totp("totp|dev_a", "auth0|1")
		rc := store.MFAAuthenticator{ID: "recovery-code|dev_b", UserID: "auth0|1", Kind: store.AuthenticatorRecoveryCode,
			CodeHash: "h1", CreatedAt: at(time.Second)}
		other := totp("totp|dev_c", "auth0|2")
		for _, x := range []store.MFAAuthenticator{a, rc, other} {
			must(t, "CreateMFAAuthenticator", s.CreateMFAAuthenticator(ctx, x))
		}
		if err := s.CreateMFAAuthenticator(ctx, a); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate id: got %v, want ErrConflict", err)
		}
		got, err := s.ListMFAAuthenticators(ctx, "auth0|1")
		must(t, "ListMFAAuthenticators", err)
		diff(t, "authenticators", got, []store.MFAAuthenticator{a, rc})
		must(t, "ConfirmMFAAuthenticator", s.ConfirmMFAAuthenticator(ctx, a.ID))
		g, err := s.GetMFAAuthenticator(ctx, a.ID)
		must(t, "GetMFAAuthenticator", err)
		if !g.Confirmed {
			t.Errorf("after confirm: got Confirmed false, want true")
		}
		if err := s.DeleteMFAAuthenticator(ctx, "auth0|2", a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete another user's authenticator: got %v, want ErrNotFound", err)
		}
		must(t, "DeleteMFAAuthenticator", s.DeleteMFAAuthenticator(ctx, "auth0|1", a.ID))
		n, err := s.DeleteMFAAuthenticators(ctx, "auth0|1")
		must(t, "DeleteMFAAuthenticators", err)
		if n != 1 {
			t.Errorf("DeleteMFAAuthenticators: got %d, want 1", n)
		}
		if got, _ := s.ListMFAAuthenticators(ctx, "auth0|2"); len(got) != 1 {
			t.Errorf("other user's authenticators after reset: got %d, want 1", len(got))
		}
	})
	t.Run("TOTP steps are used once and only forward", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, "CreateMFAAuthenticator", s.CreateMFAAuthenticator(ctx, totp("totp|dev_a", "auth0|1")))
		cases := []struct {
			step int64
			want error
		}{{100, nil}, {100, store.ErrConflict}, {99, store.ErrConflict}, {101, nil}}
		for _, c := range cases {
			if err := s.AdvanceTOTPStep(ctx, "totp|dev_a", c.step); !errors.Is(err, c.want) {
				t.Errorf("AdvanceTOTPStep(%d): got %v, want %v", c.step, err, c.want)
			}
		}
		if err := s.AdvanceTOTPStep(ctx, "totp|dev_missing", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AdvanceTOTPStep of a missing authenticator: got %v, want ErrNotFound", err)
		}
		ok := 0
		for _, err := range parallel(10, func(int) error { return s.AdvanceTOTPStep(ctx, "totp|dev_a", 500) }) {
			if err == nil {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("10 parallel uses of one step: got %d successes, want 1", ok)
		}
	})
	t.Run("recovery code replaced once", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		rc := store.MFAAuthenticator{ID: "recovery-code|dev_b", UserID: "auth0|1", Kind: store.AuthenticatorRecoveryCode, CodeHash: "old"}
		must(t, "CreateMFAAuthenticator", s.CreateMFAAuthenticator(ctx, rc))
		must(t, "ReplaceRecoveryCode", s.ReplaceRecoveryCode(ctx, rc.ID, "old", "new"))
		if err := s.ReplaceRecoveryCode(ctx, rc.ID, "old", "newer"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second replace of the old hash: got %v, want ErrConflict", err)
		}
		g, err := s.GetMFAAuthenticator(ctx, rc.ID)
		must(t, "GetMFAAuthenticator", err)
		if g.CodeHash != "new" {
			t.Errorf("code hash: got %q, want %q", g.CodeHash, "new")
		}
	})
	t.Run("transactions are consumed once", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		tx := store.MFATransaction{ID: "h", UserID: "auth0|1", ClientID: "c", Connection: "db", Audience: "https://api",
			Scope: "openid", AuthTime: at(0), CreatedAt: at(0), ExpiresAt: at(10 * time.Minute)}
		must(t, "CreateMFATransaction", s.CreateMFATransaction(ctx, tx))
		got, err := s.GetMFATransaction(ctx, "h")
		must(t, "GetMFATransaction", err)
		diff(t, "transaction", got, tx)
		ok := 0
		for _, err := range parallel(10, func(int) error { return s.ConsumeMFATransaction(ctx, "h", at(time.Minute)) }) {
			if err == nil {
				ok++
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("ConsumeMFATransaction: got %v, want nil or ErrConflict", err)
			}
		}
		if ok != 1 {
			t.Errorf("10 parallel consumptions: got %d successes, want 1", ok)
		}
		if err := s.ConsumeMFATransaction(ctx, "missing", at(0)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("consume missing: got %v, want ErrNotFound", err)
		}
	})
	t.Run("OOB challenges are used once and purged after expiry", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		c := store.OOBChallenge{CodeHash: "oob", TransactionID: "h", AuthenticatorID: "email|dev_a", BindingHash: "b",
			ExpiresAt: at(5 * time.Minute)}
		must(t, "CreateOOBChallenge", s.CreateOOBChallenge(ctx, c))
		got, err := s.GetOOBChallenge(ctx, "oob")
		must(t, "GetOOBChallenge", err)
		diff(t, "challenge", got, c)
		must(t, "UseOOBChallenge", s.UseOOBChallenge(ctx, "oob", at(time.Minute)))
		if err := s.UseOOBChallenge(ctx, "oob", at(time.Minute)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second use: got %v, want ErrConflict", err)
		}
		n, err := s.DeleteExpiredMFA(ctx, at(6*time.Minute))
		must(t, "DeleteExpiredMFA", err)
		if n != 1 {
			t.Errorf("DeleteExpiredMFA: got %d, want 1", n)
		}
		if _, err := s.GetOOBChallenge(ctx, "oob"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after purge: got %v, want ErrNotFound", err)
		}
	})
}

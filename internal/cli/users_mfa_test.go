package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

func TestUsersMFACommands(t *testing.T) {
	h := newHarness(t)
	h.ok("", "connections", "create", "--name", conn)
	var u userOut
	h.okJSON(&u, "Secret123\n", "users", "create", "--connection", conn, "--email", "alice@example.com", "--password-stdin")
	st, err := sqlstore.Open(t.Context(), "sqlite://"+h.db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, a := range []store.MFAAuthenticator{
		{ID: "totp|dev_1", UserID: u.UserID, Kind: store.AuthenticatorTOTP, SecretSealed: []byte{1}, Confirmed: true, CreatedAt: now},
		{ID: "recovery-code|dev_2", UserID: u.UserID, Kind: store.AuthenticatorRecoveryCode, CodeHash: "h", Confirmed: true, CreatedAt: now.Add(time.Second)},
	} {
		if err := st.CreateMFAAuthenticator(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	var list []struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Confirmed bool   `json:"confirmed"`
	}
	h.okJSON(&list, "", "users", "mfa", "list", u.UserID)
	if len(list) != 2 || list[0].ID != "totp|dev_1" || list[0].Type != "totp" || !list[0].Confirmed || list[1].Type != "recovery-code" {
		t.Errorf("mfa list: got %+v, want the totp then the recovery-code authenticator", list)
	}
	if out := h.ok("", "users", "mfa", "list", u.UserID); !strings.Contains(out, "totp|dev_1") || !strings.Contains(out, "CONFIRMED") {
		t.Errorf("mfa list (table): got %q, want a table with totp|dev_1", out)
	}
	if out := h.ok("", "users", "mfa", "reset", u.UserID); !strings.Contains(out, "2 authenticators deleted") {
		t.Errorf("mfa reset: got %q, want 2 authenticators deleted", out)
	}
	h.okJSON(&list, "", "users", "mfa", "list", u.UserID)
	if len(list) != 0 {
		t.Errorf("mfa list after reset: got %+v, want none", list)
	}
	h.fails("not found", "", "users", "mfa", "reset", "auth0|nobody")
}

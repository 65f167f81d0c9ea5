package oauthserver_test

import (
	"net/http"
	"testing"

	"github.com/sesameauth/sesame/internal/store"
)

// TestRefreshRefusedByHookKeepsToken: an Action that denies or throws on a refresh exchange
// refuses it without spending the presented refresh token, which the client can still use once
// the hook lets it through; api.refreshToken.revoke still revokes (TestHooksThroughTokenEndpoint).
func TestRefreshRefusedByHookKeepsToken(t *testing.T) {
	cases := []struct {
		name             string
		code             string
		status           int
		errCode, errDesc string
	}{
		{
			name:   "deny",
			code:   `if (event.request.body.mode === 'refuse') { api.access.deny('Not now.'); }`,
			status: http.StatusForbidden, errCode: "access_denied", errDesc: "Not now.",
		},
		{
			name:   "throw",
			code:   `if (event.request.body.mode === 'refuse') { throw new Error('boom'); }`,
			status: http.StatusForbidden, errCode: "access_denied", errDesc: "The login was denied because a Rule or Action failed.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.putAction("gate", action(`if (event.transaction.protocol === 'oauth2-refresh-token') {
  `+tc.code+`
}`), nil)
			e.bind("gate")
			rt := e.login("scope", "openid offline_access").str("refresh_token")
			if rt == "" {
				t.Fatal("login gave no refresh token")
			}
			wantHookError(t, e.postForm("/oauth/token", refreshForm(rt, "mode", "refuse")), tc.status, tc.errCode, tc.errDesc)
			wantHookError(t, e.postForm("/oauth/token", refreshForm(rt, "mode", "refuse")), tc.status, tc.errCode, tc.errDesc)

			r := e.postForm("/oauth/token", refreshForm(rt))
			if r.Status != http.StatusOK || r.str("access_token") == "" || r.str("id_token") == "" {
				t.Fatalf("refresh after the refusals: got %d %s, want 200 with tokens", r.Status, r.Raw)
			}
			next := r.str("refresh_token")
			if next == "" || next == rt {
				t.Fatalf("refresh after the refusals: refresh token %q, want a new one (rotation)", next)
			}
			// The accepted exchange did spend rt (rotation, no leeway): presenting it again is reuse.
			wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt)), invalidRefresh)
		})
	}
}

// TestRefreshMultifactorEnable: api.multifactor.enable() on a refresh exchange is obeyed, as at
// Auth0: 403 mfa_required with an mfa_token and mfa_requirements, no tokens, a mfar event, and
// the presented refresh token left unspent. Passing the factor with the MFA grant then issues
// the tokens.
func TestRefreshMultifactorEnable(t *testing.T) {
	e := newEnv(t)
	if err := e.st.UpdateClient(t.Context(), appID, func(c *store.Client) error {
		c.GrantTypes = append(c.GrantTypes, grantMFAOTP)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.putAction("mfa", action(`if (event.transaction.protocol === 'oauth2-refresh-token') { api.multifactor.enable('any'); }`), nil)
	e.bind("mfa")
	rt := e.login("scope", "openid offline_access").str("refresh_token")
	if rt == "" {
		t.Fatal("login gave no refresh token")
	}

	r := e.postForm("/oauth/token", refreshForm(rt))
	wantError(t, "refresh", r, http.StatusForbidden, "mfa_required", "Multifactor authentication required")
	if r.str("mfa_token") == "" || r.str("access_token") != "" || r.str("refresh_token") != "" {
		t.Fatalf("refresh: got %s, want an mfa_token and no tokens", r.Raw)
	}
	diff(t, "mfa_requirements", r.Body["mfa_requirements"], any(map[string]any{"enroll": []any{map[string]any{"type": "otp"}}}))
	if ev := e.lastLog("mfar"); ev.UserID != e.alice {
		t.Errorf("mfar event: got user %q, want %q", ev.UserID, e.alice)
	}
	if fam, tok, err := e.st.GetRefreshToken(t.Context(), hashOf(rt)); err != nil || !fam.RevokedAt.IsZero() || !tok.RotatedAt.IsZero() {
		t.Errorf("presented refresh token after mfa_required: family revoked %v, rotated %v (%v); want live and unspent",
			fam.RevokedAt, tok.RotatedAt, err)
	}

	mfaToken := r.str("mfa_token")
	secret, _ := e.enrolOTP(mfaToken)
	r = e.mfaGrant(grantMFAOTP, "mfa_token", mfaToken, "otp", e.otpCode(secret, e.clock.Now()))
	if r.Status != http.StatusOK || r.str("access_token") == "" || r.str("id_token") == "" {
		t.Fatalf("mfa-otp after the refresh: got %d %s, want 200 with tokens", r.Status, r.Raw)
	}
	if c := e.verify(r.str("access_token")).Claims; c["sub"] != e.alice {
		t.Errorf("access token sub: got %v, want %s", c["sub"], e.alice)
	}
}

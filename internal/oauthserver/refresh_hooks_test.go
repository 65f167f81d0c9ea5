package oauthserver_test

import (
	"net/http"
	"testing"
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

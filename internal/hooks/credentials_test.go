package hooks_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/hooks"
)

func TestCredentialsExchange(t *testing.T) {
	ev := hooks.CredentialsEvent{Client: hooks.Client{ClientID: "m2m", Name: "Backend", Metadata: map[string]string{"tier": "gold"}},
		ResourceServer: "https://api", RequestedScopes: []string{"read:x"}, Scopes: []string{"read:x"},
		Request:  hooks.Request{IP: "192.0.2.7", Method: "POST", Body: map[string]string{"grant_type": "client_credentials"}},
		TenantID: "acme"}
	cases := []struct {
		name       string
		actions    []hooks.Action
		wantClaims map[string]any
		wantDenied *hooks.DeniedError
		wantExec   bool // the error is an ExecutionError
	}{
		{
			name: "event fields and claims, later action sees earlier claims",
			actions: []hooks.Action{
				{Name: "one", Code: `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim('https://x/who', [event.client.client_id, event.client.name, event.client.metadata.tier,
    event.resource_server.identifier, event.tenant.id, event.transaction.requested_scopes.join(','),
    event.accessToken.scope.join(','), event.request.ip, event.request.body.grant_type, event.secrets.K].join('|'));
};`, Secrets: map[string]string{"K": "v"}},
				{Name: "two", Code: `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim('https://x/saw', Object.keys(event.accessToken.customClaims).join(','));
};`},
			},
			wantClaims: map[string]any{"https://x/who": "m2m|Backend|gold|https://api|acme|read:x|read:x|192.0.2.7|client_credentials|v",
				"https://x/saw": "https://x/who"},
		},
		{
			name: "deny with Auth0's code and reason stops the flow",
			actions: []hooks.Action{
				{Name: "deny", Code: `exports.onExecuteCredentialsExchange = async (event, api) => { api.access.deny('invalid_scope', 'no ' + event.client.name); };`},
				{Name: "never", Code: `exports.onExecuteCredentialsExchange = async (event, api) => { api.accessToken.setCustomClaim('https://x/n', 1); };`},
			},
			wantClaims: map[string]any{},
			wantDenied: &hooks.DeniedError{Code: "invalid_scope", Reason: "no Backend"},
		},
		{
			name:       "a post-login action does not serve this trigger",
			actions:    []hooks.Action{{Name: "pl", Code: `exports.onExecutePostLogin = async () => {};`}},
			wantClaims: map[string]any{},
			wantExec:   true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := hooks.NewEngine(hooks.Options{}).Flow(nil, tc.actions)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.CredentialsExchange(t.Context(), ev)
			var denied *hooks.DeniedError
			var exec *hooks.ExecutionError
			switch {
			case tc.wantDenied != nil:
				if !errors.As(err, &denied) || *denied != *tc.wantDenied {
					t.Errorf("got error %v, want %+v", err, tc.wantDenied)
				}
			case tc.wantExec:
				if !errors.As(err, &exec) {
					t.Errorf("got error %v, want an ExecutionError", err)
				}
			case err != nil:
				t.Fatalf("got error %v, want nil", err)
			}
			if diff := cmp.Diff(tc.wantClaims, out.AccessClaims); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

package oauthserver_test

import (
	stdcmp "cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

const (
	m2mID     = "app-machine-0000000000000000000004"
	m2mSecret = "m2m-secret-0123456789abcdef0123456789abcdef"
	otherAPI  = "https://other.example.com"
)

// withM2M adds a confidential machine-to-machine client granted both scopes of the sample
// API, and a second API it holds no grant for.
func (e *env) withM2M() {
	e.t.Helper()
	e.mustClient(store.Client{ClientID: m2mID, Name: "Backend", AppType: "non_interactive",
		SecretHash: password.HashSecret(m2mSecret), TokenEndpointAuthMethod: "client_secret_post",
		GrantTypes: []string{"client_credentials"}, Metadata: map[string]string{"tier": "gold"}})
	e.mustAPI(store.ResourceServer{Identifier: otherAPI, Name: "Other", Scopes: []store.Scope{{Value: "read:other"}}})
	e.mustGrant(m2mID, apiID, "read:sample", "write:sample")
}

func (e *env) mustGrant(clientID, audience string, scope ...string) {
	e.t.Helper()
	if scope == nil {
		scope = []string{}
	}
	if err := e.st.CreateClientGrant(e.t.Context(), store.ClientGrant{ID: store.NewClientGrantID(), ClientID: clientID,
		Audience: audience, Scope: scope, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}); err != nil {
		e.t.Fatal(err)
	}
}

// ccForm is a client credentials request of the M2M client for the sample API.
func ccForm(kv ...string) url.Values {
	return formWith(url.Values{"grant_type": {"client_credentials"}, "client_id": {m2mID}, "client_secret": {m2mSecret},
		"audience": {apiID}}, kv...)
}

func TestClientCredentialsErrors(t *testing.T) {
	const notAllowed = "Grant type 'client_credentials' not allowed for the client."
	tests := []struct {
		name   string
		setup  func(e *env)
		form   url.Values
		status int
		code   string
		desc   string
	}{
		{name: "no audience and no default audience", form: ccForm("audience", ""), status: 403, code: "access_denied",
			desc: "No audience parameter was provided, and no default audience has been configured"},
		{name: "unknown audience", form: ccForm("audience", "https://nope.example.com"), status: 403, code: "access_denied",
			desc: "Service not found: https://nope.example.com"},
		{name: "no client grant for the API", form: ccForm("audience", otherAPI), status: 403, code: "access_denied",
			desc: `Client is not authorized to access "https://other.example.com". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`},
		{name: "scope outside the grant", form: ccForm("scope", "read:sample admin delete:all"), status: 403, code: "access_denied",
			desc: "Client has not been granted scopes: admin delete:all"},
		{name: "scope of the API the grant lacks", setup: func(e *env) {
			if err := e.st.UpdateResourceServer(t.Context(), apiID, func(rs *store.ResourceServer) error {
				rs.Scopes = append(rs.Scopes, store.Scope{Value: "admin"})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}, form: ccForm("scope", "admin"), status: 403, code: "access_denied", desc: "Client has not been granted scopes: admin"},
		{name: "grant type not in the client's grant_types", setup: func(e *env) { e.mustGrant(appID, apiID) },
			form: ccForm("client_id", appID, "client_secret", appSecret), status: 403, code: "unauthorized_client", desc: notAllowed},
		{name: "public client", setup: func(e *env) {
			// Admin refuses client_credentials for a public client; a record written before
			// that rule is refused at the token endpoint all the same.
			if err := e.st.UpdateClient(t.Context(), spaID, func(c *store.Client) error {
				c.GrantTypes = append(c.GrantTypes, "client_credentials")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			e.mustGrant(spaID, apiID, "read:sample")
		}, form: ccForm("client_id", spaID, "client_secret", ""), status: 403, code: "unauthorized_client", desc: notAllowed},
		{name: "wrong client secret", form: ccForm("client_secret", "wrong-secret-0123456789abcdef0123456789"), status: 401,
			code: "access_denied", desc: "Unauthorized"},
		{name: "an Action denies", setup: func(e *env) {
			e.putAction("gate", `exports.onExecuteCredentialsExchange = async (event, api) => {
  if (event.client.metadata.tier === 'gold') api.access.deny('invalid_scope', 'Gold clients must ask for a scope');
};`, nil)
			e.bindTrigger(store.TriggerCredentialsExchange, "gate")
		}, form: ccForm(), status: 400, code: "invalid_scope", desc: "Gold clients must ask for a scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.withM2M()
			if tc.setup != nil {
				tc.setup(e)
			}
			r := e.postForm("/oauth/token", tc.form)
			want := map[string]any{"error": tc.code, "error_description": tc.desc}
			if r.Status != tc.status || !cmp.Equal(want, r.Body) {
				t.Fatalf("got %d %s, want %d %v", r.Status, r.Raw, tc.status, want)
			}
			if ev := e.lastLog("feccft"); ev.Description != tc.desc || ev.ClientID != tc.form.Get("client_id") {
				t.Errorf("feccft log: got description %q client %q, want %q %q", ev.Description, ev.ClientID, tc.desc, tc.form.Get("client_id"))
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	const jwtM2M = "app-machine-private-key-jwt-00005"
	tests := []struct {
		name      string
		setup     func(e *env)
		form      func(e *env) url.Values
		header    []string
		clientID  string
		wantScope string
		wantAud   string
		wantExp   int
		// extra are further claims the token must carry.
		extra map[string]any
	}{
		{name: "client_secret_post: every granted scope", form: func(*env) url.Values { return ccForm() },
			wantScope: "read:sample write:sample"},
		{name: "client_secret_basic", form: func(*env) url.Values { return ccForm("client_id", "", "client_secret", "") },
			header: []string{"Authorization", basic(m2mID, m2mSecret)}, wantScope: "read:sample write:sample"},
		{name: "private_key_jwt", setup: func(e *env) {
			e.mustClient(store.Client{ClientID: jwtM2M, Name: "Signed backend", AppType: "non_interactive",
				TokenEndpointAuthMethod: "private_key_jwt", GrantTypes: []string{"client_credentials"},
				Credentials: []store.ClientCredential{{ID: "cred_1", Name: "k", PEM: pubPEM}}})
			e.mustGrant(jwtM2M, apiID, "read:sample")
		}, form: func(e *env) url.Values {
			return ccForm("client_id", "", "client_secret", "", "client_assertion", e.assertion(key, jwtM2M, nil),
				"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		}, clientID: jwtM2M, wantScope: "read:sample"},
		{name: "scope narrows the grant", form: func(*env) url.Values { return ccForm("scope", "write:sample") },
			wantScope: "write:sample"},
		{name: "tenant default audience", setup: func(e *env) {
			if err := e.st.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.DefaultAudience = apiID; return nil }); err != nil {
				t.Fatal(err)
			}
		}, form: func(*env) url.Values { return ccForm("audience", "") }, wantScope: "read:sample write:sample"},
		{name: "API lifetime, RBAC permissions, a scope the API dropped", setup: func(e *env) {
			if err := e.st.UpdateResourceServer(t.Context(), apiID, func(rs *store.ResourceServer) error {
				rs.TokenLifetime, rs.TokenDialect, rs.EnforcePolicies = 600, "access_token_authz", true
				rs.Scopes = rs.Scopes[:1]
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}, form: func(*env) url.Values { return ccForm() }, wantScope: "read:sample", wantExp: 600,
			extra: map[string]any{"permissions": []any{"read:sample"}}},
		{name: "an Action adds a claim; post-login actions do not run", setup: func(e *env) {
			e.putAction("claims", `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim('https://example.com/tier', event.client.metadata.tier + ':' + event.resource_server.identifier +
    ':' + event.transaction.requested_scopes.join(',') + ':' + event.secrets.K);
};`, map[string]string{"K": "s3"})
			e.bindTrigger(store.TriggerCredentialsExchange, "claims")
			e.putAction("deny-logins", action(`api.access.deny('no logins');`), nil)
			e.bind("deny-logins")
		}, form: func(*env) url.Values { return ccForm("scope", "read:sample") }, wantScope: "read:sample",
			extra: map[string]any{"https://example.com/tier": "gold:" + apiID + ":read:sample:s3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.withM2M()
			if tc.setup != nil {
				tc.setup(e)
			}
			clientID := stdcmp.Or(tc.clientID, m2mID)
			r := e.postForm("/oauth/token", tc.form(e), tc.header...)
			if r.Status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", r.Status, r.Raw)
			}
			wantExp := stdcmp.Or(tc.wantExp, 86400)
			wantBody := map[string]any{"access_token": r.Body["access_token"], "scope": tc.wantScope,
				"expires_in": float64(wantExp), "token_type": "Bearer"}
			if diff := cmp.Diff(wantBody, r.Body); diff != "" {
				t.Errorf("body: no ID or refresh token, Auth0's fields (-want +got):\n%s", diff)
			}
			c := e.verify(r.str("access_token")).Claims
			want := map[string]any{"iss": e.issuer, "sub": clientID + "@clients", "aud": apiID, "azp": clientID,
				"gty": "client-credentials", "scope": tc.wantScope, "iat": c["iat"], "exp": c["iat"].(float64) + float64(wantExp)}
			for k, v := range tc.extra {
				want[k] = v
			}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("access token claims (-want +got):\n%s", diff)
			}
			ev := e.lastLog("seccft")
			if ev.ClientID != clientID || ev.Audience != apiID || ev.Scope != tc.wantScope || ev.UserID != "" {
				t.Errorf("seccft log: got client %q audience %q scope %q user %q", ev.ClientID, ev.Audience, ev.Scope, ev.UserID)
			}
		})
	}
}

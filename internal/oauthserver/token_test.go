package oauthserver_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

// TestTokenErrors covers every row of WIRE.md §1's error table that the password grants reach.
func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name   string
		opts   []func(*oauthserver.Config)
		setup  func(e *env)
		form   url.Values
		ctype  string // raw body with this content type instead of form
		body   string
		header []string
		status int
		code   string
		desc   string
	}{
		{name: "wrong password", form: passwordForm("password", "nope"), status: 403, code: "invalid_grant", desc: "Wrong email or password."},
		{name: "unknown user", form: passwordForm("username", "nobody@example.com"), status: 403, code: "invalid_grant", desc: "Wrong email or password."},
		{name: "grant not allowed", setup: func(e *env) {
			e.mustClient(store.Client{ClientID: "no-password-grant", TokenEndpointAuthMethod: "none", GrantTypes: []string{"refresh_token"}})
		}, form: passwordForm("client_id", "no-password-grant", "client_secret", ""), status: 403, code: "unauthorized_client",
			desc: "Grant type 'password' not allowed for the client."},
		{name: "wrong client secret", form: passwordForm("client_secret", "wrong-secret-wrong-secret-wrong-secret"), status: 401, code: "access_denied", desc: "Unauthorized"},
		{name: "missing client secret", form: passwordForm("client_secret", ""), status: 401, code: "access_denied", desc: "Unauthorized"},
		{name: "unknown client", form: passwordForm("client_id", "nope"), status: 401, code: "access_denied", desc: "Unauthorized"},
		{name: "missing client_id", form: passwordForm("client_id", "", "client_secret", ""), status: 400, code: "invalid_request", desc: "Missing required parameter: client_id"},
		{name: "unknown audience", form: passwordForm("audience", "https://nope.example.com"), status: 403, code: "access_denied", desc: "Service not found: https://nope.example.com"},
		{name: "missing username", form: passwordForm("username", ""), status: 400, code: "invalid_request", desc: "Missing required parameter: username"},
		{name: "missing password", form: passwordForm("password", ""), status: 400, code: "invalid_request", desc: "Missing required parameter: password"},
		{name: "missing grant_type", form: passwordForm("grant_type", ""), status: 400, code: "invalid_request", desc: "Missing required parameter: grant_type"},
		{name: "unsupported grant", form: passwordForm("grant_type", "urn:example:magic"), status: 400, code: "unsupported_grant_type", desc: "Unsupported grant type: urn:example:magic"},
		{name: "unknown realm", form: passwordForm("grant_type", "http://auth0.com/oauth/grant-type/password-realm", "realm", "nope"),
			status: 400, code: "invalid_request", desc: "Unknown realm nope."},
		{name: "connection not enabled", setup: func(e *env) { e.mustConnection("other") },
			form: passwordForm("realm", "other"), status: 400, code: "invalid_request", desc: "The connection is not enabled for this client."},
		{name: "no default directory", setup: func(e *env) {
			if err := e.st.UpdateTenant(context.Background(), func(tn *store.Tenant) error { tn.DefaultDirectory = ""; return nil }); err != nil {
				e.t.Fatal(err)
			}
		}, form: passwordForm(), status: 500, code: "server_error", desc: "Authorization server not configured with default connection."},
		{name: "blocked user", setup: func(e *env) {
			if err := e.st.UpdateUser(context.Background(), e.alice, func(u *store.User) error { u.Blocked = true; return nil }); err != nil {
				e.t.Fatal(err)
			}
		}, form: passwordForm(), status: 401, code: "unauthorized", desc: "user is blocked"},
		{name: "blocked user wrong password", setup: func(e *env) {
			if err := e.st.UpdateUser(context.Background(), e.alice, func(u *store.User) error { u.Blocked = true; return nil }); err != nil {
				e.t.Fatal(err)
			}
		}, form: passwordForm("password", "nope"), status: 403, code: "invalid_grant", desc: "Wrong email or password."},
		{name: "unknown refresh token", form: url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret},
			"refresh_token": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}, status: 403, code: "invalid_grant", desc: "Unknown or invalid refresh token."},
		{name: "malformed refresh token", form: url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret},
			"refresh_token": {"not a token"}}, status: 403, code: "invalid_grant", desc: "Unknown or invalid refresh token."},
		{name: "missing refresh token", form: url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret}},
			status: 400, code: "invalid_request", desc: "Missing required parameter: refresh_token"},
		{name: "repeated parameter", ctype: "application/x-www-form-urlencoded",
			body: passwordForm().Encode() + "&username=" + url.QueryEscape(bobEmail), status: 400, code: "invalid_request", desc: "Parameter 'username' was repeated."},
		{name: "repeated JSON key", ctype: "application/json",
			body: `{"grant_type":"password","grant_type":"password"}`, status: 400, code: "invalid_request", desc: "Parameter 'grant_type' was repeated."},
		{name: "malformed JSON", ctype: "application/json", body: `{"grant_type":`, status: 400, code: "invalid_request",
			desc: "Malformed JSON body: a flat JSON object is expected."},
		{name: "nested JSON", ctype: "application/json", body: `{"grant_type":"password","scope":["a"]}`, status: 400, code: "invalid_request",
			desc: "Invalid value for parameter 'scope'."},
		{name: "invalid UTF-8", ctype: "application/x-www-form-urlencoded", body: "grant_type=password&username=%ff%fe", status: 400,
			code: "invalid_request", desc: "Parameters must be valid UTF-8."},
		{name: "unknown content type", ctype: "text/plain", body: "grant_type=password", status: 400, code: "invalid_request",
			desc: "Content-Type must be application/x-www-form-urlencoded or application/json."},
		{name: "body too large", ctype: "application/x-www-form-urlencoded", body: "grant_type=password&x=" + strings.Repeat("a", 70<<10),
			status: 413, code: "invalid_request", desc: "Request body too large."},
		{name: "absurd parameter", ctype: "application/x-www-form-urlencoded", body: "grant_type=password&username=" + strings.Repeat("a", 20<<10),
			status: 400, code: "invalid_request", desc: "Parameter 'username' is too long."},
		{name: "malformed basic header", form: passwordForm("client_id", "", "client_secret", ""), header: []string{"Authorization", "Basic !!!"},
			status: 401, code: "access_denied", desc: "Unauthorized"},
		{name: "basic and body secret", form: passwordForm(), header: []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(appID+":"+appSecret))},
			status: 400, code: "invalid_request", desc: "Only one client authentication method may be used."},
		{name: "secret and assertion", form: passwordForm("client_assertion", "x.y.z", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			status: 400, code: "invalid_request", desc: "Only one client authentication method may be used."},
		{name: "garbage assertion", form: passwordForm("client_secret", "", "client_assertion", "x.y.z", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			status: 401, code: "access_denied", desc: "Unauthorized"},
		{name: "same user and IP rate limit", setup: func(e *env) {
			for range 20 {
				e.login()
			}
		}, form: passwordForm(), status: 429, code: "too_many_attempts", desc: sameUserIPText},
		{name: "rate limit", opts: []func(*oauthserver.Config){withRateLimits(oauthserver.RateLimits{PerIP: 1})},
			setup: func(e *env) { e.login() }, form: passwordForm(), status: 429, code: "too_many_requests", desc: rateLimitedText},
	}
	// The exact bytes of every error body, as SDKs see them: one golden file per case, so that
	// a case runs alone (-run TestTokenErrors/name) and -update rewrites only the cases it ran.
	ran := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran[goldenName(tt.name)] = true
			e := newEnv(t, tt.opts...)
			if tt.setup != nil {
				tt.setup(e)
			}
			var r response
			if tt.ctype != "" {
				r = e.post("/oauth/token", tt.ctype, tt.body, tt.header...)
			} else {
				r = e.postForm("/oauth/token", tt.form, tt.header...)
			}
			want := map[string]any{"error": tt.code, "error_description": tt.desc}
			if r.Status != tt.status || !cmp.Equal(r.Body, want) {
				t.Fatalf("got %d %s, want %d %v", r.Status, r.Raw, tt.status, want)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			golden(t, filepath.Join("token-errors", goldenName(tt.name)), fmt.Appendf(nil, "%d %s", r.Status, r.Raw))
		})
	}
	if len(ran) == len(tests) {
		staleGoldens(t, "token-errors", ran)
	}
}

// noRefreshClient adds the public client "no-refresh", which may not use the refresh_token
// grant, enabled on the default connection.
func (e *env) noRefreshClient() {
	e.t.Helper()
	e.mustClient(store.Client{ClientID: "no-refresh", TokenEndpointAuthMethod: "none", GrantTypes: []string{"password"}})
	if err := e.st.UpdateConnection(context.Background(), connName, func(c *store.Connection) error {
		c.EnabledClients = append(c.EnabledClients, "no-refresh")
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

// TestScopeRules covers the scope rules of the password grants (WIRE.md §1).
func TestScopeRules(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(e *env)
		kv          []string
		wantScope   string
		wantRefresh bool
		wantID      bool
		wantPerms   []any // nil: no permissions claim
	}{
		{name: "no scope gets every API scope", wantScope: defaultScope},
		{name: "one API scope", kv: []string{"scope", "read:sample"}, wantScope: "read:sample"},
		{name: "unknown scopes dropped", kv: []string{"scope", "read:sample delete:everything"}, wantScope: "read:sample"},
		{name: "only unknown scopes gets all", kv: []string{"scope", "delete:everything"}, wantScope: defaultScope},
		{name: "openid alone implies profile scopes", kv: []string{"scope", "openid"}, wantScope: "openid profile email address phone " + defaultScope, wantID: true},
		{name: "openid email", kv: []string{"scope", "openid email read:sample"}, wantScope: "openid email read:sample", wantID: true},
		{name: "offline_access allowed", kv: []string{"scope", "openid offline_access"}, wantScope: "openid profile email address phone " + defaultScope + " offline_access", wantID: true, wantRefresh: true},
		{name: "offline_access not allowed by API", setup: func(e *env) {
			e.mustAPI(store.ResourceServer{Identifier: "https://no-offline", Scopes: []store.Scope{{Value: "x"}}})
		}, kv: []string{"audience", "https://no-offline", "scope", "offline_access"}, wantScope: "x"},
		{name: "offline_access without refresh grant", setup: (*env).noRefreshClient,
			kv: []string{"client_id", "no-refresh", "client_secret", "", "scope", "offline_access"}, wantScope: defaultScope},
		{name: "RBAC intersects with permissions", setup: func(e *env) {
			e.mustAPI(store.ResourceServer{Identifier: "https://rbac", EnforcePolicies: true, TokenDialect: "access_token_authz",
				Scopes: []store.Scope{{Value: "read:a"}, {Value: "write:a"}}})
			if err := e.st.UpdateUser(context.Background(), e.alice, func(u *store.User) error {
				u.Permissions = []store.Permission{{ResourceServerIdentifier: "https://rbac", PermissionName: "read:a"}}
				return nil
			}); err != nil {
				e.t.Fatal(err)
			}
		}, kv: []string{"audience", "https://rbac"}, wantScope: "read:a", wantPerms: []any{"read:a"}},
		{name: "RBAC without permissions claim", setup: func(e *env) {
			e.mustAPI(store.ResourceServer{Identifier: "https://rbac", EnforcePolicies: true,
				Scopes: []store.Scope{{Value: "read:a"}, {Value: "write:a"}}})
		}, kv: []string{"audience", "https://rbac"}, wantScope: ""},
		{name: "default audience", setup: func(e *env) {
			if err := e.st.UpdateTenant(context.Background(), func(tn *store.Tenant) error { tn.DefaultAudience = apiID; return nil }); err != nil {
				e.t.Fatal(err)
			}
		}, kv: []string{"audience", ""}, wantScope: defaultScope},
		{name: "no audience at all", kv: []string{"audience", "", "scope", "openid"}, wantScope: "openid profile email address phone", wantID: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			r := e.login(tt.kv...)
			if got := r.str("scope"); got != tt.wantScope {
				t.Errorf("response scope = %q, want %q", got, tt.wantScope)
			}
			if got := r.str("refresh_token") != ""; got != tt.wantRefresh {
				t.Errorf("refresh_token present = %v, want %v", got, tt.wantRefresh)
			}
			if got := r.str("id_token") != ""; got != tt.wantID {
				t.Errorf("id_token present = %v, want %v", got, tt.wantID)
			}
			at := e.verify(r.str("access_token"))
			if got, _ := at.Claims["scope"].(string); got != tt.wantScope {
				t.Errorf("scope claim = %q, want %q", got, tt.wantScope)
			}
			if got := at.Claims["permissions"]; !cmp.Equal(got, any(tt.wantPerms)) && !(got == nil && tt.wantPerms == nil) {
				t.Errorf("permissions = %v, want %v", got, tt.wantPerms)
			}
		})
	}
}

// TestPasswordGrantTokens checks the decoded tokens of a password grant (WIRE.md §2).
func TestPasswordGrantTokens(t *testing.T) {
	e := newEnv(t)
	r := e.login("scope", "openid profile email offline_access")
	if r.str("token_type") != "Bearer" || r.Body["expires_in"] != float64(86400) {
		t.Fatalf("token_type/expires_in: got %s", r.Raw)
	}
	at := e.verify(r.str("access_token"))
	if at.Header["typ"] != "JWT" || at.Header["alg"] != "RS256" || at.Header["kid"] == "" {
		t.Errorf("access token header = %v", at.Header)
	}
	c := at.Claims
	wantAud := []any{apiID, e.issuer + "userinfo"}
	if c["iss"] != e.issuer || c["sub"] != e.alice || !cmp.Equal(c["aud"], any(wantAud)) || c["azp"] != appID ||
		c["gty"] != "password" || c["scope"] != "openid profile email "+defaultScope+" offline_access" {
		t.Errorf("access token claims = %v", c)
	}
	if c["exp"].(float64)-c["iat"].(float64) != 86400 {
		t.Errorf("exp-iat = %v, want 86400", c["exp"].(float64)-c["iat"].(float64))
	}
	id := e.verify(r.str("id_token"))
	ic := id.Claims
	if id.Header["alg"] != "RS256" || id.Header["kid"] == "" {
		t.Errorf("id token header = %v", id.Header)
	}
	for k, want := range map[string]any{"iss": e.issuer, "sub": e.alice, "aud": appID, "name": "Alice Liddell",
		"nickname": "alice", "email": aliceEmail, "email_verified": true} {
		if !cmp.Equal(ic[k], want) {
			t.Errorf("id token %s = %v, want %v", k, ic[k], want)
		}
	}
	for _, k := range []string{"nonce", "azp", "scope", "gty"} {
		if _, ok := ic[k]; ok {
			t.Errorf("id token has %s: %v", k, ic[k])
		}
	}
	if _, ok := ic["updated_at"].(string); !ok {
		t.Errorf("updated_at = %v, want an ISO-8601 string", ic["updated_at"])
	}
	if ic["exp"].(float64)-ic["iat"].(float64) != 36000 {
		t.Errorf("id token lifetime = %v, want 36000", ic["exp"].(float64)-ic["iat"].(float64))
	}
}

// TestRealmAndForms covers realm selection and the body formats of WIRE.md §1.
func TestRealmAndForms(t *testing.T) {
	tests := []struct {
		name  string
		ctype string
		body  string
	}{
		{name: "password-realm form", ctype: "application/x-www-form-urlencoded", body: passwordForm(
			"grant_type", "http://auth0.com/oauth/grant-type/password-realm", "realm", connName).Encode()},
		{name: "password grant with realm", ctype: "application/x-www-form-urlencoded", body: passwordForm("realm", connName).Encode()},
		{name: "JSON with nulls and empty strings", ctype: "application/json", body: `{"grant_type":"http://auth0.com/oauth/grant-type/password-realm",
			"client_id":"` + appID + `","client_secret":"` + appSecret + `","username":"ALICE@example.com","password":"` + alicePass + `",
			"realm":null,"scope":"","audience":"` + apiID + `"}`},
		{name: "username login", ctype: "application/x-www-form-urlencoded", body: passwordForm("username", "bob", "password", bobPass).Encode()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.post("/oauth/token", tt.ctype, tt.body)
			if r.Status != http.StatusOK || r.str("access_token") == "" {
				t.Fatalf("got %d %s", r.Status, r.Raw)
			}
		})
	}
}

// TestSigningAlgorithms issues access tokens for APIs of every supported algorithm and dialect.
func TestSigningAlgorithms(t *testing.T) {
	tests := []struct {
		alg, dialect string
		wantTyp      string
	}{
		{"RS256", "", "JWT"}, {"PS256", "", "JWT"}, {"RS512", "", "JWT"}, {"ES256", "", "JWT"}, {"EdDSA", "", "JWT"},
		{"HS256", "", "JWT"}, {"RS256", "rfc9068_profile", "at+jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.alg+tt.dialect, func(t *testing.T) {
			e := newEnv(t)
			if tt.alg != "HS256" {
				if err := e.keys.Ensure(t.Context(), tt.alg); err != nil {
					t.Fatal(err)
				}
			}
			e.mustAPI(store.ResourceServer{Identifier: "https://alg", SigningAlg: tt.alg, TokenDialect: tt.dialect,
				Scopes: []store.Scope{{Value: "s"}}})
			r := e.login("audience", "https://alg", "scope", "openid")
			at := e.verify(r.str("access_token"), []byte("hs256-api-secret-0123456789abcdef")...)
			if at.Header["alg"] != tt.alg || at.Header["typ"] != tt.wantTyp {
				t.Errorf("header = %v, want alg %s typ %s", at.Header, tt.alg, tt.wantTyp)
			}
			// Only RS256 APIs also serve /userinfo (WIRE.md §2).
			wantAud := any("https://alg")
			if tt.alg == "RS256" {
				wantAud = []any{"https://alg", e.issuer + "userinfo"}
			}
			if !cmp.Equal(at.Claims["aud"], wantAud) {
				t.Errorf("aud = %v, want %v", at.Claims["aud"], wantAud)
			}
			if tt.dialect == "rfc9068_profile" {
				if at.Claims["client_id"] != appID || at.Claims["jti"] == nil || at.Claims["gty"] != nil {
					t.Errorf("RFC 9068 claims = %v", at.Claims)
				}
			}
		})
	}
}

// TestIDTokenAlgorithms checks a client's jwt_configuration.alg: RS256 (the default) and PS256
// signed with the tenant's keys and published in the JWKS, HS256 with the client secret.
func TestIDTokenAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "HS256"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t)
			if alg == "PS256" {
				if err := e.keys.Ensure(t.Context(), "PS256"); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.st.UpdateClient(t.Context(), appID, func(c *store.Client) error {
				c.IDTokenAlg = alg
				if alg == "HS256" {
					c.SecretSealed = e.box.Seal([]byte(appSecret), store.ClientSecretAAD(appID))
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			r := e.login("scope", "openid profile")
			id := e.verify(r.str("id_token"), []byte(appSecret)...)
			if id.Header["alg"] != alg {
				t.Errorf("id token alg = %v, want %s", id.Header["alg"], alg)
			}
			if id.Claims["aud"] != appID || id.Claims["sub"] != e.alice || id.Claims["iss"] != e.issuer {
				t.Errorf("id token claims = %v", id.Claims)
			}
			// The access token keeps the API's algorithm whatever the client's ID tokens use.
			if at := e.verify(r.str("access_token")); at.Header["alg"] != "RS256" {
				t.Errorf("access token alg = %v, want RS256 (the API's)", at.Header["alg"])
			}
		})
	}
}

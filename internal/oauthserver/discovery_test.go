package oauthserver_test

import (
	"slices"
	"testing"

	"github.com/sesameauth/sesame/internal/store"
)

// TestDiscoveryListsEveryAccessTokenAlg checks that the discovery document names the algorithm
// of the access tokens of every API signing algorithm. Auth0's API middleware for Node.js,
// express-oauth2-jwt-bearer, uses id_token_signing_alg_values_supported as its allow-list for
// access tokens: an algorithm missing there makes it reject valid tokens.
func TestDiscoveryListsEveryAccessTokenAlg(t *testing.T) {
	tests := []struct{ alg string }{{"RS256"}, {"PS256"}, {"RS512"}, {"ES256"}, {"EdDSA"}, {"HS256"}}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			e := newEnv(t)
			if tt.alg != "HS256" {
				if err := e.keys.Ensure(t.Context(), tt.alg); err != nil {
					t.Fatal(err)
				}
			}
			e.mustAPI(store.ResourceServer{Identifier: "https://alg", SigningAlg: tt.alg, Scopes: []store.Scope{{Value: "s"}}})
			at := e.verify(e.login("audience", "https://alg").str("access_token"), []byte("hs256-api-secret-0123456789abcdef")...)
			for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
				algs, _ := e.get(path).Body["id_token_signing_alg_values_supported"].([]any)
				if !slices.Contains(algs, at.Header["alg"]) {
					t.Errorf("%s: got id_token_signing_alg_values_supported %v, want it to contain the access token's alg %v",
						path, algs, at.Header["alg"])
				}
			}
		})
	}
}

// TestDiscoveryFieldsClientsRead checks the discovery fields that Auth0's SDKs and strict
// OpenID Connect libraries read, with the values Auth0 sends (issuer with its trailing slash,
// endpoints under it).
func TestDiscoveryFieldsClientsRead(t *testing.T) {
	e := newEnv(t)
	body := e.get("/.well-known/openid-configuration").Body
	tests := []struct{ field, want string }{
		{"issuer", e.issuer},
		{"token_endpoint", e.issuer + "oauth/token"},
		{"userinfo_endpoint", e.issuer + "userinfo"},
		{"jwks_uri", e.issuer + ".well-known/jwks.json"},
		{"revocation_endpoint", e.issuer + "oauth/revoke"},
		{"introspection_endpoint", e.issuer + "oauth/introspect"},
		// Auth0 publishes its MFA challenge endpoint here (WIRE.md §3).
		{"mfa_challenge_endpoint", e.issuer + "mfa/challenge"},
	}
	for _, tt := range tests {
		if got := body[tt.field]; got != tt.want {
			t.Errorf("%s: got %v, want %q", tt.field, got, tt.want)
		}
	}
	// Auth0's own list, which the ID token validation of its SDKs accepts.
	algs, _ := body["id_token_signing_alg_values_supported"].([]any)
	for _, want := range []string{"HS256", "RS256", "PS256"} {
		if !slices.Contains(algs, any(want)) {
			t.Errorf("id_token_signing_alg_values_supported: got %v, want it to contain %s", algs, want)
		}
	}
}

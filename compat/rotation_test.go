package compat_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/authentication/oauth"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sesameauth/sesame/apiauth"
)

// The rotation test's user, and how long a running server may take to sign with the new key
// (it picks up a rotation within 2 s).
const (
	rotationUser    = "frank@example.com"
	rotationTimeout = 5 * time.Second
	rotationPoll    = 500 * time.Millisecond
)

// jwksKIDs fetches the JWKS and returns its key ids, checking that every key carries what the
// client libraries need: go-auth0 drops a key without "alg", and every library wants "kid".
func jwksKIDs(t *testing.T) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.url("/.well-known/jwks.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.httpClient().Do(req)
	if err != nil {
		t.Fatalf("GET jwks.json: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET jwks.json: got status %d, want 200", resp.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, Alg, Use string
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decoding jwks.json: %v", err)
	}
	var kids []string
	for i, k := range set.Keys {
		if k.Kty == "" || k.Kid == "" || k.Alg == "" || k.Use != "sig" {
			t.Errorf("got JWKS key %d kty %q kid %q alg %q use %q, want all set and use sig", i, k.Kty, k.Kid, k.Alg, k.Use)
		}
		kids = append(kids, k.Kid)
	}
	return kids
}

// TestKeyRotation rotates the signing keys of the running server with `sesame keys rotate`
// and checks that clients holding keys cached before the rotation keep working: the new key
// must have been in the JWKS before anything was signed with it (go-auth0 and apiauth with a
// long refresh interval never refetch), and tokens signed before the rotation stay verifiable.
func TestKeyRotation(t *testing.T) {
	ctx, p := oidcProvider(t)
	verifier := p.Verifier(&oidc.Config{ClientID: clientID})
	auth0Client := newAuth0Secret(t) // fetches and caches the JWKS now
	api, err := apiauth.New(apiauth.Config{
		Issuer:             srv.issuer,
		Audience:           apiID,
		HTTPClient:         srv.httpClient(),
		MinRefreshInterval: time.Hour,
		CacheTTL:           time.Hour,
	})
	if err != nil {
		t.Fatalf("apiauth.New: %v", err)
	}
	if err := api.Prefetch(ctx); err != nil {
		t.Fatalf("apiauth Prefetch: %v", err)
	}
	kidsBefore := jwksKIDs(t)

	before, rawBefore := oidcLogin(t, ctx, p, rotationUser)
	if _, err := verifier.Verify(ctx, rawBefore); err != nil {
		t.Fatalf("Verify before rotation: %v", err)
	}
	hdr, _ := decodeJWT(t, rawBefore)
	kidBefore, _ := hdr["kid"].(string)
	if !slices.Contains(kidsBefore, kidBefore) {
		t.Fatalf("got ID token kid %q, want one of the JWKS's %v", kidBefore, kidsBefore)
	}

	srv.rotateKeys(t)

	var after, rawAfter, kidAfter = before, rawBefore, kidBefore
	for deadline := time.Now().Add(rotationTimeout); kidAfter == kidBefore; {
		if time.Now().After(deadline) {
			t.Fatalf("still signing with kid %q %s after `sesame keys rotate`, want a new key", kidBefore, rotationTimeout)
		}
		time.Sleep(rotationPoll)
		after, rawAfter = oidcLogin(t, ctx, p, rotationUser)
		hdr, _ := decodeJWT(t, rawAfter)
		kidAfter, _ = hdr["kid"].(string)
	}
	if !slices.Contains(kidsBefore, kidAfter) {
		t.Errorf("got new kid %q, want it published before the rotation (JWKS then: %v)", kidAfter, kidsBefore)
	}
	if kidsAfter := jwksKIDs(t); !slices.Contains(kidsAfter, kidBefore) || !slices.Contains(kidsAfter, kidAfter) {
		t.Errorf("got JWKS %v after rotation, want both the old %q and the new %q", kidsAfter, kidBefore, kidAfter)
	}

	tests := []struct {
		name   string
		verify func(t *testing.T) error
	}{
		{"go-oidc verifies the new ID token", func(t *testing.T) error {
			_, err := verifier.Verify(ctx, rawAfter)
			return err
		}},
		{"go-oidc still verifies the ID token from before", func(t *testing.T) error {
			_, err := verifier.Verify(ctx, rawBefore)
			return err
		}},
		{"apiauth verifies the new access token with its cached keys", func(t *testing.T) error {
			_, err := api.Validate(ctx, after.AccessToken)
			return err
		}},
		{"apiauth still verifies the access token from before", func(t *testing.T) error {
			_, err := api.Validate(ctx, before.AccessToken)
			return err
		}},
		{"go-auth0 built before the rotation validates a new ID token", func(t *testing.T) error {
			tok, err := auth0Client.OAuth.LoginWithPassword(ctx, oauth.LoginWithPasswordRequest{
				Username: rotationUser, Password: password, Scope: "openid", Audience: apiID,
			}, oauth.IDTokenValidationOptions{})
			if err == nil && tok.IDToken == "" {
				t.Error("got no id_token from go-auth0 after rotation, want one")
			}
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.verify(t); err != nil {
				t.Errorf("got %v, want the token accepted", err)
			}
		})
	}
}

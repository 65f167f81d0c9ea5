package demoapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/apiauth"
	"github.com/sesameauth/sesame/internal/demoapi"
)

const audience = "https://sample-api.sesame.local"

// issuer publishes a JWKS with one RSA key on a real HTTP server and signs tokens with it.
type issuer struct {
	url string
	key *rsa.PrivateKey
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return &issuer{url: srv.URL + "/", key: key}
}

// token signs an access token for the sample API with scope and lifetime ttl.
func (is *issuer) token(t *testing.T, scope string, ttl time.Duration) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: is.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	payload, err := json.Marshal(map[string]any{
		"iss": is.url, "sub": "auth0|alice", "aud": audience, "azp": "demo-client",
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "scope": scope, "gty": "password",
	})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name          string
		method, path  string
		token         func(t *testing.T, is *issuer) string // "" sends no Authorization header
		wantStatus    int
		wantBody      map[string]string
		wantChallenge string
	}{
		{
			name: "public without a token", method: http.MethodGet, path: "/api/public",
			wantStatus: http.StatusOK,
			wantBody:   map[string]string{"message": "Hello from a public endpoint! You don't need to be authenticated to see this."},
		},
		{
			name: "private without a token", method: http.MethodGet, path: "/api/private",
			wantStatus:    http.StatusUnauthorized,
			wantBody:      map[string]string{"error": "invalid_token", "error_description": "Missing bearer token."},
			wantChallenge: `Bearer realm="api"`,
		},
		{
			name: "private with a token", method: http.MethodGet, path: "/api/private",
			token:      func(t *testing.T, is *issuer) string { return is.token(t, "openid profile", time.Hour) },
			wantStatus: http.StatusOK,
			wantBody: map[string]string{
				"message": "Hello from a private endpoint! You need to be authenticated to see this.",
				"sub":     "auth0|alice",
				"scope":   "openid profile",
			},
		},
		{
			name: "private with an expired token", method: http.MethodGet, path: "/api/private",
			token:         func(t *testing.T, is *issuer) string { return is.token(t, "openid", -time.Hour) },
			wantStatus:    http.StatusUnauthorized,
			wantBody:      map[string]string{"error": "invalid_token", "error_description": "The access token expired."},
			wantChallenge: `Bearer realm="api", error="invalid_token", error_description="The access token expired."`,
		},
		{
			name: "scoped with read:sample", method: http.MethodGet, path: "/api/private-scoped",
			token:      func(t *testing.T, is *issuer) string { return is.token(t, "openid read:sample", time.Hour) },
			wantStatus: http.StatusOK,
			wantBody: map[string]string{
				"message": "Hello from a private endpoint! You need to be authenticated and have a scope of read:sample to see this.",
				"sub":     "auth0|alice",
				"scope":   "openid read:sample",
			},
		},
		{
			name: "scoped without read:sample", method: http.MethodGet, path: "/api/private-scoped",
			token:         func(t *testing.T, is *issuer) string { return is.token(t, "openid", time.Hour) },
			wantStatus:    http.StatusForbidden,
			wantBody:      map[string]string{"error": "insufficient_scope", "error_description": "Insufficient scope, expected: read:sample"},
			wantChallenge: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope, expected: read:sample", scope="read:sample"`,
		},
		{
			name: "POST is not allowed", method: http.MethodPost, path: "/api/public",
			wantStatus: http.StatusMethodNotAllowed,
		},
		{
			name: "unknown path", method: http.MethodGet, path: "/api/other",
			wantStatus: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := newIssuer(t)
			v, err := apiauth.New(apiauth.Config{Issuer: is.url, Audience: audience})
			if err != nil {
				t.Fatal(err)
			}
			api := httptest.NewServer(demoapi.Handler(v))
			t.Cleanup(api.Close)

			req, err := http.NewRequestWithContext(t.Context(), tt.method, api.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != nil {
				req.Header.Set("Authorization", "Bearer "+tt.token(t, is))
			}
			resp, err := api.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("got WWW-Authenticate %q, want %q", got, tt.wantChallenge)
			}
			if tt.wantBody == nil {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", got)
			}
			var got map[string]string
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s is not a JSON object of strings: %v", body, err)
			}
			if diff := cmp.Diff(tt.wantBody, got); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

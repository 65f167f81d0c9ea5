package apiauth_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesameauth/sesame/apiauth"
)

var hmacSecret = []byte("0123456789abcdef0123456789abcdef-api-secret")

func TestValidate(t *testing.T) {
	type fixture struct {
		is  *testIssuer
		key testKey // published as kid "k1"
		now time.Time
		cfg *apiauth.Config
	}
	tests := []struct {
		name      string
		configure func(f *fixture)
		token     func(t *testing.T, f *fixture) string
		wantErr   error
		check     func(t *testing.T, c *apiauth.Claims)
	}{
		{
			name: "valid RS256",
			token: func(t *testing.T, f *fixture) string {
				return sign(t, f.key, "JWT", claimsFor(f.is, f.now))
			},
			check: func(t *testing.T, c *apiauth.Claims) {
				if c.Subject != "auth0|6543" || c.ClientID != "client-abc" || !slices.Equal(c.Audience, []string{testAudience}) {
					t.Errorf("got sub %q client %q aud %q, want auth0|6543 client-abc [%s]", c.Subject, c.ClientID, c.Audience, testAudience)
				}
				if !c.HasScope("read:sample") || c.HasScope("write:sample") {
					t.Errorf("got scope %q, want read:sample and not write:sample", c.Scope)
				}
				if c.Raw["gty"] != "password" {
					t.Errorf("got raw gty %v, want password", c.Raw["gty"])
				}
			},
		},
		{
			name: "at+jwt with client_id and permissions",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				delete(cl, "azp")
				cl["client_id"] = "client-xyz"
				cl["permissions"] = []string{"read:messages"}
				return sign(t, f.key, "at+jwt", cl)
			},
			check: func(t *testing.T, c *apiauth.Claims) {
				if c.ClientID != "client-xyz" || !c.HasPermission("read:messages") {
					t.Errorf("got client %q permissions %q, want client-xyz [read:messages]", c.ClientID, c.Permissions)
				}
			},
		},
		{
			name: "no typ header",
			token: func(t *testing.T, f *fixture) string {
				return sign(t, f.key, "", claimsFor(f.is, f.now))
			},
		},
		{
			name: "typ application/at+jwt",
			token: func(t *testing.T, f *fixture) string {
				return sign(t, f.key, "application/AT+JWT", claimsFor(f.is, f.now))
			},
		},
		{
			name: "no kid and one key",
			token: func(t *testing.T, f *fixture) string {
				k := f.key
				k.kid = ""
				return sign(t, k, "JWT", claimsFor(f.is, f.now))
			},
		},
		{
			name: "no kid and two keys",
			token: func(t *testing.T, f *fixture) string {
				f.is.publish(f.key, rsaKey(1, "k2"))
				k := f.key
				k.kid = ""
				return sign(t, k, "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrUnknownKey,
		},
		{
			name: "JWKS with keys to skip",
			configure: func(f *fixture) {
				jwk, err := json.Marshal(f.key.jwk())
				if err != nil {
					panic(err)
				}
				f.is.body = `{"keys":[{"kty":"XYZ","kid":"odd"},` +
					`{"kty":"oct","kid":"k1","k":"c2VjcmV0"},` +
					strings.Replace(string(jwk), `"use":"sig"`, `"use":"enc"`, 1) + `,` +
					string(jwk) + `]}`
			},
			token: func(t *testing.T, f *fixture) string {
				return sign(t, f.key, "JWT", claimsFor(f.is, f.now))
			},
		},
		{
			name: "an oct key in the JWKS is never an HMAC secret",
			configure: func(f *fixture) {
				f.cfg.Algorithms = []string{"RS256", "HS256"}
				f.cfg.HMACSecret = hmacSecret
				f.is.body = `{"keys":[{"kty":"oct","kid":"k-oct","alg":"HS256","k":"` +
					base64.RawURLEncoding.EncodeToString([]byte("a-secret-anyone-can-read-in-the-jwks")) + `"}]}`
			},
			token: func(t *testing.T, f *fixture) string {
				return signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: []byte("a-secret-anyone-can-read-in-the-jwks"), KeyID: "k-oct"}}, "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrSignature,
		},
		{
			name: "other typ",
			token: func(t *testing.T, f *fixture) string {
				return sign(t, f.key, "dpop+jwt", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrTokenType,
		},
		{
			name: "expired",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now.Add(-2*time.Hour))
				return sign(t, f.key, "JWT", cl)
			},
			wantErr: apiauth.ErrExpired,
		},
		{
			name: "expired within leeway",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				cl["exp"] = f.now.Add(-10 * time.Second).Unix()
				return sign(t, f.key, "JWT", cl)
			},
		},
		{
			name: "no exp",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				delete(cl, "exp")
				return sign(t, f.key, "JWT", cl)
			},
			wantErr: apiauth.ErrExpired,
		},
		{
			name: "nbf ahead",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				cl["nbf"] = f.now.Add(5 * time.Minute).Unix()
				return sign(t, f.key, "JWT", cl)
			},
			wantErr: apiauth.ErrNotYetValid,
		},
		{
			name: "iat ahead",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				cl["iat"] = f.now.Add(5 * time.Minute).Unix()
				return sign(t, f.key, "JWT", cl)
			},
			wantErr: apiauth.ErrNotYetValid,
		},
		{
			name: "wrong issuer",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				cl["iss"] = strings.TrimSuffix(f.is.url(), "/") // the slash matters
				return sign(t, f.key, "JWT", cl)
			},
			wantErr: apiauth.ErrIssuer,
		},
		{
			name: "wrong audience",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				cl["aud"] = "https://other-api.example.com"
				return sign(t, f.key, "JWT", cl)
			},
			wantErr: apiauth.ErrAudience,
		},
		{
			name: "aud array containing the API",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				cl["aud"] = []string{testAudience, f.is.url() + "userinfo"}
				return sign(t, f.key, "JWT", cl)
			},
			check: func(t *testing.T, c *apiauth.Claims) {
				if len(c.Audience) != 2 {
					t.Errorf("got aud %q, want 2 entries", c.Audience)
				}
			},
		},
		{
			name: "aud of the wrong type",
			token: func(t *testing.T, f *fixture) string {
				cl := claimsFor(f.is, f.now)
				cl["aud"] = 42
				return sign(t, f.key, "JWT", cl)
			},
			wantErr: apiauth.ErrMalformedToken,
		},
		{
			name: "alg none",
			token: func(t *testing.T, f *fixture) string {
				return unsigned(t, map[string]any{"alg": "none", "typ": "JWT", "kid": f.key.kid}, claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrAlgorithm,
		},
		{
			name: "alg confusion: HS256 with the RSA public key as secret",
			token: func(t *testing.T, f *fixture) string {
				return signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: publicPEM(t, f.key), KeyID: f.key.kid}}, "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrAlgorithm,
		},
		{
			name: "alg confusion with HS256 allowed: verified with the secret only",
			configure: func(f *fixture) {
				f.cfg.Algorithms = []string{"RS256", "HS256"}
				f.cfg.HMACSecret = hmacSecret
			},
			token: func(t *testing.T, f *fixture) string {
				return signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: publicPEM(t, f.key), KeyID: f.key.kid}}, "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrSignature,
		},
		{
			name: "valid HS256 with the API secret",
			configure: func(f *fixture) {
				f.cfg.Algorithms = []string{"HS256"}
				f.cfg.HMACSecret = hmacSecret
			},
			token: func(t *testing.T, f *fixture) string {
				return signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: hmacSecret}, "JWT", claimsFor(f.is, f.now))
			},
		},
		{
			name: "RS256 allowed but not PS256",
			token: func(t *testing.T, f *fixture) string {
				k := f.key
				k.alg = jose.PS256
				return sign(t, k, "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrAlgorithm,
		},
		{
			name: "PS256 allowed but the key says RS256",
			configure: func(f *fixture) {
				f.cfg.Algorithms = []string{"RS256", "PS256"}
			},
			token: func(t *testing.T, f *fixture) string {
				k := f.key
				k.alg = jose.PS256
				return sign(t, k, "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrAlgorithm,
		},
		{
			name: "valid ES256",
			configure: func(f *fixture) {
				f.cfg.Algorithms = []string{"RS256", "ES256"}
			},
			token: func(t *testing.T, f *fixture) string {
				ec := ecKey(t, "ec1")
				f.is.publish(f.key, ec)
				return sign(t, ec, "JWT", claimsFor(f.is, f.now))
			},
		},
		{
			name: "signed by another key under a known kid",
			token: func(t *testing.T, f *fixture) string {
				return sign(t, rsaKey(2, f.key.kid), "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrSignature,
		},
		{
			name: "unknown kid",
			token: func(t *testing.T, f *fixture) string {
				return sign(t, rsaKey(2, "nobody"), "JWT", claimsFor(f.is, f.now))
			},
			wantErr: apiauth.ErrUnknownKey,
		},
		{
			name: "not a JWT",
			token: func(t *testing.T, f *fixture) string {
				return "not-a-token"
			},
			wantErr: apiauth.ErrMalformedToken,
		},
		{
			name: "three parts of garbage",
			token: func(t *testing.T, f *fixture) string {
				return "a.b.c"
			},
			wantErr: apiauth.ErrMalformedToken,
		},
		{
			name: "five parts (JWE)",
			token: func(t *testing.T, f *fixture) string {
				return "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"
			},
			wantErr: apiauth.ErrMalformedToken,
		},
		{
			name: "empty",
			token: func(t *testing.T, f *fixture) string {
				return ""
			},
			wantErr: apiauth.ErrMalformedToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := rsaKey(0, "k1")
			f := &fixture{is: newTestIssuer(t, key), key: key, now: time.Now()}
			f.cfg = &apiauth.Config{Issuer: f.is.url(), Audience: testAudience}
			if tt.configure != nil {
				tt.configure(f)
			}
			v, err := apiauth.New(*f.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			raw := tt.token(t, f)
			c, err := v.Validate(t.Context(), raw)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Validate: got error %v, want %v", err, tt.wantErr)
			}
			if err == nil && tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// publicPEM is the PEM of k's public key: what an attacker of the algorithm-confusion kind
// uses as an HMAC secret.
func publicPEM(t *testing.T, k testKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  apiauth.Config
	}{
		{name: "no issuer", cfg: apiauth.Config{Audience: testAudience}},
		{name: "no audience", cfg: apiauth.Config{Issuer: "https://auth.example.com/"}},
		{name: "alg none", cfg: apiauth.Config{Issuer: "https://auth.example.com/", Audience: testAudience, Algorithms: []string{"none"}}},
		{name: "HS256 without secret", cfg: apiauth.Config{Issuer: "https://auth.example.com/", Audience: testAudience, Algorithms: []string{"HS256"}}},
		{name: "HS256 with a short secret", cfg: apiauth.Config{Issuer: "https://auth.example.com/", Audience: testAudience, Algorithms: []string{"HS256"}, HMACSecret: []byte("short")}},
		{name: "unknown algorithm", cfg: apiauth.Config{Issuer: "https://auth.example.com/", Audience: testAudience, Algorithms: []string{"RS1"}}},
		{name: "relative JWKS URL", cfg: apiauth.Config{Issuer: "https://auth.example.com/", Audience: testAudience, JWKSURL: "/jwks.json"}},
		{name: "negative leeway", cfg: apiauth.Config{Issuer: "https://auth.example.com/", Audience: testAudience, Leeway: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := apiauth.New(tt.cfg)
			if !errors.Is(err, apiauth.ErrConfig) {
				t.Fatalf("New: got %v, %v; want ErrConfig", v, err)
			}
		})
	}
}

func TestValidateRejectsOversizedToken(t *testing.T) {
	key := rsaKey(0, "k1")
	is := newTestIssuer(t, key)
	v, err := apiauth.New(apiauth.Config{Issuer: is.url(), Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	cl := claimsFor(is, time.Now())
	cl["blob"] = rand.Text() + strings.Repeat("x", 300<<10)
	_, err = v.Validate(t.Context(), sign(t, key, "JWT", cl))
	if !errors.Is(err, apiauth.ErrMalformedToken) {
		t.Fatalf("got %v, want ErrMalformedToken", err)
	}
	if got := is.hits.Load(); got != 0 {
		t.Errorf("got %d JWKS fetches, want 0: an oversized token is refused before any work", got)
	}
}

func BenchmarkValidate(b *testing.B) {
	key := rsaKey(0, "k1")
	is := newTestIssuer(b, key)
	v, err := apiauth.New(apiauth.Config{Issuer: is.url(), Audience: testAudience})
	if err != nil {
		b.Fatal(err)
	}
	if err := v.Prefetch(b.Context()); err != nil {
		b.Fatal(err)
	}
	raw := sign(b, key, "JWT", claimsFor(is, time.Now()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(b.Context(), raw); err != nil {
			b.Fatal(err)
		}
	}
}

package token_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/token"
)

const issuer = "https://sesame.example/"

// hmacSecret is an API signing secret of Auth0's shape (32+ bytes).
var hmacSecret = []byte("0123456789abcdef0123456789abcdef-api-secret")

func newMinter(f *fixture) *token.Minter {
	return &token.Minter{Keys: f.keys, Issuer: issuer, Now: f.clock.Now}
}

// normalise replaces the values that differ per run (kid, jti) with placeholders after checking
// them, so that the golden file holds the exact header and claims a client sees.
func normalise(t *testing.T, f *fixture, alg string, header, claims map[string]any) map[string]any {
	t.Helper()
	if alg != "HS256" {
		if want := f.kid(t, alg, "current"); header["kid"] != want {
			t.Errorf("kid: got %v, want the current %s key %s", header["kid"], alg, want)
		}
		header["kid"] = "<current " + alg + " kid>"
	}
	if jti, ok := claims["jti"].(string); ok {
		if len(jti) < 16 {
			t.Errorf("jti: got %q, want a random id", jti)
		}
		claims["jti"] = "<jti>"
	}
	return map[string]any{"header": header, "claims": claims}
}

func TestAccessToken(t *testing.T) {
	t.Parallel()
	authTime := t0.Add(-5 * time.Minute)
	tests := []struct {
		name          string
		in            token.AccessToken
		wantExpiresIn int
	}{
		{
			name: "access_token_userinfo",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				UserinfoAudience: true, Scope: "openid profile read:things", GrantType: "password"},
			wantExpiresIn: 86400,
		},
		{
			name: "access_token_single_audience",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				Scope: "read:things", GrantType: "refresh_token", Lifetime: time.Hour, AuthTime: authTime,
				Custom: map[string]any{"https://app.example/roles": []string{"admin"}, "tier": "gold", "iss": "evil"}},
			wantExpiresIn: 3600,
		},
		{
			name: "access_token_only_userinfo",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: issuer + "userinfo",
				UserinfoAudience: true, Scope: "openid", GrantType: "password"},
			wantExpiresIn: 86400,
		},
		{
			name: "access_token_authz",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				Scope: "read:things", GrantType: "password", Dialect: token.DialectAccessTokenAuthz,
				Permissions: []string{"read:things"}},
			wantExpiresIn: 86400,
		},
		{
			name: "access_token_authz_no_permissions",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				GrantType: "password", Dialect: token.DialectAccessTokenAuthz},
			wantExpiresIn: 86400,
		},
		{
			name: "rfc9068_profile",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				UserinfoAudience: true, Scope: "openid read:things", GrantType: "password",
				Dialect: token.DialectRFC9068, AuthTime: authTime},
			wantExpiresIn: 86400,
		},
		{
			name: "rfc9068_profile_authz",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				Scope: "read:things", GrantType: "password", Dialect: token.DialectRFC9068Authz,
				Permissions: []string{}},
			wantExpiresIn: 86400,
		},
		{
			name: "ps256",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				Scope: "read:things", GrantType: "password", Alg: "PS256", Lifetime: 600 * time.Second},
			wantExpiresIn: 600,
		},
		{
			name: "es256",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				Scope: "read:things", GrantType: "password", Alg: "ES256"},
			wantExpiresIn: 86400,
		},
		{
			name: "eddsa",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				Scope: "read:things", GrantType: "password", Alg: "EdDSA"},
			wantExpiresIn: 86400,
		},
		{
			name: "hs256",
			in: token.AccessToken{Subject: "auth0|65f1", ClientID: "cid", Audience: "https://api.example/",
				Scope: "read:things", GrantType: "password", Alg: "HS256", HMACSecret: hmacSecret},
			wantExpiresIn: 86400,
		},
	}
	f := newFixture(t, "PS256", "ES256", "EdDSA")
	m := newMinter(f)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.Custom != nil {
				filtered, err := token.FilterCustomClaims(tt.in.Custom)
				if err != nil {
					t.Fatal(err)
				}
				tt.in.Custom = filtered
			}
			raw, expiresIn, err := m.AccessToken(t.Context(), tt.in)
			if err != nil {
				t.Fatalf("AccessToken: %v", err)
			}
			if expiresIn != tt.wantExpiresIn {
				t.Errorf("expires_in: got %d, want %d", expiresIn, tt.wantExpiresIn)
			}
			alg := tt.in.Alg
			if alg == "" {
				alg = "RS256"
			}
			var claims map[string]any
			if alg == "HS256" {
				claims, err = token.VerifyHS256(raw, hmacSecret)
			} else {
				claims, err = f.keys.Verify(t.Context(), raw)
			}
			if err != nil {
				t.Fatalf("verifying the minted token: %v", err)
			}
			if err := token.ValidateTime(claims, t0, 0); err != nil {
				t.Errorf("ValidateTime at issue: %v", err)
			}
			header, decoded := decodeJWT(t, raw)
			golden(t, "access_"+tt.name, normalise(t, f, alg, header, decoded))
		})
	}
}

func TestIDToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   token.IDToken
	}{
		{
			name: "rs256_profile",
			in: token.IDToken{Subject: "auth0|65f1", ClientID: "cid", AuthTime: t0.Add(-time.Minute),
				Profile: map[string]any{"name": "Jane Doe", "nickname": "jane", "picture": "https://example/p.png",
					"updated_at": "2025-03-01T10:00:00.000Z", "email": "jane@example.com", "email_verified": true}},
		},
		{
			name: "rs256_minimal",
			in:   token.IDToken{Subject: "auth0|65f1", ClientID: "cid", Lifetime: time.Hour},
		},
		{
			name: "rs256_mfa_custom",
			in: token.IDToken{Subject: "auth0|65f1", ClientID: "cid", AMR: []string{"mfa"}, AuthTime: t0,
				// A nonce or protocol claim sneaking in through the profile never reaches the token.
				Profile: map[string]any{"nonce": "n-0S6_WzA2Mj", "aud": "other", "name": "Jane"},
				Custom:  map[string]any{"https://app.example/plan": "pro"}},
		},
		{
			name: "hs256",
			in:   token.IDToken{Subject: "auth0|65f1", ClientID: "cid", Alg: "HS256", HMACSecret: hmacSecret},
		},
	}
	f := newFixture(t, "RS256")
	m := newMinter(f)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := m.IDToken(t.Context(), tt.in)
			if err != nil {
				t.Fatalf("IDToken: %v", err)
			}
			alg := tt.in.Alg
			if alg == "" {
				alg = "RS256"
			}
			header, claims := decodeJWT(t, raw)
			if _, ok := claims["nonce"]; ok {
				t.Errorf("claims: got a nonce, want none ever")
			}
			if aud, ok := claims["aud"].(string); !ok || aud != tt.in.ClientID {
				t.Errorf("aud: got %v, want the client_id string %q", claims["aud"], tt.in.ClientID)
			}
			golden(t, "id_"+tt.name, normalise(t, f, alg, header, claims))
		})
	}
}

func TestMintErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "RS256")
	m := newMinter(f)
	base := token.AccessToken{Subject: "auth0|1", ClientID: "cid", Audience: "https://api/"}
	tests := []struct {
		name    string
		mint    func() error
		wantErr error
	}{
		{name: "unknown dialect", mint: func() error {
			at := base
			at.Dialect = "jwt"
			_, _, err := m.AccessToken(t.Context(), at)
			return err
		}, wantErr: token.ErrUnknownDialect},
		{name: "HS256 without a secret", mint: func() error {
			at := base
			at.Alg = "HS256"
			_, _, err := m.AccessToken(t.Context(), at)
			return err
		}, wantErr: token.ErrUnsupportedAlg},
		{name: "HS256 secret too short", mint: func() error {
			at := base
			at.Alg, at.HMACSecret = "HS256", []byte("short")
			_, _, err := m.AccessToken(t.Context(), at)
			return err
		}, wantErr: token.ErrUnsupportedAlg},
		{name: "algorithm without keys", mint: func() error {
			at := base
			at.Alg = "ES256"
			_, _, err := m.AccessToken(t.Context(), at)
			return err
		}, wantErr: token.ErrNoKey},
		{name: "ID token in ES256", mint: func() error {
			_, err := m.IDToken(t.Context(), token.IDToken{Subject: "s", ClientID: "c", Alg: "ES256"})
			return err
		}, wantErr: token.ErrUnsupportedAlg},
		{name: "ID token in PS256 without a PS256 key", mint: func() error {
			_, err := m.IDToken(t.Context(), token.IDToken{Subject: "s", ClientID: "c", Alg: "PS256"})
			return err
		}, wantErr: token.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.mint(); !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
	for name, at := range map[string]token.AccessToken{
		"no audience":       {Subject: "s", ClientID: "c"},
		"no subject":        {ClientID: "c", Audience: "a"},
		"negative lifetime": {Subject: "s", ClientID: "c", Audience: "a", Lifetime: -time.Second},
	} {
		if _, _, err := m.AccessToken(t.Context(), at); err == nil {
			t.Errorf("%s: got no error, want one", name)
		}
	}
}

// TestHS256NoKidNoJWKS: an HS256 token has no kid (like Auth0's) and our key set cannot verify it.
func TestHS256(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "RS256")
	m := newMinter(f)
	raw, _, err := m.AccessToken(t.Context(), token.AccessToken{Subject: "s", ClientID: "c",
		Audience: "https://api/", Alg: "HS256", HMACSecret: hmacSecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.keys.Verify(t.Context(), raw); !errors.Is(err, token.ErrInvalidToken) {
		t.Errorf("Keys.Verify of an HS256 token: got %v, want ErrInvalidToken", err)
	}
	tests := []struct {
		name   string
		raw    string
		secret []byte
		ok     bool
	}{
		{name: "right secret", raw: raw, secret: hmacSecret, ok: true},
		{name: "other secret", raw: raw, secret: []byte(strings.Repeat("x", 40))},
		{name: "RS256 token", raw: sign(t, f.keys, "RS256"), secret: hmacSecret},
		{name: "short secret", raw: raw, secret: hmacSecret[:16]},
		{name: "garbage", raw: "a.b.c", secret: hmacSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := token.VerifyHS256(tt.raw, tt.secret)
			if (err == nil) != tt.ok {
				t.Fatalf("got error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok {
				b, _ := json.Marshal(claims)
				if !strings.Contains(string(b), `"aud":"https://api/"`) {
					t.Errorf("claims: got %s", b)
				}
			}
		})
	}
}

// TestUnfilteredCustomClaims: restricted names cannot reach a token even if the caller skipped
// FilterCustomClaims.
func TestUnfilteredCustomClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "RS256")
	m := newMinter(f)
	custom := map[string]any{"permissions": []string{"delete:all"}, "nonce": "n", "sub": "other", "ok": 1}
	at, _, err := m.AccessToken(t.Context(), token.AccessToken{Subject: "auth0|1", ClientID: "cid",
		Audience: "https://api/", Custom: custom})
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.IDToken(t.Context(), token.IDToken{Subject: "auth0|1", ClientID: "cid", Custom: custom, Profile: custom})
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{"access": at, "id": id} {
		_, claims := decodeJWT(t, raw)
		for _, c := range []string{"permissions", "nonce"} {
			if v, ok := claims[c]; ok {
				t.Errorf("%s token: got %s=%v, want no such claim", name, c, v)
			}
		}
		if claims["sub"] != "auth0|1" || claims["ok"] == nil {
			t.Errorf("%s token: got sub=%v ok=%v, want auth0|1 and the custom claim", name, claims["sub"], claims["ok"])
		}
	}
}

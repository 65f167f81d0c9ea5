package compat_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/auth0/go-auth0/v3/authentication"
	"github.com/auth0/go-auth0/v3/authentication/oauth"
)

// go-auth0's user for successful logins; bob only ever fails.
const (
	auth0User = "alice@example.com"
	auth0Name = "Alice"
	badUser   = "bob@example.com"
)

// newAuth0 builds a go-auth0 authentication client for the test server. go-auth0 turns the
// domain into https://127.0.0.1:PORT/, fetches the JWKS in its constructor and validates every
// ID token it receives against that issuer, byte for byte.
func newAuth0(t *testing.T, opts ...authentication.Option) *authentication.Authentication {
	t.Helper()
	all := append([]authentication.Option{authentication.WithClient(srv.httpClient())}, opts...)
	a, err := authentication.New(t.Context(), srv.hostPort, all...)
	if err != nil {
		t.Fatalf("authentication.New: %v", err)
	}
	return a
}

// newAuth0Secret is a go-auth0 client for the client_secret_post application.
func newAuth0Secret(t *testing.T) *authentication.Authentication {
	return newAuth0(t, authentication.WithClientID(clientID), authentication.WithClientSecret(clientSecret))
}

// auth0Login logs the go-auth0 user in with every scope the tests need.
func auth0Login(t *testing.T, a *authentication.Authentication, realmName string) *oauth.TokenSet {
	t.Helper()
	tok, err := a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{
		Username: auth0User,
		Password: password,
		Scope:    "openid profile email offline_access",
		Audience: apiID,
		Realm:    realmName,
	}, oauth.IDTokenValidationOptions{})
	if err != nil {
		t.Fatalf("LoginWithPassword: %v", err)
	}
	return tok
}

// wantAuth0Error fails unless err is go-auth0's *authentication.Error with these fields.
func wantAuth0Error(t *testing.T, err error, status int, code, description string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d %s %q", status, code, description)
	}
	ae, ok := errorsAs[*authentication.Error](err)
	if !ok {
		t.Fatalf("got error %T %v, want *authentication.Error", err, err)
	}
	if ae.StatusCode != status || ae.Err != code || ae.Message != description {
		t.Errorf("got error %d %q %q, want %d %q %q", ae.StatusCode, ae.Err, ae.Message, status, code, description)
	}
}

func TestGoAuth0LoginWithPassword(t *testing.T) {
	tests := []struct {
		name  string
		realm string // empty: go-auth0 sends grant_type=password
	}{
		{name: "password grant, default directory", realm: ""},
		{name: "password-realm grant", realm: realm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuth0Secret(t)
			// go-auth0 validates the ID token inside LoginWithPassword: no error means its
			// checks (RS256 signature with a JWKS key, iss, aud, iat/exp, sub) passed.
			tok := auth0Login(t, a, tc.realm)

			if tok.TokenType != "Bearer" {
				t.Errorf("got token_type %q, want Bearer", tok.TokenType)
			}
			if tok.ExpiresIn != 86400 {
				t.Errorf("got expires_in %d, want 86400 (the API's default token lifetime)", tok.ExpiresIn)
			}
			if tok.RefreshToken == "" {
				t.Error("got no refresh_token, want one (offline_access, API allows offline access)")
			}
			checkScopes(t, "token response", tok.Scope,
				[]string{"openid", "profile", "email", "offline_access"}, nil)

			if tok.IDToken == "" {
				t.Fatal("got no id_token, want one (openid requested)")
			}
			_, id := decodeJWT(t, tok.IDToken)
			if id["iss"] != srv.issuer || id["email"] != auth0User || id["name"] != auth0Name {
				t.Errorf("got ID token iss %v email %v name %v, want %s %s %s",
					id["iss"], id["email"], id["name"], srv.issuer, auth0User, auth0Name)
			}
			if aud := audiences(id); len(aud) != 1 || aud[0] != clientID {
				t.Errorf("got ID token aud %v, want [%s]", aud, clientID)
			}
			if _, ok := id["nonce"]; ok {
				t.Errorf("got ID token nonce %v, want none (none was asked for)", id["nonce"])
			}

			_, at := decodeJWT(t, tok.AccessToken)
			if at["iss"] != srv.issuer || at["sub"] != id["sub"] || at["azp"] != clientID {
				t.Errorf("got access token iss %v sub %v azp %v, want %s %v %s",
					at["iss"], at["sub"], at["azp"], srv.issuer, id["sub"], clientID)
			}
			if sub, _ := at["sub"].(string); !strings.HasPrefix(sub, "auth0|") {
				t.Errorf("got access token sub %q, want auth0|<id>", sub)
			}
			if aud := audiences(at); len(aud) == 0 || aud[0] != apiID {
				t.Errorf("got access token aud %v, want %s first", aud, apiID)
			}
			if at["gty"] != "password" {
				t.Errorf("got access token gty %v, want password", at["gty"])
			}
			// The password grant implies full trust: no API scope asked → all of the API's.
			scope, _ := at["scope"].(string)
			checkScopes(t, "access token", scope, []string{"openid", "read:data", "write:data"}, nil)
		})
	}
}

// TestGoAuth0IDTokenValidationIsOn shows that go-auth0 really checks the ID tokens Sesame
// sends: asking for a nonce the server never echoes (the password flow has none) makes the
// library reject an otherwise good response.
func TestGoAuth0IDTokenValidationIsOn(t *testing.T) {
	a := newAuth0Secret(t)
	_, err := a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{
		Username: auth0User,
		Password: password,
		Scope:    "openid",
		Audience: apiID,
	}, oauth.IDTokenValidationOptions{Nonce: "n-0S6_WzA2Mj"})
	if err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("got error %v, want go-auth0's ID token validation to reject the missing nonce", err)
	}
}

func TestGoAuth0RefreshToken(t *testing.T) {
	a := newAuth0Secret(t)
	first := auth0Login(t, a, "")

	second, err := a.OAuth.RefreshToken(t.Context(), oauth.RefreshTokenRequest{RefreshToken: first.RefreshToken},
		oauth.IDTokenValidationOptions{})
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	if second.AccessToken == "" || second.AccessToken == first.AccessToken {
		t.Errorf("got access token %q after refresh, want a new one", second.AccessToken)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Errorf("got refresh token %q after refresh, want a new one (rotating client)", second.RefreshToken)
	}
	if second.IDToken == "" {
		t.Error("got no id_token after refresh, want one (openid was granted)")
	}
	_, at := decodeJWT(t, second.AccessToken)
	if at["gty"] != "refresh_token" {
		t.Errorf("got refreshed access token gty %v, want refresh_token", at["gty"])
	}
	checkScopes(t, "refreshed token response", second.Scope, []string{"openid", "offline_access"}, nil)

	// Rotation: the first refresh token was used up. Presenting it again is reuse, which
	// revokes the whole family (RFC 9700 §4.14.2), so the rotated token dies with it.
	_, err = a.OAuth.RefreshToken(t.Context(), oauth.RefreshTokenRequest{RefreshToken: first.RefreshToken},
		oauth.IDTokenValidationOptions{})
	wantAuth0Error(t, err, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
	_, err = a.OAuth.RefreshToken(t.Context(), oauth.RefreshTokenRequest{RefreshToken: second.RefreshToken},
		oauth.IDTokenValidationOptions{})
	wantAuth0Error(t, err, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
}

func TestGoAuth0UserInfo(t *testing.T) {
	a := newAuth0Secret(t)
	tok := auth0Login(t, a, realm)
	_, id := decodeJWT(t, tok.IDToken)

	info, err := a.UserInfo(t.Context(), tok.AccessToken)
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if info.Sub == "" || info.Sub != id["sub"] {
		t.Errorf("got userinfo sub %q, want the ID token's %v", info.Sub, id["sub"])
	}
	if info.Email != auth0User || !info.EmailVerified || info.Name != auth0Name {
		t.Errorf("got userinfo email %q verified %v name %q, want %s true %s",
			info.Email, info.EmailVerified, info.Name, auth0User, auth0Name)
	}
}

func TestGoAuth0RevokeRefreshToken(t *testing.T) {
	a := newAuth0Secret(t)
	tok := auth0Login(t, a, "")

	if err := a.OAuth.RevokeRefreshToken(t.Context(), oauth.RevokeRefreshTokenRequest{Token: tok.RefreshToken}); err != nil {
		t.Fatalf("RevokeRefreshToken: %v", err)
	}
	_, err := a.OAuth.RefreshToken(t.Context(), oauth.RefreshTokenRequest{RefreshToken: tok.RefreshToken},
		oauth.IDTokenValidationOptions{})
	wantAuth0Error(t, err, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
}

func TestGoAuth0Errors(t *testing.T) {
	tests := []struct {
		name        string
		client      func(t *testing.T) *authentication.Authentication
		user, pass  string
		status      int
		code, descr string
	}{
		{
			name:   "wrong password",
			client: newAuth0Secret,
			user:   badUser, pass: "not the password",
			status: http.StatusForbidden, code: "invalid_grant", descr: wrongDesc,
		},
		{
			name:   "unknown user looks the same",
			client: newAuth0Secret,
			user:   "nobody@example.com", pass: password,
			status: http.StatusForbidden, code: "invalid_grant", descr: wrongDesc,
		},
		{
			name: "wrong client secret",
			client: func(t *testing.T) *authentication.Authentication {
				return newAuth0(t, authentication.WithClientID(clientID), authentication.WithClientSecret("not-the-secret"))
			},
			user: auth0User, pass: password,
			status: http.StatusUnauthorized, code: "access_denied", descr: "Unauthorized",
		},
		{
			name: "client assertion signed with an unregistered key",
			client: func(t *testing.T) *authentication.Authentication {
				return newAuth0(t, authentication.WithClientID(jwtClientID),
					authentication.WithClientAssertion(srv.otherKeyPEM, "RS256"))
			},
			user: auth0User, pass: password,
			status: http.StatusUnauthorized, code: "access_denied", descr: "Unauthorized",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.client(t)
			tok, err := a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{
				Username: tc.user,
				Password: tc.pass,
				Scope:    "openid",
				Audience: apiID,
			}, oauth.IDTokenValidationOptions{})
			if tok != nil {
				t.Errorf("got tokens %+v, want none", tok)
			}
			wantAuth0Error(t, err, tc.status, tc.code, tc.descr)
		})
	}
}

func TestGoAuth0PrivateKeyJWT(t *testing.T) {
	tests := []struct {
		name  string
		realm string
	}{
		{name: "password grant", realm: ""},
		{name: "password-realm grant", realm: realm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// go-auth0 signs a fresh assertion (iss = sub = client_id, aud = https://host/,
			// unique jti) for every request.
			a := newAuth0(t, authentication.WithClientID(jwtClientID),
				authentication.WithClientAssertion(srv.jwtKeyPEM, "RS256"))
			tok := auth0Login(t, a, tc.realm)
			if tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" {
				t.Fatalf("got access %t id %t refresh %t tokens, want all three",
					tok.AccessToken != "", tok.IDToken != "", tok.RefreshToken != "")
			}
			_, id := decodeJWT(t, tok.IDToken)
			if aud := audiences(id); len(aud) != 1 || aud[0] != jwtClientID {
				t.Errorf("got ID token aud %v, want [%s]", aud, jwtClientID)
			}
			_, at := decodeJWT(t, tok.AccessToken)
			if at["azp"] != jwtClientID {
				t.Errorf("got access token azp %v, want %s", at["azp"], jwtClientID)
			}

			// The refresh grant authenticates the client the same way.
			next, err := a.OAuth.RefreshToken(t.Context(), oauth.RefreshTokenRequest{RefreshToken: tok.RefreshToken},
				oauth.IDTokenValidationOptions{})
			if err != nil {
				t.Fatalf("RefreshToken with a client assertion: %v", err)
			}
			if next.AccessToken == "" || next.AccessToken == tok.AccessToken {
				t.Errorf("got access token %q after refresh, want a new one", next.AccessToken)
			}
		})
	}
}

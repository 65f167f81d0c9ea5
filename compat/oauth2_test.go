package compat_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// x/oauth2's user.
const oauth2User = "carol@example.com"

// oauth2Context makes x/oauth2 use a client that trusts the test server's certificate.
func oauth2Context(t *testing.T) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, srv.httpClient())
}

// oauth2Config is the x/oauth2 configuration an app would write for the Compat App.
func oauth2Config(style oauth2.AuthStyle, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: srv.url("/oauth/token"), AuthStyle: style},
		Scopes:       scopes,
	}
}

var authStyles = []struct {
	name  string
	style oauth2.AuthStyle
}{
	{"client_secret_basic (AuthStyleInHeader)", oauth2.AuthStyleInHeader},
	{"client_secret_post (AuthStyleInParams)", oauth2.AuthStyleInParams},
	{"auto-detect (AuthStyleAutoDetect)", oauth2.AuthStyleAutoDetect},
}

func TestOAuth2PasswordAndRefresh(t *testing.T) {
	for _, tc := range authStyles {
		t.Run(tc.name, func(t *testing.T) {
			ctx := oauth2Context(t)
			// x/oauth2 sends grant_type=password, username, password and scope only: no
			// audience and no realm, so the tenant's default_audience and default_directory
			// decide. Without openid the access token is for the API alone.
			conf := oauth2Config(tc.style, "offline_access", "read:data")
			tok, err := conf.PasswordCredentialsToken(ctx, oauth2User, password)
			if err != nil {
				t.Fatalf("PasswordCredentialsToken: %v", err)
			}
			if tok.TokenType != "Bearer" {
				t.Errorf("got token type %q, want Bearer", tok.TokenType)
			}
			if until := time.Until(tok.Expiry); until < 23*time.Hour || until > 25*time.Hour {
				t.Errorf("got expiry in %s, want about 24h (expires_in 86400)", until)
			}
			if tok.RefreshToken == "" {
				t.Fatal("got no refresh token, want one (offline_access)")
			}
			scope, _ := tok.Extra("scope").(string)
			checkScopes(t, "token response", scope, []string{"read:data", "offline_access"}, []string{"write:data"})
			if idt := tok.Extra("id_token"); idt != nil {
				t.Errorf("got id_token %v, want none (openid not requested)", idt)
			}

			_, at := decodeJWT(t, tok.AccessToken)
			if aud, ok := at["aud"].(string); !ok || aud != apiID {
				t.Errorf("got access token aud %#v, want %q (the tenant's default_audience)", at["aud"], apiID)
			}
			if at["iss"] != srv.issuer || at["azp"] != clientID {
				t.Errorf("got access token iss %v azp %v, want %s %s", at["iss"], at["azp"], srv.issuer, clientID)
			}
			atScope, _ := at["scope"].(string)
			checkScopes(t, "access token", atScope, []string{"read:data"}, []string{"write:data"})

			// Make the token look expired so that the TokenSource uses the refresh token.
			oldAccess, oldRefresh := tok.AccessToken, tok.RefreshToken
			tok.Expiry = time.Now().Add(-time.Minute)
			next, err := conf.TokenSource(ctx, tok).Token()
			if err != nil {
				t.Fatalf("TokenSource refresh: %v", err)
			}
			if next.AccessToken == "" || next.AccessToken == oldAccess {
				t.Errorf("got access token %q after refresh, want a new one", next.AccessToken)
			}
			if next.RefreshToken == "" || next.RefreshToken == oldRefresh {
				t.Errorf("got refresh token %q after refresh, want the rotated one", next.RefreshToken)
			}
			if !next.Expiry.After(time.Now()) {
				t.Errorf("got refreshed expiry %s, want a future time", next.Expiry)
			}
			_, nat := decodeJWT(t, next.AccessToken)
			if aud, ok := nat["aud"].(string); !ok || aud != apiID || nat["gty"] != "refresh_token" {
				t.Errorf("got refreshed access token aud %#v gty %v, want %q refresh_token", nat["aud"], nat["gty"], apiID)
			}
		})
	}
}

func TestOAuth2WrongPassword(t *testing.T) {
	for _, tc := range authStyles {
		t.Run(tc.name, func(t *testing.T) {
			conf := oauth2Config(tc.style, "openid")
			tok, err := conf.PasswordCredentialsToken(oauth2Context(t), badUser, "not the password")
			if tok != nil {
				t.Errorf("got token %+v, want none", tok)
			}
			re, ok := errorsAs[*oauth2.RetrieveError](err)
			if !ok {
				t.Fatalf("got error %T %v, want *oauth2.RetrieveError", err, err)
			}
			if re.ErrorCode != "invalid_grant" || re.ErrorDescription != wrongDesc {
				t.Errorf("got error %q %q, want invalid_grant %q", re.ErrorCode, re.ErrorDescription, wrongDesc)
			}
			if re.Response == nil {
				t.Error("got no HTTP response in the RetrieveError, want the 403")
			} else if re.Response.StatusCode != http.StatusForbidden {
				t.Errorf("got status %d, want 403", re.Response.StatusCode)
			}
		})
	}
}

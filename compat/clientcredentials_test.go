package compat_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The machine-to-machine client; the tenant file grants it both scopes of the Compat API in
// its clientGrants section, naming it by name as the Deploy CLI does.
const (
	m2mClientID     = "compat-m2m-app-00000000000000007"
	m2mClientSecret = "compat-m2m-secret-0123456789abcdef0123456789ab"
)

// TestClientCredentialsWithOAuth2 gets machine tokens with x/oauth2's clientcredentials
// package, in each way it authenticates, and spends them at an API guarded by apiauth.
func TestClientCredentialsWithOAuth2(t *testing.T) {
	tests := []struct {
		name       string
		style      oauth2.AuthStyle
		scopes     []string
		params     url.Values
		wantScope  string
		wantStatus int // at the API, which needs read:data
	}{
		{"client_secret_basic, default audience", oauth2.AuthStyleInHeader, nil, nil, "read:data write:data", http.StatusOK},
		{"client_secret_post, audience parameter", oauth2.AuthStyleInParams, nil, url.Values{"audience": {apiID}},
			"read:data write:data", http.StatusOK},
		{"scope narrowed to write:data", oauth2.AuthStyleAutoDetect, []string{"write:data"}, nil, "write:data", http.StatusForbidden},
	}
	api := newProtectedAPI(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := clientcredentials.Config{ClientID: m2mClientID, ClientSecret: m2mClientSecret,
				TokenURL: srv.url("/oauth/token"), AuthStyle: tc.style, Scopes: tc.scopes, EndpointParams: tc.params}
			tok, err := conf.Token(oauth2Context(t))
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.RefreshToken != "" || tok.Extra("id_token") != nil || tok.Extra("scope") != tc.wantScope {
				t.Errorf("got refresh %q id_token %v scope %v, want no refresh or ID token and scope %q",
					tok.RefreshToken, tok.Extra("id_token"), tok.Extra("scope"), tc.wantScope)
			}
			_, claims := decodeJWT(t, tok.AccessToken)
			if claims["sub"] != m2mClientID+"@clients" || claims["gty"] != "client-credentials" || claims["azp"] != m2mClientID || claims["aud"] != apiID {
				t.Errorf("claims %v, want sub %s@clients, gty client-credentials, azp, aud %s", claims, m2mClientID, apiID)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL, nil)
			tok.SetAuthHeader(req)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.wantStatus {
				t.Errorf("API answered %d, want %d", res.StatusCode, tc.wantStatus)
			}
		})
	}
	t.Run("scope outside the grant", func(t *testing.T) {
		conf := clientcredentials.Config{ClientID: m2mClientID, ClientSecret: m2mClientSecret,
			TokenURL: srv.url("/oauth/token"), Scopes: []string{"read:data", "admin:data"}}
		_, err := conf.Token(oauth2Context(t))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusForbidden || re.ErrorCode != "access_denied" ||
			re.ErrorDescription != "Client has not been granted scopes: admin:data" {
			t.Errorf("got %v, want 403 access_denied Client has not been granted scopes: admin:data", err)
		}
	})
}

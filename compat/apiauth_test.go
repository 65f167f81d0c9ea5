package compat_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sesameauth/sesame/apiauth"
)

// apiauth's user.
const apiUser = "erin@example.com"

// apiToken logs the apiauth user in with x/oauth2 and returns the whole token response.
func apiToken(t *testing.T, scopes ...string) *oauth2.Token {
	t.Helper()
	tok, err := oauth2Config(oauth2.AuthStyleInParams, scopes...).PasswordCredentialsToken(oauth2Context(t), apiUser, password)
	if err != nil {
		t.Fatalf("PasswordCredentialsToken(scopes %v): %v", scopes, err)
	}
	return tok
}

// newProtectedAPI starts an API, as its authors would write it with apiauth, whose one route
// needs read:data and answers with the caller's subject.
func newProtectedAPI(t *testing.T) *httptest.Server {
	t.Helper()
	v, err := apiauth.New(apiauth.Config{Issuer: srv.issuer, Audience: apiID, HTTPClient: srv.httpClient()})
	if err != nil {
		t.Fatalf("apiauth.New: %v", err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := apiauth.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": c.Subject})
	})
	api := httptest.NewServer(v.Middleware(apiauth.RequireScope("read:data")(handler)))
	t.Cleanup(api.Close)
	return api
}

func TestAPIAuthWithRealTokens(t *testing.T) {
	tests := []struct {
		name       string
		token      func(t *testing.T) string
		wantStatus int
		wantError  string // the JSON body's error; "" on success
	}{
		{
			name:       "no scope requested: every API scope granted",
			token:      func(t *testing.T) string { return apiToken(t).AccessToken },
			wantStatus: http.StatusOK,
		},
		{
			name:       "read:data",
			token:      func(t *testing.T) string { return apiToken(t, "read:data").AccessToken },
			wantStatus: http.StatusOK,
		},
		{
			name:       "openid and read:data: aud is an array with the API in it",
			token:      func(t *testing.T) string { return apiToken(t, "openid", "read:data").AccessToken },
			wantStatus: http.StatusOK,
		},
		{
			name:       "write:data only",
			token:      func(t *testing.T) string { return apiToken(t, "write:data").AccessToken },
			wantStatus: http.StatusForbidden,
			wantError:  "insufficient_scope",
		},
		{
			name: "ID token instead of an access token",
			token: func(t *testing.T) string {
				raw, _ := apiToken(t, "openid", "read:data").Extra("id_token").(string)
				if raw == "" {
					t.Fatal("got no id_token, want one (openid requested)")
				}
				return raw
			},
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_token",
		},
		{
			name:       "garbage",
			token:      func(*testing.T) string { return "not-a-jwt" },
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_token",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newProtectedAPI(t)
			token := tc.token(t)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL+"/data", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := api.Client().Do(req)
			if err != nil {
				t.Fatalf("GET /data: %v", err)
			}
			defer resp.Body.Close()
			var body struct {
				Sub   string `json:"sub"`
				Error string `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decoding the API's answer: %v", err)
			}
			if resp.StatusCode != tc.wantStatus || body.Error != tc.wantError {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body.Error, tc.wantStatus, tc.wantError)
			}
			if tc.wantStatus == http.StatusOK {
				_, claims := decodeJWT(t, token)
				if sub, _ := claims["sub"].(string); body.Sub != sub || !strings.HasPrefix(sub, "auth0|") {
					t.Errorf("got subject %q from the API, want the token's %q (auth0|…)", body.Sub, sub)
				}
			} else if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("got status %d without a WWW-Authenticate challenge", resp.StatusCode)
			}
		})
	}
}

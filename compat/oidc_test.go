package compat_test

import (
	"context"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// go-oidc's user.
const oidcUser = "dave@example.com"

// oidcProvider runs OpenID Connect discovery against the test server. go-oidc refuses a
// discovery document whose issuer is not exactly the one asked for.
func oidcProvider(t *testing.T) (context.Context, *oidc.Provider) {
	t.Helper()
	ctx := oidc.ClientContext(t.Context(), srv.httpClient())
	p, err := oidc.NewProvider(ctx, srv.issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%q): %v", srv.issuer, err)
	}
	return ctx, p
}

// oidcLogin runs a password grant with x/oauth2 against the discovered token endpoint and
// returns the token and its raw ID token.
func oidcLogin(t *testing.T, ctx context.Context, p *oidc.Provider, user string) (*oauth2.Token, string) {
	return oidcLoginAs(t, ctx, p, clientID, clientSecret, user)
}

// oidcLoginAs is oidcLogin with another client.
func oidcLoginAs(t *testing.T, ctx context.Context, p *oidc.Provider, id, secret, user string) (*oauth2.Token, string) {
	t.Helper()
	conf := &oauth2.Config{
		ClientID:     id,
		ClientSecret: secret,
		Endpoint:     p.Endpoint(),
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	tok, err := conf.PasswordCredentialsToken(ctx, user, password)
	if err != nil {
		t.Fatalf("PasswordCredentialsToken(%s): %v", user, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatalf("got no id_token in the token response, want one (openid requested)")
	}
	return tok, raw
}

func TestOIDCDiscovery(t *testing.T) {
	_, p := oidcProvider(t)
	var meta struct {
		Issuer        string   `json:"issuer"`
		TokenEndpoint string   `json:"token_endpoint"`
		UserInfo      string   `json:"userinfo_endpoint"`
		JWKSURI       string   `json:"jwks_uri"`
		Revocation    string   `json:"revocation_endpoint"`
		SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
		SubjectTypes  []string `json:"subject_types_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		t.Fatalf("provider.Claims: %v", err)
	}
	tests := []struct {
		name, got, want string
	}{
		{"issuer", meta.Issuer, srv.issuer},
		{"token_endpoint", meta.TokenEndpoint, srv.url("/oauth/token")},
		{"userinfo_endpoint", meta.UserInfo, srv.url("/userinfo")},
		{"jwks_uri", meta.JWKSURI, srv.url("/.well-known/jwks.json")},
		{"revocation_endpoint", meta.Revocation, srv.url("/oauth/revoke")},
		{"token endpoint go-oidc uses", p.Endpoint().TokenURL, srv.url("/oauth/token")},
		{"userinfo endpoint go-oidc uses", p.UserInfoEndpoint(), srv.url("/userinfo")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	if !slices.Contains(meta.SigningAlgs, "RS256") || !slices.Contains(meta.SubjectTypes, "public") {
		t.Errorf("got id_token_signing_alg_values_supported %v subject_types_supported %v, want RS256 and public",
			meta.SigningAlgs, meta.SubjectTypes)
	}
}

func TestOIDCVerifyIDTokenAndUserInfo(t *testing.T) {
	ctx, p := oidcProvider(t)
	verifier := p.Verifier(&oidc.Config{ClientID: clientID})
	tok, raw := oidcLogin(t, ctx, p, oidcUser)

	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if idt.Issuer != srv.issuer || len(idt.Audience) != 1 || idt.Audience[0] != clientID || idt.Subject == "" {
		t.Errorf("got iss %q aud %v sub %q, want %q [%s] and a subject", idt.Issuer, idt.Audience, idt.Subject, srv.issuer, clientID)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatalf("IDToken.Claims: %v", err)
	}
	if claims.Email != oidcUser || !claims.EmailVerified || claims.Name != "Dave" {
		t.Errorf("got ID token email %q verified %v name %q, want %s true Dave", claims.Email, claims.EmailVerified, claims.Name, oidcUser)
	}

	// A token for another client must not pass this client's verifier.
	other := p.Verifier(&oidc.Config{ClientID: jwtClientID})
	if _, err := other.Verify(ctx, raw); err == nil {
		t.Errorf("got an ID token for %s accepted by a verifier for %s, want an audience error", clientID, jwtClientID)
	}

	info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if info.Email != oidcUser || !info.EmailVerified || info.Subject != idt.Subject {
		t.Errorf("got userinfo email %q verified %v sub %q, want %s true %s", info.Email, info.EmailVerified, info.Subject, oidcUser, idt.Subject)
	}
}

// TestOIDCVerifyPS256IDToken checks a client whose ID tokens are PS256: go-oidc, configured
// only by discovery, verifies them against the JWKS.
func TestOIDCVerifyPS256IDToken(t *testing.T) {
	ctx, p := oidcProvider(t)
	_, raw := oidcLoginAs(t, ctx, p, ps256ClientID, ps256ClientSecret, oidcUser)
	if h, _ := decodeJWT(t, raw); h["alg"] != "PS256" {
		t.Errorf("got ID token alg %v, want PS256", h["alg"])
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: ps256ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if idt.Issuer != srv.issuer || len(idt.Audience) != 1 || idt.Audience[0] != ps256ClientID || idt.Subject == "" {
		t.Errorf("got iss %q aud %v sub %q, want %q [%s] and a subject", idt.Issuer, idt.Audience, idt.Subject, srv.issuer, ps256ClientID)
	}
}

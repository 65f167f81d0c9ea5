package oauthserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// invalidClient is what RFC 7009 §2.1 and RFC 7662 §2.1 call a failed client authentication.
func invalidClient(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code == "access_denied" {
		c := *e
		c.Code, c.Description = "invalid_client", "Client authentication failed."
		return &c
	}
	return err
}

// handleRevoke implements RFC 7009. Refresh tokens are revoked with their family; anything else
// (an access token, an unknown or foreign token) still answers 200, as §2.2 requires.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := parseParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := s.authenticateClient(ctx, r, p)
	if err == nil {
		err = s.allowOrigin(w.Header(), r, client.Client)
	}
	if err != nil {
		s.writeError(w, r, invalidClient(err))
		return
	}
	raw, err := p.require("token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if hash, ok := token.HashRefreshToken(raw); ok {
		if err := s.revokeRefresh(ctx, client, hash, r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revokeRefresh(ctx context.Context, client authenticatedClient, hash string, r *http.Request) error {
	fam, _, err := s.store.GetRefreshToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if fam.ClientID != client.ClientID { // §2.1: only the client the token was issued to
		return nil
	}
	now := s.now()
	if _, err := s.store.RevokeRefreshFamily(ctx, hash, now); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	tenant, err := s.store.GetTenant(ctx)
	if err != nil {
		return err
	}
	if tenant.RevokeDeletesGrant {
		if _, err := s.store.RevokeRefreshFamilies(ctx, fam.UserID, fam.ClientID, fam.Audience, now); err != nil {
			return err
		}
	}
	if s.events != nil {
		s.events.Emit(store.LogEvent{Type: "srrt", Description: "Refresh token revoked", ClientID: client.ClientID,
			ClientName: client.Name, UserID: fam.UserID, Connection: fam.Connection, Audience: fam.Audience,
			IP: endUserIP(r, client), ClientIP: peerIP(r)})
	}
	return nil
}

// handleIntrospect implements RFC 7662 for confidential clients: a refresh token is described
// only to its own client; access tokens signed by this tenant to any confidential client.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := parseParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := s.authenticateClient(ctx, r, p)
	if err == nil && !client.Confidential {
		err = errUnauthorizedClient.withCause(errors.New("introspection needs a confidential client"))
	}
	if err != nil {
		s.writeError(w, r, invalidClient(err))
		return
	}
	raw, err := p.require("token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	inactive := map[string]any{"active": false}
	if hash, ok := token.HashRefreshToken(raw); ok {
		fam, tok, err := s.store.GetRefreshToken(ctx, hash)
		now := s.now()
		if err != nil || fam.ClientID != client.ClientID || !fam.RevokedAt.IsZero() ||
			expired(fam.ExpiresAt, now) || expired(tok.IdleExpiresAt, now) || !tok.RotatedAt.IsZero() {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				s.writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		resp := map[string]any{"active": true, "token_type": "refresh_token", "client_id": fam.ClientID,
			"sub": fam.UserID, "scope": fam.Scope, "iat": tok.CreatedAt.Unix(), "iss": s.issuer}
		if fam.Audience != "" {
			resp["aud"] = fam.Audience
		}
		if !fam.ExpiresAt.IsZero() {
			resp["exp"] = fam.ExpiresAt.Unix()
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	claims, err := s.verifyAccessToken(ctx, raw)
	if err != nil {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	resp := map[string]any{"active": true, "token_type": "access_token"}
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "scope", "jti", "permissions"} {
		if v, ok := claims[k]; ok {
			resp[k] = v
		}
	}
	resp["client_id"] = claims["azp"]
	if v, ok := claims["client_id"]; ok {
		resp["client_id"] = v
	}
	writeJSON(w, http.StatusOK, resp)
}

// verifyAccessToken checks an access token this tenant issued: signature (our published keys,
// or the API's HS256 secret), issuer, expiry, and that it is an access token at all. An ID
// token is signed by the same keys and carries the same iss, so without the last check
// introspection would call it an active access token (RFC 7662 §2.2: active only for a token
// the server would accept as what it is asked about).
func (s *Server) verifyAccessToken(ctx context.Context, raw string) (map[string]any, error) {
	claims, err := s.keys.Verify(ctx, raw)
	if err != nil {
		claims, err = s.verifyHS256(ctx, raw)
		if err != nil {
			return nil, err
		}
	}
	if claims["iss"] != s.issuer {
		return nil, errors.New("token of another issuer")
	}
	if !accessTokenShape(raw, claims) {
		return nil, errors.New("not an access token")
	}
	exp, ok := claims["exp"].(float64)
	if !ok || time.Unix(int64(exp), 0).Before(s.now()) {
		return nil, errors.New("token expired")
	}
	return claims, nil
}

// accessTokenShape reports whether a verified token of ours is an access token rather than an
// ID token, by what only the minter can put in it (Rules and Actions cannot set client_id, azp
// or gty: token.FilterCustomClaims drops them). An RFC 9068 access token has typ "at+jwt" and
// client_id (RFC 9068 §2.1, §2.2); one in Auth0's dialect has typ "JWT" with azp and gty. An ID
// token has neither: its aud is the client and it never carries azp or gty here.
func accessTokenShape(raw string, claims map[string]any) bool {
	var h struct {
		Typ string `json:"typ"`
	}
	seg, _, _ := strings.Cut(raw, ".")
	if b, err := base64.RawURLEncoding.DecodeString(seg); err != nil || json.Unmarshal(b, &h) != nil {
		return false
	}
	_, clientID := claims["client_id"]
	_, azp := claims["azp"]
	_, gty := claims["gty"]
	switch h.Typ {
	case "at+jwt":
		return clientID
	case "JWT":
		return azp && gty
	}
	return false
}

// verifyHS256 tries the signing secret of the API the token names as its audience.
func (s *Server) verifyHS256(ctx context.Context, raw string) (map[string]any, error) {
	aud, err := peekAudience(raw)
	if err != nil {
		return nil, err
	}
	api, err := s.store.GetResourceServer(ctx, aud)
	if err != nil || api.SigningAlg != "HS256" {
		return nil, errors.New("not an HS256 API token")
	}
	secret, err := s.box.Open(api.SigningSecretSealed, store.APISecretAAD(api.Identifier))
	if err != nil {
		return nil, err
	}
	return token.VerifyHS256(raw, secret)
}

// handleUserinfo implements OpenID Connect Core §5.3 with RFC 6750 bearer tokens.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	fail := func(code, desc string, status int) {
		s.writeError(w, r, &Error{Status: status, Code: code, Description: desc,
			Header: http.Header{"WWW-Authenticate": {`Bearer realm="userinfo", error="` + code + `", error_description="` + desc + `"`}}})
	}
	raw := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			raw = strings.TrimSpace(rest)
		}
	} else if r.Method == http.MethodPost {
		if p, err := parseParams(r); err == nil { // RFC 6750 §2.2
			raw = p.get("access_token")
		}
	}
	if raw == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="userinfo"`)
		s.writeError(w, r, oauthErr(http.StatusUnauthorized, "invalid_request", "Missing bearer token."))
		return
	}
	claims, err := s.keys.Verify(ctx, raw)
	if err == nil {
		// The token's client decides CORS, before the other checks, so that a browser app
		// can read why its token was refused (expired, wrong audience...).
		if oerr := s.allowOriginOf(ctx, w.Header(), r, stringClaim(claims, "azp")); oerr != nil {
			s.writeError(w, r, oerr)
			return
		}
	}
	if err == nil && claims["iss"] != s.issuer {
		err = errors.New("token of another issuer")
	}
	if err == nil {
		if exp, ok := claims["exp"].(float64); !ok || time.Unix(int64(exp), 0).Before(s.now()) {
			err = errors.New("expired")
		}
	}
	if err != nil || !audienceHas(claims["aud"], s.issuer+"userinfo") {
		fail("invalid_token", "The access token is invalid or expired.", http.StatusUnauthorized)
		return
	}
	scopes := splitScope(stringClaim(claims, "scope"))
	if !slices.Contains(scopes, "openid") {
		fail("insufficient_scope", "The access token lacks the openid scope.", http.StatusForbidden)
		return
	}
	sub := stringClaim(claims, "sub")
	user, err := s.lookupUser(ctx, sub)
	if err != nil {
		if errors.Is(err, directory.ErrUserNotFound) {
			fail("invalid_token", "The user no longer exists.", http.StatusUnauthorized)
			return
		}
		s.writeError(w, r, err)
		return
	}
	body := profileClaims(user, scopes)
	body["sub"] = sub
	writeJSON(w, http.StatusOK, body)
}

// lookupUser finds a user by ID through the directory of the user's connection (the same
// seam as the grants: an outside directory says whether the user still exists).
func (s *Server) lookupUser(ctx context.Context, userID string) (directory.Identity, error) {
	u, err := s.store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return directory.Identity{}, directory.ErrUserNotFound
	}
	if err != nil {
		return directory.Identity{}, err
	}
	ex := &exchange{}
	if err := s.useRealm(ctx, ex, u.Connection, nil); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return directory.Identity{}, directory.ErrUserNotFound
		}
		return directory.Identity{}, err
	}
	id, err := ex.dir.Lookup(ctx, userID)
	return id, directoryErr(err)
}

func audienceHas(aud any, want string) bool {
	switch v := aud.(type) {
	case string:
		return v == want
	case []any:
		for _, a := range v {
			if a == want {
				return true
			}
		}
	}
	return false
}

func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// handleJWKS serves the public signing keys (RFC 7517), next key included (WIRE.md §3).
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	body, err := s.keys.JWKS(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(body)
}

// discoverySigningAlgs is the discovery document's id_token_signing_alg_values_supported.
// Auth0 lists HS256, RS256 and PS256. Auth0's API middleware, express-oauth2-jwt-bearer, takes
// its allow-list for access tokens from this field, so it also names every algorithm an API may
// sign with (RS512, ES256 and EdDSA are beyond Auth0): without them that middleware rejects
// those APIs' tokens with "Unexpected 'alg' value".
var discoverySigningAlgs = []string{"HS256", "RS256", "PS256", "RS512", "ES256", "EdDSA"}

// handleDiscovery serves OpenID Connect Discovery 1.0 §3 and RFC 8414 metadata.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.issuer
	writeJSONCacheable(w, map[string]any{
		"issuer":                                           iss,
		"token_endpoint":                                   iss + "oauth/token",
		"userinfo_endpoint":                                iss + "userinfo",
		"jwks_uri":                                         iss + ".well-known/jwks.json",
		"revocation_endpoint":                              iss + "oauth/revoke",
		"introspection_endpoint":                           iss + "oauth/introspect",
		"scopes_supported":                                 []string{"openid", "profile", "email", "address", "phone", "offline_access"},
		"response_types_supported":                         []string{"token"},
		"subject_types_supported":                          []string{"public"},
		"mfa_challenge_endpoint":                           iss + "mfa/challenge",
		"id_token_signing_alg_values_supported":            discoverySigningAlgs,
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": token.AssertionAlgs,
		"revocation_endpoint_auth_methods_supported":       []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"introspection_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"claims_supported": []string{"aud", "auth_time", "email", "email_verified", "exp", "family_name", "given_name",
			"iat", "iss", "name", "nickname", "picture", "sub", "updated_at"},
		"grant_types_supported":           []string{grantPassword, grantPasswordRealm, grantRefreshToken, grantClientCredentials, grantPasswordlessOTP},
		"request_uri_parameter_supported": false,
	})
}

// writeJSONCacheable writes a public document that clients may cache briefly: unlike the
// OAuth answers of writeJSON, it holds nothing secret, and SDKs fetch it often.
func writeJSONCacheable(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(body)
}

// peekAudience reads the first audience of an unverified JWT, only to pick the key to verify
// it with.
func peekAudience(raw string) (string, error) {
	t, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return "", err
	}
	var c jwt.Claims
	if err := t.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", err
	}
	if len(c.Audience) == 0 {
		return "", errors.New("no audience")
	}
	return c.Audience[0], nil
}

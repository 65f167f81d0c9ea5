package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Access-token dialects, as Auth0 names them in a resource server's token_dialect.
const (
	// DialectAccessToken is Auth0's default: typ "JWT", azp, gty.
	DialectAccessToken = "access_token"
	// DialectAccessTokenAuthz adds the permissions claim (RBAC "add permissions in the token").
	DialectAccessTokenAuthz = "access_token_authz"
	// DialectRFC9068 is the JWT profile for access tokens (RFC 9068 §2): typ "at+jwt",
	// client_id instead of azp, jti, auth_time, no gty.
	DialectRFC9068 = "rfc9068_profile"
	// DialectRFC9068Authz is DialectRFC9068 with the permissions claim.
	DialectRFC9068Authz = "rfc9068_profile_authz"
)

// Default lifetimes (Auth0's: API token_lifetime, client jwt_configuration.lifetime_in_seconds).
const (
	DefaultAccessTokenLifetime = 86400 * time.Second
	DefaultIDTokenLifetime     = 36000 * time.Second
)

// Minter issues access and ID tokens for one issuer.
type Minter struct {
	Keys *Keys
	// Issuer is the iss claim, with its trailing slash (https://host/), as Auth0 sends it.
	Issuer string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// AccessToken describes an access token to mint (WIRE.md §2).
type AccessToken struct {
	Subject  string
	ClientID string
	Audience string
	// UserinfoAudience adds Issuer+"userinfo" as a second audience; aud becomes an array.
	UserinfoAudience bool
	// Scope is the space-separated granted scope.
	Scope string
	// GrantType is the gty claim ("password", "refresh_token", ...); not sent in the RFC 9068
	// dialects.
	GrantType string
	// Permissions becomes the permissions claim when non-nil (even empty); the *_authz dialects
	// always carry one.
	Permissions []string
	// Lifetime is exp-iat; zero means DefaultAccessTokenLifetime.
	Lifetime time.Duration
	// Alg is RS256 (when empty), PS256, RS512, ES256, EdDSA or HS256.
	Alg string
	// HMACSecret is the API's signing secret, for HS256 (at least 32 bytes).
	HMACSecret []byte
	// Dialect is one of the Dialect constants; empty means DialectAccessToken.
	Dialect string
	// AuthTime is when the user authenticated; sent as auth_time in the RFC 9068 dialects.
	AuthTime time.Time
	// Custom holds custom claims already passed through FilterCustomClaims.
	Custom map[string]any
}

// IDToken describes an OpenID Connect ID token to mint (OpenID Connect Core §2, WIRE.md §2).
type IDToken struct {
	Subject  string
	ClientID string
	// Alg is RS256 (when empty) or HS256 (signed with the client secret).
	Alg        string
	HMACSecret []byte
	// Lifetime is exp-iat; zero means DefaultIDTokenLifetime.
	Lifetime time.Duration
	AuthTime time.Time
	AMR      []string
	// Profile holds the user claims the granted scopes allow (name, nickname, picture,
	// updated_at as an ISO-8601 string, email, email_verified, ...).
	Profile map[string]any
	Custom  map[string]any
}

func (m *Minter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// AccessToken mints an access token and returns it with its lifetime in seconds (expires_in).
func (m *Minter) AccessToken(ctx context.Context, t AccessToken) (string, int, error) {
	if t.Subject == "" || t.ClientID == "" || t.Audience == "" {
		return "", 0, errors.New("token: an access token needs a subject, a client and an audience")
	}
	dialect := t.Dialect
	if dialect == "" {
		dialect = DialectAccessToken
	}
	rfc9068 := dialect == DialectRFC9068 || dialect == DialectRFC9068Authz
	authz := dialect == DialectAccessTokenAuthz || dialect == DialectRFC9068Authz
	if !rfc9068 && !authz && dialect != DialectAccessToken {
		return "", 0, fmt.Errorf("%w: %q", ErrUnknownDialect, t.Dialect)
	}
	lifetime, err := lifetimeOr(t.Lifetime, DefaultAccessTokenLifetime)
	if err != nil {
		return "", 0, err
	}
	iat := m.now().Unix()
	exp := iat + int64(lifetime/time.Second)

	claims := make(map[string]any, 12+len(t.Custom))
	claims["iss"] = m.Issuer
	claims["sub"] = t.Subject
	if userinfo := m.Issuer + "userinfo"; t.UserinfoAudience && t.Audience != userinfo {
		claims["aud"] = []string{t.Audience, userinfo}
	} else {
		claims["aud"] = t.Audience
	}
	claims["iat"] = iat
	claims["exp"] = exp
	if t.Scope != "" {
		claims["scope"] = t.Scope
	}
	typ := "JWT"
	if rfc9068 {
		typ = "at+jwt" // RFC 9068 §2.1
		claims["client_id"] = t.ClientID
		claims["jti"] = newJTI()
		if !t.AuthTime.IsZero() {
			claims["auth_time"] = t.AuthTime.Unix()
		}
	} else {
		claims["azp"] = t.ClientID
		if t.GrantType != "" {
			claims["gty"] = t.GrantType
		}
	}
	if t.Permissions != nil || authz {
		perms := t.Permissions
		if perms == nil {
			perms = []string{}
		}
		claims["permissions"] = perms
	}
	addCustom(claims, t.Custom)

	raw, err := m.sign(ctx, t.Alg, t.HMACSecret, typ, claims)
	if err != nil {
		return "", 0, err
	}
	return raw, int(lifetime / time.Second), nil
}

// IDToken mints an ID token. It never carries a nonce (node-auth0 rejects one it did not ask
// for; the password grant has none), and azp only if aud were an array, which it never is here.
func (m *Minter) IDToken(ctx context.Context, t IDToken) (string, error) {
	if t.Subject == "" || t.ClientID == "" {
		return "", errors.New("token: an ID token needs a subject and a client")
	}
	switch t.Alg {
	case "", "RS256", "PS256", "HS256":
	default:
		return "", fmt.Errorf("%w: %q for an ID token (RS256, PS256 or HS256)", ErrUnsupportedAlg, t.Alg)
	}
	lifetime, err := lifetimeOr(t.Lifetime, DefaultIDTokenLifetime)
	if err != nil {
		return "", err
	}
	iat := m.now().Unix()
	claims := make(map[string]any, 8+len(t.Profile)+len(t.Custom))
	claims["iss"] = m.Issuer
	claims["sub"] = t.Subject
	claims["aud"] = t.ClientID
	claims["iat"] = iat
	claims["exp"] = iat + int64(lifetime/time.Second)
	if !t.AuthTime.IsZero() {
		claims["auth_time"] = t.AuthTime.Unix()
	}
	if len(t.AMR) > 0 {
		claims["amr"] = t.AMR
	}
	addCustom(claims, t.Profile)
	addCustom(claims, t.Custom)
	return m.sign(ctx, t.Alg, t.HMACSecret, "JWT", claims)
}

// addCustom adds claims that do not collide with those already set (protocol claims win) and
// are not restricted: a permissions or nonce claim can only come from this package, even if a
// caller forgot FilterCustomClaims.
func addCustom(claims, custom map[string]any) {
	for k, v := range custom {
		if _, taken := claims[k]; !taken && !restrictedClaims[k] {
			claims[k] = v
		}
	}
}

func lifetimeOr(d, def time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return def, nil
	case d < time.Second:
		return 0, fmt.Errorf("token: lifetime %s is shorter than a second", d)
	}
	return d, nil
}

// sign signs with our key of alg, or with secret for HS256. HS256 headers carry no kid, like
// Auth0's: the verifier knows the secret from the audience, not from a key set.
func (m *Minter) sign(ctx context.Context, alg string, secret []byte, typ string, claims map[string]any) (string, error) {
	if alg == "" {
		alg = "RS256"
	}
	if alg != "HS256" {
		return m.Keys.Sign(ctx, alg, typ, claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: encoding claims: %w", err)
	}
	return signHS256(secret, typ, payload)
}

// signHS256 makes an HMAC-SHA256 JWS (RFC 7518 §3.2); the secret must be at least 32 bytes.
func signHS256(secret []byte, typ string, payload []byte) (string, error) {
	if len(secret) < 32 {
		return "", fmt.Errorf("%w: an HS256 secret must be at least 32 bytes, got %d", ErrUnsupportedAlg, len(secret))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// VerifyHS256 checks an HS256 token made with secret (an API's signing secret, for
// introspection) and returns its claims. Like Verify, it does not judge exp or aud.
func VerifyHS256(raw string, secret []byte) (map[string]any, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("%w: an HS256 secret must be at least 32 bytes", ErrUnsupportedAlg)
	}
	if len(raw) > maxTokenSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenSize)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	payload, err := jws.Verify(secret)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return decodeClaims(payload)
}

// newJTI returns a random token id (RFC 7519 §4.1.7).
func newJTI() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

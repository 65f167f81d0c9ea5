package apiauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults for the zero values of [Config].
const (
	DefaultLeeway             = 30 * time.Second
	DefaultMinRefreshInterval = 30 * time.Second
	DefaultCacheTTL           = 10 * time.Minute
	defaultHTTPTimeout        = 10 * time.Second
	// maxTokenBytes bounds the work done on a token before its signature is checked; Auth0
	// allows 100 KB of custom claims, which base64 makes about 136 KB.
	maxTokenBytes = 256 << 10
)

// Config says which tokens a [Validator] accepts. Issuer and Audience are required.
//
// For an API registered in Sesame as "https://api.example.com" on a server at
// https://auth.example.com:
//
//	apiauth.Config{
//		Issuer:   "https://auth.example.com/",
//		Audience: "https://api.example.com",
//	}
type Config struct {
	// Issuer is compared byte for byte with the token's "iss"; Sesame and Auth0 issuers end
	// with a slash ("https://auth.example.com/").
	Issuer string
	// JWKSURL is where the issuer publishes its signing keys. Default: Issuer (with a
	// trailing slash) + ".well-known/jwks.json". Use https outside loopback: whoever can
	// change this document can mint tokens the API accepts.
	JWKSURL string
	// Audience is the API identifier; "aud" (a string or an array) must contain it.
	Audience string
	// Algorithms is the allow-list of "alg" values: RS256, RS384, RS512, PS256, PS384,
	// PS512, ES256, ES384, ES512, EdDSA, and HS256, HS384, HS512 when HMACSecret is set.
	// Default: RS256 only. "none" is never accepted.
	Algorithms []string
	// HMACSecret is the API's signing secret for HS* tokens. HMAC tokens are verified with
	// this secret only, never with a key from the JWKS (which would let anyone who has the
	// public key forge tokens: the algorithm-confusion attack).
	HMACSecret []byte
	// Leeway is the clock skew allowed on exp, nbf and iat. Default 30s; keep it small.
	Leeway time.Duration
	// HTTPClient fetches the JWKS. Default: a client with a 10s timeout.
	HTTPClient *http.Client
	// MinRefreshInterval is the least time between two JWKS fetches, so that tokens with
	// made-up key ids cannot make the API hammer the issuer. Default 30s.
	MinRefreshInterval time.Duration
	// CacheTTL is how long a fetched JWKS is used before it is fetched again. Default 10m.
	CacheTTL time.Duration
	// Now is the clock. Default time.Now; tests set it.
	Now func() time.Time
}

// Validator checks access tokens against a [Config]. It is safe for concurrent use; build
// one per API and share it.
type Validator struct {
	issuer   string
	audience string
	algs     []jose.SignatureAlgorithm
	secret   []byte
	leeway   time.Duration
	now      func() time.Time
	keys     *keyCache // nil when only HMAC algorithms are allowed
}

// hmacMinKeyBytes is the least secret size for each HMAC algorithm: RFC 7518 §3.2 asks for a
// key at least as long as the hash output.
var hmacMinKeyBytes = map[jose.SignatureAlgorithm]int{
	jose.HS256: 32,
	jose.HS384: 48,
	jose.HS512: 64,
}

var asymmetricAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// New checks cfg and returns a Validator. It does not fetch the JWKS: the first token that
// needs it does, or call [Validator.Prefetch] to fetch it now.
func New(cfg Config) (*Validator, error) {
	var problems []string
	if cfg.Issuer == "" {
		problems = append(problems, "Issuer is required")
	}
	if cfg.Audience == "" {
		problems = append(problems, "Audience is required")
	}
	if cfg.Leeway < 0 || cfg.MinRefreshInterval < 0 || cfg.CacheTTL < 0 {
		problems = append(problems, "Leeway, MinRefreshInterval and CacheTTL must not be negative")
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = []string{string(jose.RS256)}
	}
	var algs []jose.SignatureAlgorithm
	needKeys := false
	for _, name := range names {
		alg := jose.SignatureAlgorithm(name)
		switch {
		case slices.Contains(asymmetricAlgs, alg):
			needKeys = true
		case hmacMinKeyBytes[alg] > 0:
			if len(cfg.HMACSecret) == 0 {
				problems = append(problems, fmt.Sprintf("algorithm %s needs HMACSecret", name))
			} else if len(cfg.HMACSecret) < hmacMinKeyBytes[alg] {
				problems = append(problems, fmt.Sprintf("algorithm %s needs an HMACSecret of at least %d bytes (RFC 7518 §3.2)", name, hmacMinKeyBytes[alg]))
			}
		default:
			problems = append(problems, fmt.Sprintf("algorithm %q is not supported", name))
		}
		if !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	v := &Validator{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		algs:     algs,
		secret:   slices.Clone(cfg.HMACSecret),
		leeway:   cmpOr(cfg.Leeway, DefaultLeeway),
		now:      cfg.Now,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if needKeys {
		jwksURL := cfg.JWKSURL
		if jwksURL == "" && cfg.Issuer != "" {
			jwksURL = strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/jwks.json"
		}
		if u, err := url.Parse(jwksURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("JWKS URL %q is not an absolute http(s) URL", jwksURL))
		}
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: defaultHTTPTimeout}
		}
		v.keys = &keyCache{
			url:        jwksURL,
			client:     client,
			ttl:        cmpOr(cfg.CacheTTL, DefaultCacheTTL),
			minRefresh: cmpOr(cfg.MinRefreshInterval, DefaultMinRefreshInterval),
			now:        v.now,
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return v, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Prefetch fetches the JWKS now, so that a wrong JWKS URL shows at start-up rather than on
// the first request. It does nothing when only HMAC algorithms are allowed.
func (v *Validator) Prefetch(ctx context.Context) error {
	if v.keys == nil {
		return nil
	}
	return v.keys.refresh(ctx, true)
}

// Claims are the checked claims of an access token.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt time.Time
	IssuedAt  time.Time // zero when the token has no "iat"
	// Scope is the space-separated "scope" claim, split (RFC 9068 §2.2.3).
	Scope []string
	// Permissions is Auth0's RBAC "permissions" claim.
	Permissions []string
	// ClientID is "client_id" (RFC 9068 §2.2), or Auth0's "azp" when that is absent.
	ClientID string
	// Raw is every claim of the token as encoding/json decodes it into a map (numbers are
	// float64), custom claims included.
	Raw map[string]any
}

// HasScope reports whether the token was granted scope s.
func (c *Claims) HasScope(s string) bool {
	return slices.Contains(c.Scope, s)
}

// HasPermission reports whether the token's "permissions" claim (Auth0 RBAC) holds p.
func (c *Claims) HasPermission(p string) bool {
	return slices.Contains(c.Permissions, p)
}

// Validate checks raw, a JWS compact-serialized access token, and returns its claims. Its
// errors wrap one of the Err* sentinels of this package.
func (v *Validator) Validate(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, fmt.Errorf("%w: empty or longer than %d bytes", ErrMalformedToken, maxTokenBytes)
	}
	if strings.Count(raw, ".") != 2 {
		// Five parts would be a JWE (RFC 7516 §7.1): access tokens for APIs are signed, not
		// encrypted.
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformedToken)
	}
	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, fmt.Errorf("%w: %w", ErrAlgorithm, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformedToken, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrMalformedToken, len(jws.Signatures))
	}
	header := jws.Signatures[0].Protected
	if err := checkType(header); err != nil {
		return nil, err
	}
	alg := jose.SignatureAlgorithm(header.Algorithm)
	var key any
	if _, isHMAC := hmacMinKeyBytes[alg]; isHMAC {
		// Only reached when alg is allowed, and New allows HS* only with a secret.
		key = v.secret
	} else {
		jwk, err := v.keys.find(ctx, header.KeyID, alg)
		if err != nil {
			return nil, err
		}
		if err := keyFits(jwk, alg); err != nil {
			return nil, err
		}
		key = jwk.Key
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return v.checkClaims(payload)
}

// checkType accepts the "typ" values Sesame and Auth0 put in access tokens: JWT, and at+jwt
// (RFC 9068 §2.1; "application/" may be omitted and case does not matter, RFC 7515 §4.1.9).
func checkType(h jose.Header) error {
	raw, present := h.ExtraHeaders[jose.HeaderType]
	if !present {
		return nil
	}
	typ, ok := raw.(string)
	if !ok {
		return fmt.Errorf("%w: typ is not a string", ErrTokenType)
	}
	switch strings.TrimPrefix(strings.ToLower(typ), "application/") {
	case "jwt", "at+jwt":
		return nil
	}
	return fmt.Errorf("%w: typ %q", ErrTokenType, typ)
}

// keyFits refuses a JWKS key whose declared "alg" differs from the token's, or whose type
// cannot make the token's algorithm (RFC 8725 §3.1: each key is used with one algorithm).
func keyFits(jwk *jose.JSONWebKey, alg jose.SignatureAlgorithm) error {
	if jwk.Algorithm != "" && jwk.Algorithm != string(alg) {
		return fmt.Errorf("%w: token alg %s, key %q has alg %s", ErrAlgorithm, alg, jwk.KeyID, jwk.Algorithm)
	}
	ok := false
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		ok = strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		ok = (alg == jose.ES256 && k.Curve == elliptic.P256()) ||
			(alg == jose.ES384 && k.Curve == elliptic.P384()) ||
			(alg == jose.ES512 && k.Curve == elliptic.P521())
	case ed25519.PublicKey:
		ok = alg == jose.EdDSA
	}
	if !ok {
		return fmt.Errorf("%w: alg %s does not fit key %q (%T)", ErrAlgorithm, alg, jwk.KeyID, jwk.Key)
	}
	return nil
}

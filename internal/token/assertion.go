package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Client-assertion limits (RFC 7523 §3; WIRE.md §1).
const (
	// AssertionMaxLifetime is how far ahead an assertion's exp may be.
	AssertionMaxLifetime = 5 * time.Minute
	// AssertionSkew is the clock skew allowed on exp, iat and nbf.
	AssertionSkew = 10 * time.Second
	// maxAssertionSize bounds what is parsed at all; real assertions are well under 2 KB.
	maxAssertionSize = 16 << 10
)

// AssertionAlgs are the algorithms a client may sign its assertion with, one for each kind of
// key ParseClientKey accepts: RSA, ECDSA and EdDSA (Ed25519), never "none" or HMAC (the
// client's keys are public keys). Discovery publishes them as
// token_endpoint_auth_signing_alg_values_supported.
var AssertionAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// AssertionClaims are the verified claims of a client assertion that the caller still needs:
// JTI and ExpiresAt to spend the assertion once (store.Replay) for as long as it is valid.
type AssertionClaims struct {
	Issuer    string
	Subject   string
	JTI       string
	ExpiresAt time.Time
}

// assertionPayload is the part of the claims set RFC 7523 §3 speaks about. Numbers stay
// json.Number so that a float, an integer and garbage are told apart.
type assertionPayload struct {
	Issuer    any `json:"iss"`
	Subject   any `json:"sub"`
	Audience  any `json:"aud"`
	JTI       any `json:"jti"`
	ExpiresAt any `json:"exp"`
	IssuedAt  any `json:"iat"`
	NotBefore any `json:"nbf"`
}

// PeekAssertionIssuer returns the issuer of a client assertion without verifying it, only so
// that the caller can find the client whose keys verify it. iss and sub must be equal non-empty
// strings (RFC 7523 §3 items 1 and 2 for client authentication).
func PeekAssertionIssuer(raw string) (string, error) {
	jws, err := parseAssertion(raw)
	if err != nil {
		return "", err
	}
	p, err := decodeAssertion(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return "", err
	}
	return issuerOf(p)
}

// VerifyClientAssertion authenticates a client by its private_key_jwt assertion
// (RFC 7523 §3, §2.2; OpenID Connect Core §9). The signature must verify with one of the
// client's registered keys (read by ParseClientKey, the rule they were registered under); iss and sub
// must be clientID; aud must name one of audiences; exp must be present, not past and at most
// AssertionMaxLifetime ahead; iat and nbf must not be in the future; jti must be present.
// Each bound allows AssertionSkew. Spending the jti once is the caller's job.
func VerifyClientAssertion(raw string, pemKeys []string, clientID string, audiences []string, now time.Time) (AssertionClaims, error) {
	fail := func(format string, args ...any) (AssertionClaims, error) {
		return AssertionClaims{}, fmt.Errorf("%w: %s", ErrInvalidAssertion, fmt.Sprintf(format, args...))
	}
	jws, err := parseAssertion(raw)
	if err != nil {
		return AssertionClaims{}, err
	}
	alg := jose.SignatureAlgorithm(jws.Signatures[0].Header.Algorithm)
	keys, err := parsePublicKeys(pemKeys)
	if err != nil {
		return AssertionClaims{}, err
	}
	var payload []byte
	for _, key := range keys {
		if !keyFitsAlg(key, alg) {
			continue
		}
		if payload, err = jws.Verify(key); err == nil {
			break
		}
	}
	if payload == nil {
		return fail("no registered %s key of the client verifies the signature", alg)
	}
	p, err := decodeAssertion(payload)
	if err != nil {
		return AssertionClaims{}, err
	}
	iss, err := issuerOf(p)
	if err != nil {
		return AssertionClaims{}, err
	}
	if iss != clientID {
		return fail("iss %q is not the client", iss)
	}
	if !audienceMatches(p.Audience, audiences) {
		return fail("aud does not name this server")
	}
	exp, ok := numericDate(p.ExpiresAt)
	if !ok {
		return fail("exp is missing or not a number")
	}
	if !now.Before(exp.Add(AssertionSkew)) {
		return fail("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if exp.After(now.Add(AssertionMaxLifetime + AssertionSkew)) {
		return fail("exp is more than %s ahead", AssertionMaxLifetime)
	}
	for _, c := range []struct {
		name string
		v    any
	}{{"iat", p.IssuedAt}, {"nbf", p.NotBefore}} {
		if c.v == nil {
			continue
		}
		t, ok := numericDate(c.v)
		if !ok {
			return fail("%s is not a number", c.name)
		}
		if t.After(now.Add(AssertionSkew)) {
			return fail("%s is in the future", c.name)
		}
	}
	jti, _ := p.JTI.(string)
	if jti == "" {
		return fail("jti is missing")
	}
	return AssertionClaims{Issuer: iss, Subject: iss, JTI: jti, ExpiresAt: exp}, nil
}

func parseAssertion(raw string) (*jose.JSONWebSignature, error) {
	if raw == "" || len(raw) > maxAssertionSize {
		return nil, fmt.Errorf("%w: empty or longer than %d bytes", ErrInvalidAssertion, maxAssertionSize)
	}
	jws, err := jose.ParseSignedCompact(raw, AssertionAlgs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAssertion, err)
	}
	return jws, nil
}

func decodeAssertion(payload []byte) (assertionPayload, error) {
	var p assertionPayload
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return p, fmt.Errorf("%w: claims are not a JSON object", ErrInvalidAssertion)
	}
	if d.More() {
		return p, fmt.Errorf("%w: trailing data after the claims", ErrInvalidAssertion)
	}
	return p, nil
}

func issuerOf(p assertionPayload) (string, error) {
	iss, _ := p.Issuer.(string)
	sub, _ := p.Subject.(string)
	if iss == "" || iss != sub {
		return "", fmt.Errorf("%w: iss and sub must be the same client_id", ErrInvalidAssertion)
	}
	return iss, nil
}

// audienceMatches accepts aud as a string or an array of strings (RFC 7519 §4.1.3).
func audienceMatches(aud any, audiences []string) bool {
	switch a := aud.(type) {
	case string:
		return slices.Contains(audiences, a)
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && slices.Contains(audiences, s) {
				return true
			}
		}
	}
	return false
}

// parsePublicKeys reads the client's registered keys with the one rule (ParseClientKey). A key
// that cannot be used is an error, not silently skipped: it is a configuration problem the
// admin must see in the log.
func parsePublicKeys(pemKeys []string) ([]crypto.PublicKey, error) {
	if len(pemKeys) == 0 {
		return nil, errors.New("token: the client has no registered public key")
	}
	keys := make([]crypto.PublicKey, 0, len(pemKeys))
	for i, text := range pemKeys {
		key, err := ParseClientKey(text)
		if err != nil {
			return nil, fmt.Errorf("token: client key %d: %w", i, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// ParseClientKey is the one rule for a client's registered public key (private_key_jwt,
// RFC 7523 §2.2): the Management API, the CLI and the tenant file refuse what it refuses, and
// assertions are verified with what it returns, so a key that is accepted is a key that works.
// The text must be exactly one PEM block, a "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS #1) or
// "CERTIFICATE", holding an RSA key of at least 2048 bits (RFC 7518 §3.3), an ECDSA key on
// P-256, P-384 or P-521 (§3.4), or an Ed25519 key (EdDSA, RFC 8037). Errors are sentences
// about the key, without the PEM text, fit for the admin to read.
func ParseClientKey(pemText string) (crypto.PublicKey, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil {
		return nil, errors.New("is not PEM")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("must hold exactly one PEM block")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		if strings.Contains(block.Type, "PRIVATE") {
			return nil, errors.New("is a private key: register the public key or certificate only")
		}
		return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse the %s: %v", strings.ToLower(block.Type), err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minClientRSABits {
			return nil, fmt.Errorf("RSA key has %d bits, at least %d are required", n, minClientRSABits)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, fmt.Errorf("ECDSA curve %s is not supported (P-256, P-384 or P-521)", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("key type %T is not supported (RSA, ECDSA or Ed25519)", key)
	}
	return key, nil
}

// minClientRSABits is the smallest RSA client key accepted (RFC 7518 §3.3: 2048 or larger).
const minClientRSABits = 2048

// keyFitsAlg pairs key types with JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1), the ECDSA
// curve included.
func keyFitsAlg(key crypto.PublicKey, alg jose.SignatureAlgorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return k.Curve == elliptic.P256()
		case jose.ES384:
			return k.Curve == elliptic.P384()
		case jose.ES512:
			return k.Curve == elliptic.P521()
		}
	}
	return false
}

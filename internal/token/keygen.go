package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Algs is every asymmetric JWS algorithm Keys can hold keys for (RFC 7518 §3.1, RFC 8037 §3.1).
// RS256, PS256 and RS512 are Auth0's API signing algorithms; ES256 and EdDSA are Sesame's opt-in
// additions.
var Algs = []string{"RS256", "PS256", "RS512", "ES256", "EdDSA"}

// rsaBits is the modulus size of generated RSA keys (Auth0 uses 2048-bit keys too).
const rsaBits = 2048

// SupportedAlg reports whether Keys can hold keys for alg.
func SupportedAlg(alg string) bool {
	switch alg {
	case "RS256", "PS256", "RS512", "ES256", "EdDSA":
		return true
	}
	return false
}

// generateKey makes a fresh private key of the kind alg needs.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256", "PS256", "RS512":
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
}

// checkKeyType reports whether priv is the kind of key alg signs with, so that a key stored
// under the wrong algorithm is refused instead of producing tokens nobody can verify.
func checkKeyType(alg string, priv any) error {
	ok := false
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		ok = (alg == "RS256" || alg == "PS256" || alg == "RS512") && k.N.BitLen() >= rsaBits
	case *ecdsa.PrivateKey:
		ok = alg == "ES256" && k.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return fmt.Errorf("token: a %T is not a key for %s", priv, alg)
	}
	return nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a public key, base64url without padding.
// Sesame uses it as the key id: stable, unique, and checkable by anyone holding the JWKS.
func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// marshalPrivate renders a private key as PKCS#8 DER, the form sealed into the store.
func marshalPrivate(priv crypto.Signer) ([]byte, error) {
	return x509.MarshalPKCS8PrivateKey(priv)
}

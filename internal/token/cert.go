package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// certValidity is how long the certificate describing a signing key says it is valid. The
// certificate only carries the public key (Auth0's Management API shows signing keys as
// certificates); nothing verifies tokens against its dates.
const certValidity = 20 * 365 * 24 * time.Hour

// certificate returns a self-signed X.509 certificate (DER) for the key, made once per loaded
// key. Its serial number derives from the kid and its validity starts at created, so that an
// RSA or Ed25519 key (whose signatures are deterministic) always yields the same certificate.
func (lk *loadedKey) certificate(created time.Time) ([]byte, error) {
	lk.certOnce.Do(func() {
		sum := sha256.Sum256([]byte(lk.kid))
		tmpl := &x509.Certificate{
			SerialNumber:          new(big.Int).SetBytes(sum[:16]),
			Subject:               pkix.Name{CommonName: "sesame signing key " + lk.kid},
			NotBefore:             created.UTC().Truncate(time.Second),
			NotAfter:              created.UTC().Truncate(time.Second).Add(certValidity),
			KeyUsage:              x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
		}
		lk.cert, lk.certErr = x509.CreateCertificate(rand.Reader, tmpl, tmpl, lk.priv.Public(), lk.priv)
		if lk.certErr != nil {
			lk.certErr = fmt.Errorf("token: certificate for signing key %s: %w", lk.kid, lk.certErr)
		}
	})
	return lk.cert, lk.certErr
}

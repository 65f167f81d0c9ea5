package password

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Client secrets are not passwords: Sesame generates them with 384 bits of entropy (and the
// tenant file demands at least MinSecretLength characters), so a fast SHA-256 digest is enough
// to make a leaked database useless, and it keeps client authentication off the cost of a
// password hash on every token request.

// MinSecretLength is the shortest client secret Sesame accepts.
const MinSecretLength = 32

const secretPrefix = "sha256$"

// NewSecret returns a fresh client secret: 48 random bytes, base64url (64 characters).
func NewSecret() string {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the stored form of a client secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return secretPrefix + hex.EncodeToString(sum[:])
}

// VerifySecret reports, in constant time for a given stored hash, whether secret matches it.
func VerifySecret(stored, secret string) bool {
	want, ok := strings.CutPrefix(stored, secretPrefix)
	if !ok || secret == "" {
		return false
	}
	sum := sha256.Sum256([]byte(secret))
	got := hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

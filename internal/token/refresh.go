package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// refreshTokenBytes is the entropy of a refresh token (256 bits).
const refreshTokenBytes = 32

// RefreshTokenLen is the length of a raw refresh token: 32 bytes in unpadded base64url.
var RefreshTokenLen = base64.RawURLEncoding.EncodedLen(refreshTokenBytes)

var strictRawURL = base64.RawURLEncoding.Strict()

// NewRefreshToken returns a fresh opaque refresh token and the hash to store in its place.
// Only the hash is kept at rest (RFC 9700 §4.14; DESIGN "secrets never stored raw"): a database
// leak yields no usable token. A fast hash is enough because the secret has 256 bits of entropy.
func NewRefreshToken() (raw, hash string) {
	var b [refreshTokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	raw = base64.RawURLEncoding.EncodeToString(b[:])
	return raw, hashHex(raw)
}

// HashRefreshToken returns the stored hash of a refresh token presented by a client. ok is false
// for anything NewRefreshToken cannot have produced (wrong length, alphabet, padding or
// non-canonical final character), so that garbage is rejected before any store lookup.
func HashRefreshToken(raw string) (hash string, ok bool) {
	if len(raw) != RefreshTokenLen {
		return "", false
	}
	var b [refreshTokenBytes + 1]byte
	n, err := strictRawURL.Decode(b[:], []byte(raw))
	if err != nil || n != refreshTokenBytes {
		return "", false
	}
	return hashHex(raw), true
}

func hashHex(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

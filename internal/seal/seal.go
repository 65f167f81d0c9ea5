// Package seal encrypts secrets at rest (signing keys, HS256 secrets) with the key-encryption
// key (KEK) from the server config.
//
// It is a thin wrapper over the standard library's AES-256-GCM; it exists so that every caller
// seals the same way and the KEK never travels further than this type. Sealed values carry a
// version byte so that a future KEK rotation can tell old from new.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the KEK length in bytes (AES-256).
const KeySize = 32

const version byte = 1

// ErrOpen is returned when a sealed value cannot be opened: wrong KEK, truncated or tampered.
var ErrOpen = errors.New("seal: cannot open sealed value (wrong key-encryption key or corrupt data)")

// Box seals and opens values with one KEK. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	// prk is the HKDF pseudorandom key extracted from the KEK, from which DeriveKey expands
	// one independent key per purpose.
	prk []byte
}

// New returns a Box for a 32-byte KEK.
func New(kek []byte) (*Box, error) {
	if len(kek) != KeySize {
		return nil, fmt.Errorf("seal: key-encryption key must be %d bytes, got %d", KeySize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, kek, []byte("sesame seal v1"))
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, prk: prk}, nil
}

// DeriveKey returns a 32-byte key for one purpose (e.g. "unblock-ticket"), derived from the
// KEK with HKDF-SHA256 (RFC 5869): every node sharing the KEK derives the same key, nothing
// needs storing, and a key given to one purpose reveals neither the KEK nor another purpose's
// key.
func (b *Box) DeriveKey(purpose string) []byte {
	k, err := hkdf.Expand(sha256.New, b.prk, "sesame/"+purpose, 32)
	if err != nil {
		panic(err) // only for lengths over 255*32 bytes
	}
	return k
}

// Seal encrypts plaintext; aad binds the result to its context (e.g. a key id), so that a
// sealed value copied to another row does not open there.
func (b *Box) Seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, plaintext, aad)
}

// Open decrypts a value made by Seal with the same aad.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// NewKEK returns a fresh random KEK.
func NewKEK() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}

// EncodeKEK renders a KEK the way ParseKEK reads it (standard base64).
func EncodeKEK(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// ParseKEK decodes a base64 (standard or URL alphabet) 32-byte KEK.
func ParseKEK(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("seal: key-encryption key must decode to %d bytes, got %d", KeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("seal: key-encryption key is not base64")
}

// LoadOrCreateKEKFile reads a base64 KEK from path; when the file does not exist and create is
// true it writes a new one with mode 0600 and reports created.
func LoadOrCreateKEKFile(path string, create bool) (kek []byte, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKEK(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, false, err
	}
	k := NewKEK()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process created it first: use theirs
			return LoadOrCreateKEKFile(path, false)
		}
		return nil, false, err
	}
	if _, err := f.WriteString(EncodeKEK(k) + "\n"); err != nil {
		f.Close()
		return nil, false, err
	}
	return k, true, f.Close()
}

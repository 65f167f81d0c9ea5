package password

import (
	"context"
	"fmt"
	"strings"
)

// wrapPrefix starts the scheme of a wrapped hash: "wrap-sha256-salted", "wrap-hmac-sha1"...
const wrapPrefix = "wrap-"

// wrappedHash is a fast legacy digest (a salted md5, sha1, sha256 or sha512, or an HMAC)
// wrapped in argon2id at import: the stored key is argon2id(digest(salted password)), and the
// legacy digest itself is not stored. Its PHC-style string is the legacy hash's parameters
// and salt followed by the body of an argon2id PHC string:
//
//	$wrap-<digest>-salted$pos=<prefix|suffix>[,pe=<enc>]$<salt>$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>
//	$wrap-hmac-<digest>$pos=<prefix|suffix>,key=<key>[,pe=<enc>]$<salt>$v=19$m=..,t=..,p=..$<salt>$<key>
//
// Wrapping does two things. A leaked database no longer gives an attacker digests that
// graphics cards test by the billion a second (the reason identity servers onion-wrap
// imported hashes). And verifying costs one argon2id plus a digest, the same work as a native
// user's hash and as the dummy verification of an unknown user, so that a wrong password and
// an unknown user take the same time by construction. Slow legacy schemes (bcrypt, PBKDF2,
// scrypt, argon2 with other parameters) are not wrapped: they must run on the password before
// anything else, so wrapping would add to their cost rather than equal it; the timing floor
// (floor.go) equalises those.
type wrappedHash struct {
	inner saltedHash // sum unused: the digest is only ever an argon2id input
	outer argon2Hash
}

func parseWrapped(id string, parts []string) (verifier, error) {
	if len(parts) != 6 {
		return nil, fmt.Errorf("%w: %s wants $%s$<parameters>$<salt>$v=19$m=..,t=..,p=..$<salt>$<hash>", ErrMalformed, truncate(id, 32), truncate(id, 32))
	}
	inner, err := parseSaltedInner(strings.TrimPrefix(id, wrapPrefix), parts[:2])
	if err != nil {
		return nil, err
	}
	outer, err := parseArgon2("argon2id", parts[2:])
	if err != nil {
		return nil, err
	}
	return wrappedHash{inner: inner, outer: outer.(argon2Hash)}, nil
}

func (w wrappedHash) scheme() string { return wrapPrefix + w.inner.scheme() }
func (w wrappedHash) class() string  { return wrapPrefix + w.inner.class() + "$" + w.outer.class() }

func (w wrappedHash) verify(password string) bool {
	return equal(w.outer.derive(w.inner.digestOf(password), len(w.outer.key)), w.outer.key)
}

func (w wrappedHash) String() string {
	return "$" + w.scheme() + "$" + w.inner.paramString() + "$" + strings.TrimPrefix(w.outer.String(), "$argon2id$")
}

// Wrap returns encoded wrapped in argon2id with this Hasher's parameters when encoded is a
// fast digest (see wrappedHash), and encoded unchanged otherwise. Imports call it on every
// legacy hash; it costs one argon2id per wrapped hash and takes a hashing slot like Hash.
// The wrapped hash verifies the same passwords and is replaced by a plain argon2id hash on
// the user's next successful login.
func (h *Hasher) Wrap(ctx context.Context, encoded string) (string, error) {
	v, err := parse(encoded)
	if err != nil {
		return "", err
	}
	s, ok := v.(saltedHash)
	if !ok {
		return encoded, nil
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	w := wrappedHash{inner: s, outer: argon2Hash{variant: "argon2id", version: 0x13, memory: h.params.MemoryKiB,
		time: h.params.Iterations, threads: h.params.Parallelism, salt: randomBytes(saltLen)}}
	w.outer.key = w.outer.derive(s.sum, keyLen)
	w.inner.sum = nil
	return w.String(), nil
}

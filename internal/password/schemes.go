package password

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Bounds on imported hashes. A stored hash decides how much work a login costs, so a hostile
// or careless import must not be able to make one login take seconds or gigabytes.
const (
	maxArgon2MemoryKiB = 1 << 20 // 1 GiB
	maxArgon2Time      = 20
	maxArgon2Threads   = 16
	maxBcryptCost      = 16
	maxPBKDF2Iter      = 5_000_000
	maxScryptLogN      = 20
	maxScryptR         = 32
	maxScryptP         = 16
	maxScryptMemory    = 1 << 30
	maxSaltLen         = 1024
	maxKeyLen          = 256
	maxEncodedLen      = 4096
)

// verifier is one parsed hash.
type verifier interface {
	scheme() string
	// class names the work a verification does: the scheme and its cost parameters, without
	// salt or key. Hashes of one class cost the same to verify (see floor.go).
	class() string
	verify(password string) bool
	String() string
}

// parse recognises encoded's scheme and parses it fully, bounds included.
func parse(encoded string) (verifier, error) {
	if len(encoded) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxEncodedLen)
	}
	if !strings.HasPrefix(encoded, "$") {
		return nil, fmt.Errorf("%w: not a PHC or modular crypt string (no leading $)", ErrUnsupported)
	}
	parts := strings.Split(encoded[1:], "$")
	id := parts[0]
	switch {
	case id == "argon2id" || id == "argon2i":
		return parseArgon2(id, parts[1:])
	case id == "argon2d":
		return nil, fmt.Errorf("%w: argon2d (only argon2id and argon2i are verified)", ErrUnsupported)
	case id == "2a" || id == "2b" || id == "2y":
		return parseBcrypt(encoded)
	case strings.HasPrefix(id, "pbkdf2-"):
		return parsePBKDF2(id, parts[1:])
	case id == "scrypt":
		return parseScrypt(parts[1:])
	case strings.HasPrefix(id, wrapPrefix):
		return parseWrapped(id, parts[1:])
	case strings.HasSuffix(id, "-salted") || strings.HasPrefix(id, "hmac-"):
		return parseSaltedSum(id, parts[1:])
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, truncate(id, 32))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// params parses PHC parameters "a=1,b=2" and rejects names not in allowed and duplicates.
func params(s string, allowed ...string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%w: parameter %q has no value", ErrMalformed, truncate(kv, 32))
		}
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !known {
			return nil, fmt.Errorf("%w: unknown parameter %q", ErrMalformed, truncate(k, 32))
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%w: parameter %q repeated", ErrMalformed, k)
		}
		m[k] = v
	}
	return m, nil
}

// uintParam parses the decimal parameter name, which must lie in [lo, hi].
func uintParam(m map[string]string, name string, lo, hi uint64) (uint64, error) {
	s, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("%w: parameter %s missing", ErrMalformed, name)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: parameter %s=%s not a number in [%d, %d]", ErrMalformed, name, truncate(s, 20), lo, hi)
	}
	return n, nil
}

// b64 decodes PHC's B64 (standard base64 without padding); padding is tolerated because some
// exporters add it.
func b64(what, s string, minLen, maxLen int) ([]byte, error) {
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", ErrMalformed, what)
	}
	if len(b) < minLen || len(b) > maxLen {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d to %d", ErrMalformed, what, len(b), minLen, maxLen)
	}
	return b, nil
}

func b64enc(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

func equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// argon2Hash is an argon2id or argon2i hash (RFC 9106; PHC string as the reference
// implementation writes it).
type argon2Hash struct {
	variant      string
	version      int
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseArgon2(id string, parts []string) (verifier, error) {
	a := argon2Hash{variant: id, version: 0x10}
	if len(parts) > 0 && strings.HasPrefix(parts[0], "v=") {
		v, err := params(parts[0], "v")
		if err != nil {
			return nil, err
		}
		n, err := uintParam(v, "v", 0, 0xff)
		if err != nil {
			return nil, err
		}
		a.version = int(n)
		parts = parts[1:]
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %s wants $%s$v=19$m=..,t=..,p=..$salt$hash", ErrMalformed, id, id)
	}
	if a.version != 0x13 {
		return nil, fmt.Errorf("%w: %s version %d (only v=19 is verified)", ErrUnsupported, id, a.version)
	}
	m, err := params(parts[0], "m", "t", "p")
	if err != nil {
		return nil, err
	}
	p, err := uintParam(m, "p", 1, maxArgon2Threads)
	if err != nil {
		return nil, err
	}
	mem, err := uintParam(m, "m", 8*p, maxArgon2MemoryKiB)
	if err != nil {
		return nil, err
	}
	t, err := uintParam(m, "t", 1, maxArgon2Time)
	if err != nil {
		return nil, err
	}
	a.memory, a.time, a.threads = uint32(mem), uint32(t), uint8(p)
	if a.salt, err = b64("salt", parts[1], 1, maxSaltLen); err != nil {
		return nil, err
	}
	if a.key, err = b64("hash", parts[2], 4, maxKeyLen); err != nil {
		return nil, err
	}
	return a, nil
}

func (a argon2Hash) derive(password []byte, n int) []byte {
	if a.variant == "argon2i" {
		return argon2.Key(password, a.salt, a.time, a.memory, a.threads, uint32(n))
	}
	return argon2.IDKey(password, a.salt, a.time, a.memory, a.threads, uint32(n))
}

func (a argon2Hash) scheme() string { return a.variant }

func (a argon2Hash) class() string {
	return fmt.Sprintf("%s$m=%d,t=%d,p=%d,l=%d", a.variant, a.memory, a.time, a.threads, len(a.key))
}

func (a argon2Hash) verify(password string) bool {
	return equal(a.derive([]byte(password), len(a.key)), a.key)
}

func (a argon2Hash) String() string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", a.variant, a.version, a.memory, a.time, a.threads,
		b64enc(a.salt), b64enc(a.key))
}

// bcryptHash is a bcrypt modular crypt string ($2a$, $2b$ or $2y$, which differ only in
// bugs of old C implementations that do not affect verification here).
type bcryptHash struct{ encoded string }

func parseBcrypt(encoded string) (verifier, error) {
	if len(encoded) != 60 {
		return nil, fmt.Errorf("%w: bcrypt hash is %d characters, want 60", ErrMalformed, len(encoded))
	}
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return nil, fmt.Errorf("%w: bcrypt: %v", ErrMalformed, err)
	}
	if cost > maxBcryptCost {
		return nil, fmt.Errorf("%w: bcrypt cost %d above %d", ErrMalformed, cost, maxBcryptCost)
	}
	for _, c := range encoded[7:] {
		if !strings.ContainsRune("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", c) {
			return nil, fmt.Errorf("%w: bcrypt salt or hash has a character outside its alphabet", ErrMalformed)
		}
	}
	return bcryptHash{encoded}, nil
}

func (bcryptHash) scheme() string   { return "bcrypt" }
func (b bcryptHash) class() string  { return "bcrypt$" + b.encoded[4:6] }
func (b bcryptHash) String() string { return b.encoded }

func (b bcryptHash) verify(password string) bool {
	// CompareHashAndPassword compares in constant time.
	return bcrypt.CompareHashAndPassword([]byte(b.encoded), []byte(password)) == nil
}

// digests are the hash functions the PBKDF2, salted-digest and HMAC schemes may name.
var digests = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

func digest(id, name string) (func() hash.Hash, error) {
	h, ok := digests[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s: digest %q", ErrUnsupported, truncate(id, 32), truncate(name, 20))
	}
	return h, nil
}

// pbkdf2Hash is PBKDF2 (RFC 8018 section 5.2) in PHC form, as passlib and Auth0 write it.
type pbkdf2Hash struct {
	digest    string
	iter      int
	salt, key []byte
}

func parsePBKDF2(id string, parts []string) (verifier, error) {
	name := strings.TrimPrefix(id, "pbkdf2-")
	if name == "md5" {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, id)
	}
	if _, err := digest(id, name); err != nil {
		return nil, err
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %s wants $%s$i=<iterations>,l=<length>$salt$hash", ErrMalformed, id, id)
	}
	m, err := params(parts[0], "i", "l")
	if err != nil {
		return nil, err
	}
	it, err := uintParam(m, "i", 1, maxPBKDF2Iter)
	if err != nil {
		return nil, err
	}
	p := pbkdf2Hash{digest: name, iter: int(it)}
	if p.salt, err = b64("salt", parts[1], 1, maxSaltLen); err != nil {
		return nil, err
	}
	if p.key, err = b64("hash", parts[2], 4, maxKeyLen); err != nil {
		return nil, err
	}
	if _, ok := m["l"]; ok {
		l, err := uintParam(m, "l", 1, maxKeyLen)
		if err != nil {
			return nil, err
		}
		if int(l) != len(p.key) {
			return nil, fmt.Errorf("%w: %s l=%d but the hash is %d bytes", ErrMalformed, id, l, len(p.key))
		}
	}
	return p, nil
}

func (p pbkdf2Hash) scheme() string { return "pbkdf2-" + p.digest }

func (p pbkdf2Hash) class() string {
	return fmt.Sprintf("%s$i=%d,l=%d", p.scheme(), p.iter, len(p.key))
}

func (p pbkdf2Hash) verify(password string) bool {
	got, err := pbkdf2.Key(digests[p.digest], password, p.salt, p.iter, len(p.key))
	return err == nil && equal(got, p.key)
}

func (p pbkdf2Hash) String() string {
	return fmt.Sprintf("$pbkdf2-%s$i=%d,l=%d$%s$%s", p.digest, p.iter, len(p.key), b64enc(p.salt), b64enc(p.key))
}

// passwordEncodings turn the password string into the bytes the original system hashed.
// latin1 keeps the low byte of each UTF-16 code unit, as Node.js's "latin1", "binary" and
// "ascii" buffers do.
var passwordEncodings = map[string]func(string) []byte{
	"utf8": func(s string) []byte { return []byte(s) },
	"utf16le": func(s string) []byte {
		u := utf16.Encode([]rune(s))
		b := make([]byte, 0, 2*len(u))
		for _, c := range u {
			b = binary.LittleEndian.AppendUint16(b, c)
		}
		return b
	},
	"latin1": func(s string) []byte {
		u := utf16.Encode([]rune(s))
		b := make([]byte, len(u))
		for i, c := range u {
			b[i] = byte(c)
		}
		return b
	},
}

func passwordEncoding(m map[string]string) (string, error) {
	pe, ok := m["pe"]
	if !ok {
		return "utf8", nil
	}
	if _, known := passwordEncodings[pe]; !known || pe == "utf8" {
		// utf8 is the default and is never spelled out, so each hash has one spelling.
		return "", fmt.Errorf("%w: password encoding pe=%q (want utf16le or latin1, or none for utf8)", ErrMalformed, truncate(pe, 20))
	}
	return pe, nil
}

func peParam(pe string) string {
	if pe == "utf8" {
		return ""
	}
	return ",pe=" + pe
}

// scryptHash is scrypt (RFC 7914) with N = 2^ln.
type scryptHash struct {
	logN, r, p int
	pe         string
	salt, key  []byte
}

func parseScrypt(parts []string) (verifier, error) {
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: scrypt wants $scrypt$ln=..,r=..,p=..$salt$hash", ErrMalformed)
	}
	m, err := params(parts[0], "ln", "r", "p", "pe")
	if err != nil {
		return nil, err
	}
	ln, err := uintParam(m, "ln", 1, maxScryptLogN)
	if err != nil {
		return nil, err
	}
	r, err := uintParam(m, "r", 1, maxScryptR)
	if err != nil {
		return nil, err
	}
	p, err := uintParam(m, "p", 1, maxScryptP)
	if err != nil {
		return nil, err
	}
	if 128*r*(uint64(1)<<ln) > maxScryptMemory {
		return nil, fmt.Errorf("%w: scrypt needs more than %d bytes of memory", ErrMalformed, maxScryptMemory)
	}
	s := scryptHash{logN: int(ln), r: int(r), p: int(p)}
	if s.pe, err = passwordEncoding(m); err != nil {
		return nil, err
	}
	if s.salt, err = b64("salt", parts[1], 0, maxSaltLen); err != nil {
		return nil, err
	}
	if s.key, err = b64("hash", parts[2], 4, maxKeyLen); err != nil {
		return nil, err
	}
	return s, nil
}

func (scryptHash) scheme() string { return "scrypt" }

func (s scryptHash) class() string {
	return fmt.Sprintf("scrypt$ln=%d,r=%d,p=%d,l=%d", s.logN, s.r, s.p, len(s.key))
}

func (s scryptHash) verify(password string) bool {
	got, err := scrypt.Key(passwordEncodings[s.pe](password), s.salt, 1<<s.logN, s.r, s.p, len(s.key))
	return err == nil && equal(got, s.key)
}

func (s scryptHash) String() string {
	return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d%s$%s$%s", s.logN, s.r, s.p, peParam(s.pe), b64enc(s.salt), b64enc(s.key))
}

// saltedHash is a single digest or HMAC of the salted password: Auth0's md5, sha1, sha256,
// sha512 and hmac import algorithms, in Sesame's own PHC-style spelling (see Identify).
type saltedHash struct {
	digest string
	// hmacKey is nil for a plain digest.
	hmacKey   []byte
	suffix    bool
	pe        string
	salt, sum []byte
}

// parseSaltedSum parses a complete <digest>-salted or hmac-<digest> hash: parameters, salt
// and the digest of the salted password.
func parseSaltedSum(id string, parts []string) (verifier, error) {
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %s wants $%s$pos=prefix|suffix$salt$hash", ErrMalformed, id, id)
	}
	s, err := parseSaltedInner(id, parts[:2])
	if err != nil {
		return nil, err
	}
	size := digests[s.digest]().Size()
	if s.sum, err = b64("hash", parts[2], size, size); err != nil {
		return nil, err
	}
	return s, nil
}

// parseSaltedInner parses the parameters and salt of a <digest>-salted or hmac-<digest> hash
// named id; the digest of the salted password is left to the caller.
func parseSaltedInner(id string, parts []string) (saltedHash, error) {
	name, isHMAC := strings.CutPrefix(id, "hmac-")
	if !isHMAC {
		var ok bool
		if name, ok = strings.CutSuffix(id, "-salted"); !ok {
			return saltedHash{}, fmt.Errorf("%w: %q", ErrUnsupported, truncate(id, 32))
		}
	}
	if _, err := digest(id, name); err != nil {
		return saltedHash{}, err
	}
	allowed := []string{"pos", "pe"}
	if isHMAC {
		allowed = append(allowed, "key")
	}
	m, err := params(parts[0], allowed...)
	if err != nil {
		return saltedHash{}, err
	}
	s := saltedHash{digest: name}
	switch m["pos"] {
	case "prefix":
	case "suffix":
		s.suffix = true
	default:
		return saltedHash{}, fmt.Errorf("%w: %s wants pos=prefix or pos=suffix", ErrMalformed, id)
	}
	if s.pe, err = passwordEncoding(m); err != nil {
		return saltedHash{}, err
	}
	if isHMAC {
		k, ok := m["key"]
		if !ok {
			return saltedHash{}, fmt.Errorf("%w: %s wants a key parameter", ErrMalformed, id)
		}
		if s.hmacKey, err = b64("hmac key", k, 1, maxSaltLen); err != nil {
			return saltedHash{}, err
		}
	}
	if s.salt, err = b64("salt", parts[1], 0, maxSaltLen); err != nil {
		return saltedHash{}, err
	}
	return s, nil
}

func (s saltedHash) scheme() string {
	if s.hmacKey != nil {
		return "hmac-" + s.digest
	}
	return s.digest + "-salted"
}

func (s saltedHash) class() string { return s.scheme() }

func (s saltedHash) verify(password string) bool { return equal(s.digestOf(password), s.sum) }

// digestOf is the digest or HMAC of the salted password, what the original system stored.
func (s saltedHash) digestOf(password string) []byte {
	var h hash.Hash
	if s.hmacKey != nil {
		h = hmac.New(digests[s.digest], s.hmacKey)
	} else {
		h = digests[s.digest]()
	}
	pw := passwordEncodings[s.pe](password)
	if s.suffix {
		h.Write(pw)
		h.Write(s.salt)
	} else {
		h.Write(s.salt)
		h.Write(pw)
	}
	return h.Sum(nil)
}

func (s saltedHash) String() string {
	return fmt.Sprintf("$%s$%s$%s", s.scheme(), s.paramString(), b64enc(s.sum))
}

// paramString is the hash's parameters and salt: "pos=..[,key=..][,pe=..]$<salt>".
func (s saltedHash) paramString() string {
	pos := "prefix"
	if s.suffix {
		pos = "suffix"
	}
	key := ""
	if s.hmacKey != nil {
		key = ",key=" + b64enc(s.hmacKey)
	}
	return fmt.Sprintf("pos=%s%s%s$%s", pos, key, peParam(s.pe), b64enc(s.salt))
}

// Package password hashes and verifies user passwords, and digests client secrets.
//
// New passwords are hashed with argon2id (RFC 9106) at OWASP's recommended parameters and
// stored as PHC strings. Verification also accepts the formats users arrive with when they are
// imported from elsewhere (argon2i, bcrypt, PBKDF2, scrypt, salted digests, HMAC; see Identify
// for the full list), so that a migrated user logs in with the old password and is rehashed to
// argon2id on that login. FromAuth0CustomHash turns the custom_password_hash object of Auth0's
// bulk user import into such a string.
//
// Hashing is deliberately expensive (tens of MiB and ~20 ms of a core per argon2id call), so a
// Hasher bounds how many run at once and sheds load when a request's deadline passes before a
// slot frees: beyond the core count, more concurrency only queues.
//
// The package sits below the directories and the admin API, and imports nothing of ours.
package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Params are argon2id's cost parameters (RFC 9106 section 3.1).
type Params struct {
	// MemoryKiB is the memory size m in KiB.
	MemoryKiB uint32
	// Iterations is the number of passes t.
	Iterations uint32
	// Parallelism is the number of lanes p.
	Parallelism uint8
}

// DefaultParams are OWASP's first recommended argon2id configuration (m=19 MiB, t=2, p=1),
// about 20 ms of one core.
var DefaultParams = Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var (
	// ErrOverloaded is returned when no hashing slot freed before the context was done. It
	// wraps the context's error.
	ErrOverloaded = errors.New("password: hashing capacity exhausted")
	// ErrUnsupported is returned for a hash whose scheme this package does not verify.
	ErrUnsupported = errors.New("password: unsupported hash scheme")
	// ErrMalformed is returned for a hash of a known scheme that cannot be parsed, or whose
	// parameters are out of the bounds this package accepts.
	ErrMalformed = errors.New("password: malformed hash")
)

// Hasher hashes and verifies passwords with a bound on concurrent work. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	// dummy is an argon2id hash with the current parameters of a password nobody knows; its
	// verification costs what verifying a real user's hash costs.
	dummy string
	// floor holds failed verifications to the slowest class's time (floor.go).
	floor timingFloor
	now   func() time.Time
	sleep func(context.Context, time.Duration)
	// waiting and shed count requests queued for a slot and those turned away (Stats).
	waiting atomic.Int64
	shed    atomic.Int64
}

// PoolStats is a snapshot of the hashing pool, for metrics.
type PoolStats struct {
	InUse, Capacity int
	// Waiting is how many operations wait for a slot now; Shed how many gave up waiting
	// (ErrOverloaded) since start.
	Waiting, Shed int64
}

// Stats reports the hashing pool's use.
func (h *Hasher) Stats() PoolStats {
	return PoolStats{InUse: len(h.sem), Capacity: cap(h.sem), Waiting: h.waiting.Load(), Shed: h.shed.Load()}
}

// NewHasher returns a Hasher that hashes with p and runs at most concurrency hash or verify
// operations at once (runtime.NumCPU() when concurrency <= 0). Zero fields of p take their
// DefaultParams value.
func NewHasher(p Params, concurrency int) *Hasher {
	if p.MemoryKiB == 0 {
		p.MemoryKiB = DefaultParams.MemoryKiB
	}
	if p.Iterations == 0 {
		p.Iterations = DefaultParams.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = DefaultParams.Parallelism
	}
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	// The dummy's key is random rather than computed: verifying costs one argon2id
	// derivation either way, and no password can match it.
	dummy := argon2Hash{variant: "argon2id", version: 0x13, memory: p.MemoryKiB,
		time: p.Iterations, threads: p.Parallelism, salt: randomBytes(saltLen), key: randomBytes(keyLen)}
	return &Hasher{params: p, sem: make(chan struct{}, concurrency), dummy: dummy.String(), now: time.Now, sleep: sleepCtx}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns an argon2id PHC string for password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, with a 16-byte random salt and a 32-byte key,
// both in unpadded standard base64.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	a := argon2Hash{variant: "argon2id", version: 0x13, memory: h.params.MemoryKiB,
		time: h.params.Iterations, threads: h.params.Parallelism, salt: randomBytes(saltLen)}
	a.key = a.derive([]byte(password), keyLen)
	return a.String(), nil
}

// Verify reports whether password matches encoded, and whether encoded should be replaced by
// a fresh Hash (anything but argon2id with this Hasher's parameters). A mismatch is ok=false
// with a nil error, returned no sooner than the timing floor after the verification began
// (floor.go), so that no stored hash answers a wrong password faster than another; an error
// means the hash is malformed or unsupported (ErrMalformed, ErrUnsupported) or no hashing
// slot freed in time (ErrOverloaded).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	v, err := parse(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	start := h.now()
	ok = v.verify(password)
	h.floor.observe(v.class(), h.now().Sub(start))
	h.release()
	if !ok {
		h.hold(ctx, start) // outside the slot: waiting costs no hashing capacity
	}
	return ok, h.needsRehash(v), nil
}

// VerifyDummy spends what verifying a real argon2id hash with the current parameters spends,
// and is held to the timing floor like a failed Verify. Directories call it for an unknown
// user, so that an unknown user and a wrong password take the same time. Its only error is ErrOverloaded, exactly when Verify would have returned it,
// so that the caller can answer an overloaded refusal the way it answers an overloaded Verify.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

func (h *Hasher) needsRehash(v verifier) bool {
	a, ok := v.(argon2Hash)
	return !ok || a.variant != "argon2id" || a.memory != h.params.MemoryKiB ||
		a.time != h.params.Iterations || a.threads != h.params.Parallelism || len(a.key) != keyLen
}

// acquire takes a hashing slot, preferring a free slot over a done context so that a request
// is only turned away when the pool is actually full.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		h.shed.Add(1)
		return fmt.Errorf("%w: %w", ErrOverloaded, ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Identify returns the scheme of encoded (for example "argon2id", "bcrypt", "pbkdf2-sha256",
// "sha256-salted"), or an error wrapping ErrUnsupported or ErrMalformed that says what is
// wrong. Import paths call it to reject a hash no login could ever match.
//
// The accepted formats are:
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>   (also argon2i; v may be omitted)
//	$2a$<cost>$<salt+hash>                                      (also $2b$, $2y$)
//	$pbkdf2-<digest>$i=<iterations>[,l=<key length>]$<salt>$<key>  (digest sha1, sha224, sha256, sha384, sha512)
//	$scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>[,pe=<enc>]$<salt>$<key>
//	$<digest>-salted$pos=<prefix|suffix>[,pe=<enc>]$<salt>$<digest of salted password>
//	$hmac-<digest>$pos=<prefix|suffix>,key=<key>[,pe=<enc>]$<salt>$<HMAC of salted password>
//	$wrap-<digest>-salted$pos=..$<salt>$v=19$m=..,t=..,p=..$<salt>$<key>  (also wrap-hmac-<digest>)
//
// Salts, keys and digests are in unpadded standard base64 (PHC's B64). The last three are
// Sesame's own PHC-style spellings of the formats Auth0's bulk import accepts: for
// <digest>-salted (md5, sha1, sha256, sha512) the stored value is digest(salt || password)
// with pos=prefix and digest(password || salt) with pos=suffix; an empty salt means an
// unsalted digest. pe is how the password was turned into bytes: utf8 (the default, omitted),
// utf16le or latin1 (the low byte of each UTF-16 code unit, as Node.js does). The wrap-
// schemes are those digests wrapped in argon2id at import (see Hasher.Wrap).
func Identify(encoded string) (string, error) {
	v, err := parse(encoded)
	if err != nil {
		return "", err
	}
	return v.scheme(), nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

package password

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// cheap keeps tests fast; production uses DefaultParams.
var cheap = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestHashVerify(t *testing.T) {
	tests := []struct {
		name       string
		verifyWith Params
		password   string
		attempt    string
		wantOK     bool
		wantRehash bool
	}{
		{name: "right password", verifyWith: cheap, password: "correct horse", attempt: "correct horse", wantOK: true},
		{name: "wrong password", verifyWith: cheap, password: "correct horse", attempt: "correct horsE"},
		{name: "empty password", verifyWith: cheap, password: "", attempt: "", wantOK: true},
		{name: "unicode password", verifyWith: cheap, password: "pässwörd ☃", attempt: "pässwörd ☃", wantOK: true},
		{name: "params changed since", verifyWith: Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1},
			password: "pw", attempt: "pw", wantOK: true, wantRehash: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHasher(cheap, 2)
			encoded, err := h.Hash(t.Context(), tt.password)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if !strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("Hash = %q, want an argon2id PHC string with m=64,t=1,p=1", encoded)
			}
			ok, rehash, err := NewHasher(tt.verifyWith, 2).Verify(t.Context(), encoded, tt.attempt)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.wantOK || rehash != tt.wantRehash {
				t.Fatalf("Verify = ok %v, rehash %v; want ok %v, rehash %v", ok, rehash, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := NewHasher(cheap, 1)
	a, _ := h.Hash(t.Context(), "pw")
	b, _ := h.Hash(t.Context(), "pw")
	if a == b {
		t.Fatalf("two hashes of one password are equal (%q); want distinct salts", a)
	}
}

func TestNewHasherDefaults(t *testing.T) {
	if got := NewHasher(Params{}, 0).Params(); got != DefaultParams {
		t.Fatalf("Params() = %+v, want %+v", got, DefaultParams)
	}
}

func b64s(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func bcryptOf(t *testing.T, password string, cost int) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifyFormats(t *testing.T) {
	tests := []struct {
		name       string
		encoded    func(t *testing.T) string
		password   string
		wantScheme string
		wantOK     bool
		wantRehash bool
	}{
		{
			// Reference vector of the argon2 CLI (phc-winner-argon2 README).
			name: "argon2i reference vector",
			encoded: func(*testing.T) string {
				return "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
			},
			password: "password", wantScheme: "argon2i", wantOK: true, wantRehash: true,
		},
		{
			name: "argon2id reference vector",
			encoded: func(*testing.T) string {
				return "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
			},
			password: "password", wantScheme: "argon2id", wantOK: true, wantRehash: true,
		},
		{
			name: "argon2id wrong password",
			encoded: func(*testing.T) string {
				return "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
			},
			password: "Password", wantScheme: "argon2id", wantRehash: true,
		},
		{
			name:     "argon2id current params",
			encoded:  func(t *testing.T) string { s, _ := NewHasher(cheap, 1).Hash(t.Context(), "pw"); return s },
			password: "pw", wantScheme: "argon2id", wantOK: true,
		},
		{
			name:     "bcrypt 2a",
			encoded:  func(t *testing.T) string { return bcryptOf(t, "hunter2", bcrypt.MinCost) },
			password: "hunter2", wantScheme: "bcrypt", wantOK: true, wantRehash: true,
		},
		{
			name: "bcrypt 2b",
			encoded: func(t *testing.T) string {
				return "$2b$" + strings.TrimPrefix(bcryptOf(t, "hunter2", bcrypt.MinCost), "$2a$")
			},
			password: "hunter2", wantScheme: "bcrypt", wantOK: true, wantRehash: true,
		},
		{
			name: "bcrypt 2y",
			encoded: func(t *testing.T) string {
				return "$2y$" + strings.TrimPrefix(bcryptOf(t, "hunter2", bcrypt.MinCost), "$2a$")
			},
			password: "hunter2", wantScheme: "bcrypt", wantOK: true, wantRehash: true,
		},
		{
			name:     "bcrypt wrong password",
			encoded:  func(t *testing.T) string { return bcryptOf(t, "hunter2", bcrypt.MinCost) },
			password: "hunter3", wantScheme: "bcrypt", wantRehash: true,
		},
		{
			// RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64.
			name: "pbkdf2-sha256 RFC 7914 vector",
			encoded: func(t *testing.T) string {
				return "$pbkdf2-sha256$i=1,l=64$" + b64s([]byte("salt")) + "$" + b64s(mustHex(t,
					"55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"))
			},
			password: "passwd", wantScheme: "pbkdf2-sha256", wantOK: true, wantRehash: true,
		},
		{
			// RFC 6070: PBKDF2-HMAC-SHA1, P="password", S="salt", c=4096, dkLen=20.
			name: "pbkdf2-sha1 RFC 6070 vector without l",
			encoded: func(t *testing.T) string {
				return "$pbkdf2-sha1$i=4096$" + b64s([]byte("salt")) + "$" + b64s(mustHex(t, "4b007901b765489abead49d926f721d065a429c1"))
			},
			password: "password", wantScheme: "pbkdf2-sha1", wantOK: true, wantRehash: true,
		},
		{
			name: "pbkdf2-sha1 wrong password",
			encoded: func(t *testing.T) string {
				return "$pbkdf2-sha1$i=4096$" + b64s([]byte("salt")) + "$" + b64s(mustHex(t, "4b007901b765489abead49d926f721d065a429c1"))
			},
			password: "passwore", wantScheme: "pbkdf2-sha1", wantRehash: true,
		},
		{
			// RFC 7914 section 12: P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64.
			name: "scrypt RFC 7914 vector",
			encoded: func(t *testing.T) string {
				return "$scrypt$ln=10,r=8,p=16$" + b64s([]byte("NaCl")) + "$" + b64s(mustHex(t,
					"fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"))
			},
			password: "password", wantScheme: "scrypt", wantOK: true, wantRehash: true,
		},
		{
			name: "sha256 salt prefix",
			encoded: func(*testing.T) string {
				sum := sha256.Sum256([]byte("NaCl" + "secret"))
				return "$sha256-salted$pos=prefix$" + b64s([]byte("NaCl")) + "$" + b64s(sum[:])
			},
			password: "secret", wantScheme: "sha256-salted", wantOK: true, wantRehash: true,
		},
		{
			name: "sha256 salt prefix is not suffix",
			encoded: func(*testing.T) string {
				sum := sha256.Sum256([]byte("secret" + "NaCl"))
				return "$sha256-salted$pos=prefix$" + b64s([]byte("NaCl")) + "$" + b64s(sum[:])
			},
			password: "secret", wantScheme: "sha256-salted", wantRehash: true,
		},
		{
			name: "sha512 salt suffix",
			encoded: func(*testing.T) string {
				sum := sha512.Sum512([]byte("secret" + "NaCl"))
				return "$sha512-salted$pos=suffix$" + b64s([]byte("NaCl")) + "$" + b64s(sum[:])
			},
			password: "secret", wantScheme: "sha512-salted", wantOK: true, wantRehash: true,
		},
		{
			name: "md5 unsalted",
			encoded: func(*testing.T) string {
				sum := md5.Sum([]byte("secret"))
				return "$md5-salted$pos=prefix$$" + b64s(sum[:])
			},
			password: "secret", wantScheme: "md5-salted", wantOK: true, wantRehash: true,
		},
		{
			name: "sha256 utf16le password",
			encoded: func(*testing.T) string {
				sum := sha256.Sum256([]byte{'p', 0, 0xe4, 0})
				return "$sha256-salted$pos=prefix,pe=utf16le$$" + b64s(sum[:])
			},
			password: "pä", wantScheme: "sha256-salted", wantOK: true, wantRehash: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded := tt.encoded(t)
			scheme, err := Identify(encoded)
			if err != nil || scheme != tt.wantScheme {
				t.Fatalf("Identify = %q, %v; want %q", scheme, err, tt.wantScheme)
			}
			ok, rehash, err := NewHasher(cheap, 2).Verify(t.Context(), encoded, tt.password)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.wantOK || rehash != tt.wantRehash {
				t.Fatalf("Verify = ok %v, rehash %v; want ok %v, rehash %v", ok, rehash, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", ErrUnsupported},
		{"plain text", "hunter2", ErrUnsupported},
		{"unknown scheme", "$sha3$x$y$z", ErrUnsupported},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrUnsupported},
		{"argon2 version 16", "$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrUnsupported},
		{"argon2 no version", "$argon2id$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrUnsupported},
		{"argon2 memory over 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"argon2 time over 20", "$argon2id$v=19$m=64,t=21,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"argon2 lanes over 16", "$argon2id$v=19$m=4096,t=1,p=17$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"argon2 missing m", "$argon2id$v=19$t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"argon2 unknown param", "$argon2id$v=19$m=64,t=1,p=1,x=2$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"argon2 repeated param", "$argon2id$v=19$m=64,t=1,p=1,m=64$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"argon2 bad salt", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"argon2 no hash", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ", ErrMalformed},
		{"argon2 negative memory", "$argon2id$v=19$m=-1,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"bcrypt truncated", "$2a$10$abc", ErrMalformed},
		{"bcrypt cost 31", "$2a$31$" + strings.Repeat("a", 53), ErrMalformed},
		{"bcrypt bad alphabet", "$2a$04$" + strings.Repeat("!", 53), ErrMalformed},
		{"bcrypt 2x", "$2x$04$" + strings.Repeat("a", 53), ErrUnsupported},
		{"pbkdf2 md5", "$pbkdf2-md5$i=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", ErrUnsupported},
		{"pbkdf2 unknown digest", "$pbkdf2-whirlpool$i=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", ErrUnsupported},
		{"pbkdf2 too many iterations", "$pbkdf2-sha256$i=5000001$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"pbkdf2 l disagrees", "$pbkdf2-sha256$i=1,l=32$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"scrypt too much memory", "$scrypt$ln=20,r=16,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformed},
		{"salted wrong digest length", "$sha256-salted$pos=prefix$c2FsdA$AAAA", ErrMalformed},
		{"salted bad position", "$sha256-salted$pos=middle$c2FsdA$" + b64s(sum[:]), ErrMalformed},
		{"salted explicit utf8", "$sha256-salted$pos=prefix,pe=utf8$c2FsdA$" + b64s(sum[:]), ErrMalformed},
		{"hmac without key", "$hmac-sha256$pos=prefix$c2FsdA$" + b64s(sum[:]), ErrMalformed},
		{"huge string", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 5000) + "$AAAA", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Identify(tt.encoded); !errors.Is(err, tt.want) {
				t.Fatalf("Identify error = %v, want %v", err, tt.want)
			}
			ok, _, err := NewHasher(cheap, 1).Verify(t.Context(), tt.encoded, "x")
			if ok || !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, %v; want false, %v", ok, err, tt.want)
			}
		})
	}
}

func TestOverloaded(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, h *Hasher) error
	}{
		{"Hash", func(ctx context.Context, h *Hasher) error { _, err := h.Hash(ctx, "pw"); return err }},
		{"Verify", func(ctx context.Context, h *Hasher) error {
			_, _, err := h.Verify(ctx, h.dummy, "pw")
			return err
		}},
		{"VerifyDummy", func(ctx context.Context, h *Hasher) error { return h.VerifyDummy(ctx, "pw") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHasher(cheap, 1)
			h.sem <- struct{}{} // a long hash holds the only slot
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			err := tt.call(ctx, h)
			if !errors.Is(err, ErrOverloaded) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want ErrOverloaded wrapping context.DeadlineExceeded", err)
			}
			h.release()
			if err := tt.call(t.Context(), h); err != nil {
				t.Fatalf("after the slot freed: got %v, want nil", err)
			}
		})
	}
}

func TestOverloadedWaitsForSlot(t *testing.T) {
	h := NewHasher(cheap, 1)
	h.sem <- struct{}{}
	go func() {
		time.Sleep(10 * time.Millisecond)
		h.release()
	}()
	if _, err := h.Hash(t.Context(), "pw"); err != nil {
		t.Fatalf("Hash while a slot frees within the deadline: got %v, want nil", err)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(cheap, 1)
	v, err := parse(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash %q does not parse: %v", h.dummy, err)
	}
	if h.needsRehash(v) {
		t.Fatalf("dummy hash %q does not use the current params %+v", h.dummy, h.Params())
	}
	if err := h.VerifyDummy(t.Context(), "anything"); err != nil {
		t.Fatalf("VerifyDummy: got %v, want nil", err)
	}
	if got := len(h.sem); got != 0 {
		t.Fatalf("VerifyDummy left %d slots taken, want 0", got)
	}
}

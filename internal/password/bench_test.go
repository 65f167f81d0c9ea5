package password

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The benchmarks run at production cost: they are what capacity planning reads.

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	for b.Loop() {
		if _, err := h.Hash(b.Context(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	argon, err := h.Hash(b.Context(), "pw")
	if err != nil {
		b.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("pw"), 10)
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct{ name, encoded string }{
		{"argon2id-default", argon},
		{"bcrypt-10", string(bc)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				if ok, _, err := h.Verify(b.Context(), bm.encoded, "pw"); !ok || err != nil {
					b.Fatalf("Verify = %v, %v", ok, err)
				}
			}
		})
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	for b.Loop() {
		if err := h.VerifyDummy(b.Context(), "pw"); err != nil {
			b.Fatal(err)
		}
	}
}

package token_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/token"
)

func TestNewRefreshToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		raw, hash := token.NewRefreshToken()
		if len(raw) != 43 {
			t.Fatalf("raw %q: got length %d, want 43", raw, len(raw))
		}
		if b, err := base64.RawURLEncoding.DecodeString(raw); err != nil || len(b) != 32 {
			t.Fatalf("raw %q: got %d bytes (%v), want 32 in base64url", raw, len(b), err)
		}
		sum := sha256.Sum256([]byte(raw))
		if want := hex.EncodeToString(sum[:]); hash != want {
			t.Fatalf("hash: got %s, want %s", hash, want)
		}
		if got, ok := token.HashRefreshToken(raw); !ok || got != hash {
			t.Fatalf("HashRefreshToken(%q): got %q, %v; want %q, true", raw, got, ok, hash)
		}
		if seen[raw] {
			t.Fatalf("raw %q issued twice", raw)
		}
		seen[raw] = true
	}
}

func TestHashRefreshToken(t *testing.T) {
	t.Parallel()
	valid, _ := token.NewRefreshToken()
	tests := []struct {
		name string
		raw  string
		ok   bool
	}{
		{name: "issued", raw: valid, ok: true},
		{name: "all A", raw: strings.Repeat("A", 43), ok: true},
		{name: "url alphabet", raw: strings.Repeat("-_", 21) + "A", ok: true},
		{name: "empty", raw: ""},
		{name: "one short", raw: valid[:42]},
		{name: "one long", raw: valid + "A"},
		{name: "padded", raw: valid + "="},
		{name: "standard alphabet", raw: strings.Repeat("+", 42) + "A"},
		{name: "slash", raw: strings.Repeat("/", 42) + "A"},
		{name: "non-canonical last character", raw: strings.Repeat("A", 42) + "B"},
		{name: "newline inside", raw: valid[:20] + "\n" + valid[21:]},
		{name: "space", raw: valid[:42] + " "},
		{name: "non-ASCII", raw: strings.Repeat("A", 41) + "é"},
		{name: "a JWT", raw: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hash, ok := token.HashRefreshToken(tt.raw)
			if ok != tt.ok {
				t.Fatalf("HashRefreshToken(%q): got ok=%v, want %v", tt.raw, ok, tt.ok)
			}
			if !ok && hash != "" {
				t.Errorf("rejected token: got hash %q, want empty", hash)
			}
		})
	}
}

func FuzzHashRefreshToken(f *testing.F) {
	valid, _ := token.NewRefreshToken()
	for _, s := range []string{valid, "", strings.Repeat("A", 43), strings.Repeat("A", 42) + "B", valid + "=", "a.b.c", valid[:20] + "\n" + valid[21:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		hash, ok := token.HashRefreshToken(raw)
		if !ok {
			if hash != "" {
				t.Fatalf("rejected %q but returned hash %q", raw, hash)
			}
			return
		}
		// Accepted means: exactly what NewRefreshToken makes, byte for byte.
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != raw {
			t.Fatalf("accepted %q, which NewRefreshToken cannot produce", raw)
		}
		sum := sha256.Sum256([]byte(raw))
		if hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("hash of %q: got %s", raw, hash)
		}
	})
}

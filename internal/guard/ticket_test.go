package guard_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
)

func TestTicket(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	raw, minted := guard.MintTicket(key, "auth0|abc", now, time.Hour)
	b64, sig, _ := strings.Cut(raw, ".")
	flip := func(s string) string { // change one character of s
		c := byte('A')
		if s[0] == 'A' {
			c = 'B'
		}
		return string(c) + s[1:]
	}
	tests := []struct {
		name    string
		ticket  string
		key     []byte
		at      time.Time
		wantErr bool
	}{
		{"valid", raw, key, now.Add(59 * time.Minute), false},
		{"expired", raw, key, now.Add(time.Hour), true},
		{"other key", raw, []byte("another key another key another!"), now, true},
		{"tampered body", flip(b64) + "." + sig, key, now, true},
		{"tampered signature", b64 + "." + flip(sig), key, now, true},
		{"no signature", b64, key, now, true},
		{"empty", "", key, now, true},
		{"huge", strings.Repeat("a", 5000) + "." + sig, key, now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := guard.ParseTicket(tt.key, tt.ticket, tt.at)
			if tt.wantErr {
				if !errors.Is(err, guard.ErrBadTicket) {
					t.Fatalf("got %+v, %v, want ErrBadTicket", got, err)
				}
				return
			}
			if err != nil || got != minted || got.UserID != "auth0|abc" || got.ID == "" {
				t.Fatalf("got %+v, %v, want %+v", got, err, minted)
			}
		})
	}
	if raw2, _ := guard.MintTicket(key, "auth0|abc", now, time.Hour); raw2 == raw {
		t.Error("two tickets for one user are equal: they could not be used once each")
	}
}

// FuzzParseTicket: whatever the input, ParseTicket never panics, and only a ticket signed with
// the key passes.
func FuzzParseTicket(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	raw, _ := guard.MintTicket(key, "auth0|abc", now, time.Hour)
	for _, s := range []string{raw, "", ".", "e30.", "a.b.c", raw + "x", strings.ToUpper(raw)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := guard.ParseTicket(key, s, now)
		if err != nil {
			return
		}
		if got.UserID != "auth0|abc" {
			t.Fatalf("ParseTicket(%q) accepted a ticket for %q", s, got.UserID)
		}
	})
}

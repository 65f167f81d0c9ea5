package database_test

import (
	"errors"
	"testing"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/database"
	"github.com/sesameauth/sesame/internal/password"
)

// The Authenticate benchmarks run at production cost. Unknown and WrongPassword must cost the
// same (one argon2id verification each), or the timing tells an attacker which users exist.

func benchAuthenticate(b *testing.B, username, pw string, wantErr error) {
	st := openStore(b)
	h := password.NewHasher(password.DefaultParams, 0)
	addUser(b, st, "auth0|0000000000000000000000b1", conn, "alice@example.com", "alice", argonHash(b, h, "wonderland"), false)
	d := database.New(st, conn, h)
	for b.Loop() {
		_, err := d.Authenticate(b.Context(), username, pw)
		if wantErr == nil && err != nil || wantErr != nil && !errors.Is(err, wantErr) {
			b.Fatalf("Authenticate error = %v, want %v", err, wantErr)
		}
	}
}

func BenchmarkAuthenticateKnown(b *testing.B) {
	benchAuthenticate(b, "alice@example.com", "wonderland", nil)
}

func BenchmarkAuthenticateUnknown(b *testing.B) {
	benchAuthenticate(b, "nobody@example.com", "wonderland", directory.ErrUnknownUser)
}

func BenchmarkAuthenticateWrongPassword(b *testing.B) {
	benchAuthenticate(b, "alice@example.com", "Wonderland", directory.ErrInvalidCredentials)
}

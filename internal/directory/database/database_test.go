package database_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/database"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

const conn = "Username-Password-Authentication"

// cheap keeps tests fast; production uses password.DefaultParams.
var cheap = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st
}

// addUser stores a user of connection with the given password hash and returns it.
func addUser(t testing.TB, st store.Users, id, connection, email, username, hash string, blocked bool) store.User {
	t.Helper()
	u := store.User{
		ID: id, Connection: connection, Email: email, Username: username, PasswordHash: hash,
		EmailVerified: true, Name: "Alice Liddell", Nickname: "alice", GivenName: "Alice", FamilyName: "Liddell",
		Picture:      "https://example.com/alice.png",
		AppMetadata:  map[string]any{"plan": "gold"},
		UserMetadata: map[string]any{"theme": "dark"},
		Blocked:      blocked,
		Permissions:  []store.Permission{{ResourceServerIdentifier: "https://api.example.com", PermissionName: "read:things"}},
		CreatedAt:    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		UpdatedAt:    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func argonHash(t testing.TB, h *password.Hasher, pw string) string {
	t.Helper()
	s, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bcryptHash(t testing.TB, pw string) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAuthenticate(t *testing.T) {
	const alice = "auth0|000000000000000000000001"
	tests := []struct {
		name      string
		hash      func(t *testing.T, h *password.Hasher) string // alice's stored hash
		blocked   bool
		otherConn bool // alice belongs to another connection
		username  string
		password  string
		wantErr   error
		wantUser  string
		wantBlock bool
	}{
		{name: "email", username: "alice@example.com", password: "wonderland", wantUser: alice},
		{name: "email in another case", username: "ALICE@Example.COM", password: "wonderland", wantUser: alice},
		{name: "username", username: "alice", password: "wonderland", wantUser: alice},
		{name: "wrong password", username: "alice@example.com", password: "Wonderland", wantErr: directory.ErrInvalidCredentials},
		{name: "unknown user", username: "bob@example.com", password: "wonderland", wantErr: directory.ErrUnknownUser},
		{name: "empty password", username: "alice@example.com", password: "", wantErr: directory.ErrInvalidCredentials},
		{name: "empty username", username: "", password: "wonderland", wantErr: directory.ErrInvalidCredentials},
		{name: "absurd password", username: "alice@example.com", password: strings.Repeat("w", 1025), wantErr: directory.ErrInvalidCredentials},
		{name: "absurd username", username: strings.Repeat("a", 513), password: "wonderland", wantErr: directory.ErrInvalidCredentials},
		{name: "no password set", hash: func(*testing.T, *password.Hasher) string { return "" },
			username: "alice@example.com", password: "wonderland", wantErr: directory.ErrInvalidCredentials},
		{name: "unusable stored hash", hash: func(*testing.T, *password.Hasher) string { return "$md4$x" },
			username: "alice@example.com", password: "wonderland", wantErr: directory.ErrInvalidCredentials},
		{name: "blocked user right password", blocked: true, username: "alice@example.com", password: "wonderland",
			wantUser: alice, wantBlock: true},
		{name: "blocked user wrong password", blocked: true, username: "alice@example.com", password: "nope",
			wantErr: directory.ErrInvalidCredentials},
		{name: "user of another connection", otherConn: true, username: "alice@example.com", password: "wonderland",
			wantErr: directory.ErrUnknownUser},
		{name: "bcrypt user", hash: func(t *testing.T, _ *password.Hasher) string { return bcryptHash(t, "wonderland") },
			username: "alice", password: "wonderland", wantUser: alice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			h := password.NewHasher(cheap, 2)
			hash := argonHash(t, h, "wonderland")
			if tt.hash != nil {
				hash = tt.hash(t, h)
			}
			c := conn
			if tt.otherConn {
				c = "other-db"
			}
			addUser(t, st, alice, c, "alice@example.com", "alice", hash, tt.blocked)

			got, err := database.New(st, conn, h).Authenticate(t.Context(), tt.username, tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Authenticate error = %v, want %v", err, tt.wantErr)
				}
				if got.UserID != "" {
					t.Fatalf("Authenticate returned user %q with error; want the zero Identity", got.UserID)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: got error %v, want nil", err)
			}
			if got.UserID != tt.wantUser || got.Blocked != tt.wantBlock {
				t.Fatalf("Authenticate = user %q blocked %v, want user %q blocked %v", got.UserID, got.Blocked, tt.wantUser, tt.wantBlock)
			}
		})
	}
}

func TestAuthenticateUnknownUserIsAlsoInvalidCredentials(t *testing.T) {
	st := openStore(t)
	_, err := database.New(st, conn, password.NewHasher(cheap, 1)).Authenticate(t.Context(), "nobody", "pw")
	if !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Fatalf("unknown user error = %v, want it to wrap ErrInvalidCredentials", err)
	}
}

func TestAuthenticateMapsIdentity(t *testing.T) {
	st := openStore(t)
	h := password.NewHasher(cheap, 1)
	u := addUser(t, st, "auth0|000000000000000000000002", conn, "alice@example.com", "alice", argonHash(t, h, "pw"), false)
	stored, err := st.GetUser(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := directory.Identity{
		UserID: u.ID, Connection: conn, Email: "alice@example.com", EmailVerified: true, Username: "alice",
		Name: "Alice Liddell", Nickname: "alice", Picture: "https://example.com/alice.png",
		GivenName: "Alice", FamilyName: "Liddell",
		AppMetadata: map[string]any{"plan": "gold"}, UserMetadata: map[string]any{"theme": "dark"},
		Permissions: []directory.Permission{{ResourceServerIdentifier: "https://api.example.com", PermissionName: "read:things"}},
		LoginsCount: stored.LoginsCount, CreatedAt: stored.CreatedAt, UpdatedAt: stored.UpdatedAt, LastLogin: stored.LastLogin,
	}
	d := database.New(st, conn, h)
	got, err := d.Authenticate(t.Context(), "alice", "pw")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Authenticate identity mismatch (-want +got):\n%s", diff)
	}
	got, err = d.Lookup(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Lookup identity mismatch (-want +got):\n%s", diff)
	}
}

func TestRehashOnLogin(t *testing.T) {
	tests := []struct {
		name       string
		hash       func(t *testing.T) string
		wantChange bool
	}{
		{name: "bcrypt upgraded to argon2id", hash: func(t *testing.T) string { return bcryptHash(t, "wonderland") }, wantChange: true},
		{name: "argon2id with old params upgraded", hash: func(t *testing.T) string {
			return argonHash(t, password.NewHasher(password.Params{MemoryKiB: 32, Iterations: 1, Parallelism: 1}, 1), "wonderland")
		}, wantChange: true},
		{name: "argon2id with current params kept", hash: func(t *testing.T) string {
			return argonHash(t, password.NewHasher(cheap, 1), "wonderland")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			h := password.NewHasher(cheap, 2)
			before := tt.hash(t)
			u := addUser(t, st, "auth0|000000000000000000000003", conn, "alice@example.com", "alice", before, false)
			if _, err := database.New(st, conn, h).Authenticate(t.Context(), "alice@example.com", "wonderland"); err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			after, err := st.GetUser(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if changed := after.PasswordHash != before; changed != tt.wantChange {
				t.Fatalf("stored hash changed = %v, want %v (before %q, after %q)", changed, tt.wantChange, before, after.PasswordHash)
			}
			if scheme, _ := password.Identify(after.PasswordHash); scheme != "argon2id" {
				t.Fatalf("stored hash scheme after login = %q, want argon2id", scheme)
			}
			ok, rehash, err := h.Verify(t.Context(), after.PasswordHash, "wonderland")
			if !ok || rehash || err != nil {
				t.Fatalf("Verify(stored hash) = ok %v, rehash %v, %v; want true, false, nil", ok, rehash, err)
			}
			// And the user still logs in with it.
			if _, err := database.New(st, conn, h).Authenticate(t.Context(), "alice", "wonderland"); err != nil {
				t.Fatalf("second Authenticate: %v", err)
			}
		})
	}
}

// fullHasher is a password hasher whose every slot stays taken: each verification fails the
// way password.Hasher fails when no slot frees before the request's deadline.
type fullHasher struct{ *password.Hasher }

func (fullHasher) Verify(context.Context, string, string) (bool, bool, error) {
	return false, false, fmt.Errorf("%w: %w", password.ErrOverloaded, context.DeadlineExceeded)
}

func (h fullHasher) VerifyDummy(ctx context.Context, pw string) error {
	_, _, err := h.Verify(ctx, "", pw)
	return err
}

func TestAuthenticateOverloaded(t *testing.T) {
	tests := []struct {
		name     string
		username string
	}{
		{"known user", "alice"},
		{"unknown user", "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			h := password.NewHasher(cheap, 1)
			addUser(t, st, "auth0|000000000000000000000004", conn, "alice@example.com", "alice", argonHash(t, h, "pw"), false)
			_, err := database.New(st, conn, fullHasher{h}).Authenticate(t.Context(), tt.username, "pw")
			if !errors.Is(err, directory.ErrOverloaded) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Authenticate error = %v, want directory.ErrOverloaded wrapping the deadline", err)
			}
			if errors.Is(err, directory.ErrInvalidCredentials) {
				t.Fatalf("Authenticate error = %v also reads as invalid credentials; want only overloaded", err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		userCon string
		id      string
		wantErr error
	}{
		{name: "own user", userCon: conn, id: "auth0|000000000000000000000005"},
		{name: "user of another connection", userCon: "other-db", id: "auth0|000000000000000000000005", wantErr: directory.ErrUserNotFound},
		{name: "missing user", userCon: conn, id: "auth0|ffffffffffffffffffffffff", wantErr: directory.ErrUserNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			addUser(t, st, "auth0|000000000000000000000005", tt.userCon, "alice@example.com", "alice", "", false)
			got, err := database.New(st, conn, password.NewHasher(cheap, 1)).Lookup(t.Context(), tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Lookup error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && got.UserID != tt.id {
				t.Fatalf("Lookup user = %q, want %q", got.UserID, tt.id)
			}
		})
	}
}

// Package admin holds the management rules that sit above the store: creating and changing
// clients, APIs, connections and users with their defaults and invariants, applying a tenant file,
// importing users. The CLI calls it today and the Management API will call it tomorrow, so no
// rule lives in a command.
//
// It depends on the store and takes password hashing and key rotation as small interfaces, so
// it needs nothing from the HTTP layer.
package admin

import (
	"context"
	"github.com/sesameauth/sesame/internal/hooks"
	"time"

	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// PasswordHasher makes stored password hashes (password.Hasher satisfies it).
type PasswordHasher interface {
	// Hash returns a PHC string for a new password.
	Hash(ctx context.Context, password string) (string, error)
}

// SigningKeys manages the tenant's signing keys (token.Keys satisfies it).
type SigningKeys interface {
	// Ensure creates a current and a next key for each algorithm that lacks them.
	Ensure(ctx context.Context, algs ...string) error
	// List returns every stored key, retired and revoked ones included.
	List(ctx context.Context) ([]token.KeyInfo, error)
	// Rotate promotes the next key of alg (every algorithm when "") to current.
	Rotate(ctx context.Context, alg string) error
	// Revoke withdraws a key at once.
	Revoke(ctx context.Context, kid string) (token.Revocation, error)
}

// Store is the part of the storage the management service uses: nearly every aggregate, as
// it manages them all. It leaves out signing keys (reached through Keys), one-time replay
// records and passwordless codes (the public endpoints' own), and the store's lifetime (Ping,
// Close), which belongs to the composition root.
type Store interface {
	store.Tenants
	store.Clients
	store.ResourceServers
	store.ClientGrants
	store.Connections
	store.Users
	store.UserSearch
	store.Jobs
	store.RefreshTokens
	store.Logs
	store.LogSearch
	store.MFA
	store.Hooks
	// Attack protection (guard.Store): blocks, throttles, the breached-password list.
	store.Counters
	store.BreachedPasswords
}

// Service is the management service over one tenant's store.
type Service struct {
	Store  Store
	Hasher PasswordHasher
	// Box seals secrets that must be recoverable (HS256 signing secrets).
	Box *seal.Box
	// Keys, when set, gets signing keys made for the algorithm of every API created, so that
	// a running server can sign for it at once. Nil leaves that to the server's start.
	Keys SigningKeys
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ManagementAudience is the identifier of this server's Management API
	// (ManagementAudience(issuer)); empty means the service knows of none, and
	// "https://<host>/api/v2/" audiences are then taken as they are.
	ManagementAudience string
	// CustomDB runs the scripts of custom-database connections for the user operations (create,
	// change_password, change_email, delete, get_user); nil refuses those operations on such
	// connections.
	CustomDB *scripted.Realms
	// Jobs runs users-imports and users-exports in the background; nil runs them inside
	// the call that starts them.
	Jobs *JobRunner
	// Actions is the engine logins run actions on (its limits and fetch allowlist), used by
	// TestAction so a test behaves as a login would; nil tests on an engine without fetch().
	Actions *hooks.Engine
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

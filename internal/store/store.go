// Package store defines Sesame's persistent records and the storage seam.
//
// It is a leaf: it imports nothing of ours, so every service can depend on it. The records are
// plain structs shaped after Auth0's Management API objects; the Store interface is split per
// aggregate so that a consumer asks for the narrowest part it needs (the password grant takes
// Users, not Store). Work that must be atomic across rows is a domain method here
// (RedeemRefreshToken, RotateSigningKeys, UseOnce), never a transaction handed to the caller.
//
// Update methods take a func(*T) error that runs inside the backend's transaction: the function
// must only mutate its argument. It must never call the store or a directory (a peer wedged its
// single SQLite connection that way). Returning an error from it aborts the update.
//
// There is one implementation, store/sqlstore (SQLite and PostgreSQL dialects); store/storetest
// is the conformance suite every backend runs.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	// ErrNotFound is returned when the record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a unique key is already taken, or a single-use key was used.
	ErrConflict = errors.New("store: conflict")
	// ErrExpired is returned by RedeemRefreshToken for a token past its absolute or idle lifetime.
	ErrExpired = errors.New("store: expired")
	// ErrReused is returned by RedeemRefreshToken when an already rotated token is presented
	// outside the leeway; the whole family has been revoked (and that is committed) by then.
	ErrReused = errors.New("store: refresh token reused")
	// ErrRevoked is returned by RedeemRefreshToken when the token's family was revoked.
	ErrRevoked = errors.New("store: revoked")
	// ErrUnavailable is wrapped around a failure to reach the backend at all (connection
	// refused or lost, connect or statement timeout), as opposed to a failed statement. It is
	// transient: the OAuth endpoints answer it with 503 temporarily_unavailable and Retry-After,
	// and the backend's pool reconnects by itself once the database answers again.
	ErrUnavailable = errors.New("store: backend unavailable")
)

// Store is every aggregate together; the composition root holds one, consumers take a part.
type Store interface {
	Tenants
	Clients
	ResourceServers
	ClientGrants
	Connections
	Users
	UserSearch
	Jobs
	RefreshTokens
	SigningKeys
	Replay
	Logs
	LogSearch
	Counters
	BreachedPasswords
	MFA
	Hooks
	PasswordlessCodes
	// Ping reports whether the backend answers (used by /readyz).
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}

// Tenants holds the single tenant's settings. A database holds exactly one tenant.
type Tenants interface {
	// GetTenant returns the tenant settings; a database that was never configured returns the
	// zero Tenant and no error.
	GetTenant(ctx context.Context) (Tenant, error)
	// UpdateTenant applies fn to the settings (creating them if absent) in one transaction.
	UpdateTenant(ctx context.Context, fn func(*Tenant) error) error
}

// Clients stores applications.
type Clients interface {
	GetClient(ctx context.Context, clientID string) (Client, error)
	// ListClients returns every client ordered by name, then client id.
	ListClients(ctx context.Context) ([]Client, error)
	// CreateClient fails with ErrConflict when the client id is taken.
	CreateClient(ctx context.Context, c Client) error
	UpdateClient(ctx context.Context, clientID string, fn func(*Client) error) error
	// DeleteClient deletes the client and its client grants.
	DeleteClient(ctx context.Context, clientID string) error
}

// ResourceServers stores APIs, keyed by identifier (the audience).
type ResourceServers interface {
	GetResourceServer(ctx context.Context, identifier string) (ResourceServer, error)
	// ListResourceServers returns every API ordered by identifier.
	ListResourceServers(ctx context.Context) ([]ResourceServer, error)
	// CreateResourceServer fails with ErrConflict when the identifier or ID is taken.
	CreateResourceServer(ctx context.Context, rs ResourceServer) error
	UpdateResourceServer(ctx context.Context, identifier string, fn func(*ResourceServer) error) error
	// DeleteResourceServer deletes the API and the client grants for it.
	DeleteResourceServer(ctx context.Context, identifier string) error
}

// Connections stores user directories, keyed by name (the realm).
type Connections interface {
	GetConnection(ctx context.Context, name string) (Connection, error)
	// ListConnections returns every connection ordered by name.
	ListConnections(ctx context.Context) ([]Connection, error)
	// CreateConnection fails with ErrConflict when the name or ID is taken.
	CreateConnection(ctx context.Context, c Connection) error
	UpdateConnection(ctx context.Context, name string, fn func(*Connection) error) error
	// DeleteConnection deletes the connection and every user in it.
	DeleteConnection(ctx context.Context, name string) error
}

// Users stores the users of database connections.
type Users interface {
	GetUser(ctx context.Context, userID string) (User, error)
	// FindUser returns the user of the connection whose email (case-insensitively) or username
	// (exactly) equals login.
	FindUser(ctx context.Context, connection, login string) (User, error)
	// ListUsers returns users ordered by creation time then ID; an empty Connection means all.
	ListUsers(ctx context.Context, f UserFilter) ([]User, error)
	// CountUsers returns how many users the connection holds ("" = all).
	CountUsers(ctx context.Context, connection string) (int, error)
	// CreateUser fails with ErrConflict when the ID, or the email or username within the
	// connection, is taken.
	CreateUser(ctx context.Context, u User) error
	UpdateUser(ctx context.Context, userID string, fn func(*User) error) error
	DeleteUser(ctx context.Context, userID string) error
	// RecordLogin increments LoginsCount and sets LastLogin and LastIP in one statement.
	RecordLogin(ctx context.Context, userID string, at time.Time, ip string) error
}

// UserFilter narrows ListUsers. Limit 0 means no limit.
type UserFilter struct {
	Connection string
	Limit      int
	Offset     int
}

// RefreshTokens stores refresh-token families. A family is one login (one device); each
// rotation adds a token to it. Only hashes of token secrets are stored.
type RefreshTokens interface {
	// CreateRefreshFamily stores a new family and its first token. It then keeps at most
	// MaxFamiliesPerUserClient live families for the family's user and client, revoking the
	// oldest.
	CreateRefreshFamily(ctx context.Context, f RefreshFamily, first RefreshToken) error
	// GetRefreshToken returns a token and its family by token hash, whatever their state.
	GetRefreshToken(ctx context.Context, hash string) (RefreshFamily, RefreshToken, error)
	// RedeemRefreshToken exchanges a token atomically; see Redemption. Of two concurrent
	// redemptions of one current token with rotation, exactly one rotates it; the other is
	// judged against the leeway like any reuse.
	RedeemRefreshToken(ctx context.Context, r Redemption) (RefreshFamily, error)
	// RevokeRefreshFamily revokes the family of the token with this hash. ErrNotFound if none.
	RevokeRefreshFamily(ctx context.Context, hash string, at time.Time) (RefreshFamily, error)
	// RevokeRefreshFamilies revokes every live family of the user (and of the client and
	// audience, when not empty) and returns how many it revoked.
	RevokeRefreshFamilies(ctx context.Context, userID, clientID, audience string, at time.Time) (int, error)
	// DeleteExpiredRefreshTokens removes families whose absolute or idle lifetime ended, or
	// that were revoked, before the given time; it returns how many families it removed.
	DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int, error)
}

// MaxFamiliesPerUserClient is Auth0's cap of active refresh tokens per user per application.
const MaxFamiliesPerUserClient = 200

// Redemption describes one refresh-token exchange for RedeemRefreshToken.
//
//   - The token must exist (ErrNotFound), its family must be live (ErrRevoked) and neither the
//     family's ExpiresAt nor the token's IdleExpiresAt may have passed at Now (ErrExpired; a
//     zero time never expires).
//   - Rotation (Next != nil): a current token (RotatedAt zero) gets RotatedAt = Now and Next is
//     inserted into the same family. A token already rotated at most Leeway ago also yields a
//     new Next (a retry within the reuse window). A token rotated longer ago is reuse: the family
//     is revoked, that is committed, and ErrReused returned.
//   - Non-rotating (Next == nil): the token stays valid and its IdleExpiresAt becomes
//     IdleExpiresAt (unless that is zero). A token rotated while the client still rotated is
//     spent all the same: presenting it is reuse (see Replays).
type Redemption struct {
	Hash          string
	Now           time.Time
	Leeway        time.Duration
	Next          *RefreshToken
	IdleExpiresAt time.Time
}

// Replays reports whether presenting a token rotated at rotatedAt (zero: never rotated) is a
// replay of a spent token, which revokes its family (RFC 9700 §4.14.2). With rotation a spent
// token may be retried only within Leeway (a client that lost the answer gets a successor).
// Without rotation (Next == nil: the client was switched to non-rotating tokens since) a spent
// token is never valid again, whatever the policy today: its successor is the live token, and
// the old one coming back means two parties hold the family.
func (r Redemption) Replays(rotatedAt time.Time) bool {
	if rotatedAt.IsZero() {
		return false
	}
	return r.Next == nil || r.Leeway <= 0 || r.Now.Sub(rotatedAt) > r.Leeway
}

// SigningKeys stores asymmetric signing keys, private parts sealed by the caller.
type SigningKeys interface {
	// ListSigningKeys returns every key ordered by CreatedAt.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// CreateSigningKey stores a key; ErrConflict when its KID is taken, or when it is "current"
	// or "next" and its Alg already has one in that state (two nodes generating keys at the
	// first start: one wins, the other re-reads).
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// RotateSigningKeys, for one Alg and in one transaction: the current key becomes previous
	// (PublishUntil = publishUntil), the next key becomes current (ActivatedAt = now), newNext is
	// stored as next, and previous keys whose PublishUntil has passed become retired.
	RotateSigningKeys(ctx context.Context, alg string, newNext SigningKey, now, publishUntil time.Time) error
	// RevokeSigningKey withdraws a compromised key at once, in one transaction: it becomes
	// revoked (PublishUntil = now), so it leaves the JWKS and verifies nothing on any node. A
	// current key is first replaced as a rotation would (the next key becomes current,
	// ActivatedAt = now), and a current or next key's place as next is taken by newNext, which
	// they require (ErrNotFound without one; ErrNotFound also for a current key without a next
	// key to take over: the only key is never revoked). ErrNotFound for an unknown kid,
	// ErrConflict when the key is already revoked. It returns the key as it was before.
	RevokeSigningKey(ctx context.Context, kid string, newNext *SigningKey, now time.Time) (SigningKey, error)
}

// Replay remembers single-use values (client-assertion jti, mfa_token ids).
type Replay interface {
	// UseOnce records key until expiresAt. It returns ErrConflict when key was recorded before
	// and has not expired. Expired entries may be purged at any time.
	UseOnce(ctx context.Context, key string, expiresAt time.Time) error
}

// Logs stores tenant log events.
type Logs interface {
	AppendLog(ctx context.Context, e LogEvent) error
	// AppendLogs stores the events in one transaction, all or none (ErrConflict when an ID is
	// taken), giving an ID to each that has none. The log writer appends what queued up while
	// it was busy in one go, so that a busy server pays one commit per batch, not per event.
	AppendLogs(ctx context.Context, es []LogEvent) error
	// ListLogs returns events newest first.
	ListLogs(ctx context.Context, f LogFilter) ([]LogEvent, error)
	// DeleteLogsBefore removes events older than t (retention) and returns how many.
	DeleteLogsBefore(ctx context.Context, t time.Time) (int, error)
}

// LogFilter narrows ListLogs; zero fields do not filter. Limit 0 means 100.
type LogFilter struct {
	Type   string
	UserID string
	Since  time.Time
	Limit  int
}

// Package database is the built-in user directory: the users of one database connection
// (Auth0's "auth0" strategy), kept in the store with argon2id password hashes.
//
// It sits between the directory seam and the store. It owns the login-time rules that keep a
// directory from telling an attacker which accounts exist: an unknown user, a user without a
// password and a wrong password all fail with the same error after the same time (one
// verification, held to the hasher's timing floor, whatever scheme the user's hash has).
// It also upgrades imported hashes (bcrypt, PBKDF2...) to argon2id on the first login that
// proves the password.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

// Input bounds. Longer inputs are refused as wrong credentials (after the same hashing as any
// refusal) rather than hashed: they cannot belong to a user Sesame accepted.
const (
	MaxUsernameLength = 512
	MaxPasswordLength = 1024
)

// Directory authenticates the users of one database connection.
type Directory struct {
	users      store.Users
	connection string
	hasher     Hasher
}

var (
	_ directory.Directory = (*Directory)(nil)
	_ directory.Resolver  = (*Directory)(nil)
)

// Hasher is what a Directory needs of a *password.Hasher: verifying and hashing under its bound
// on concurrent work, failing with password.ErrOverloaded when no slot frees in time. It is an
// interface so that a test can hold every slot for as long as it needs to.
type Hasher interface {
	Verify(ctx context.Context, encoded, pw string) (ok, needsRehash bool, err error)
	VerifyDummy(ctx context.Context, pw string) error
	Hash(ctx context.Context, pw string) (string, error)
}

var _ Hasher = (*password.Hasher)(nil)

// New returns the directory of the connection named connection.
func New(users store.Users, connection string, hasher Hasher) *Directory {
	return &Directory{users: users, connection: connection, hasher: hasher}
}

// Authenticate checks username (an email, compared case-insensitively, or a username) and
// password. Unknown users fail with directory.ErrUnknownUser and wrong passwords with
// directory.ErrInvalidCredentials (ErrUnknownUser wraps it); both cost one password
// verification. A blocked user with the right password is returned with Blocked set.
func (d *Directory) Authenticate(ctx context.Context, username, pw string) (directory.Identity, error) {
	if username == "" || pw == "" || len(username) > MaxUsernameLength || len(pw) > MaxPasswordLength {
		return d.refuse(ctx, pw, directory.ErrInvalidCredentials)
	}
	u, err := d.users.FindUser(ctx, d.connection, username)
	if errors.Is(err, store.ErrNotFound) {
		return d.refuse(ctx, pw, directory.ErrUnknownUser)
	}
	if err != nil {
		return directory.Identity{}, fmt.Errorf("database directory: find user: %w", err)
	}
	if u.PasswordHash == "" {
		return d.refuse(ctx, pw, directory.ErrInvalidCredentials)
	}
	ok, needsRehash, err := d.hasher.Verify(ctx, u.PasswordHash, pw)
	switch {
	case errors.Is(err, password.ErrOverloaded):
		return directory.Identity{}, fmt.Errorf("%w: %w", directory.ErrOverloaded, err)
	case err != nil:
		// The stored hash is unusable (a bad import). Nobody can log in with it; spend the
		// usual time so the broken account does not stand out.
		slog.ErrorContext(ctx, "stored password hash is unusable", "user_id", u.ID, "connection", d.connection, "error", err)
		return d.refuse(ctx, pw, directory.ErrInvalidCredentials)
	case !ok:
		return directory.Identity{}, directory.ErrInvalidCredentials
	}
	if needsRehash {
		d.rehash(ctx, u, pw)
	}
	return toIdentity(u), nil
}

// Resolve returns the ID of the connection's user whose email (case-insensitively) or username
// is login, or "" when there is none: the same one look-up Authenticate starts with, whatever
// the answer. A login Authenticate would refuse unread gets "" without a look-up.
func (d *Directory) Resolve(ctx context.Context, login string) (string, error) {
	if login == "" || len(login) > MaxUsernameLength {
		return "", nil
	}
	u, err := d.users.FindUser(ctx, d.connection, login)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("database directory: find user: %w", err)
	}
	return u.ID, nil
}

// refuse spends one dummy verification and returns err, so that every refusal costs what a
// wrong password costs. Overload while doing so is reported as such.
func (d *Directory) refuse(ctx context.Context, pw string, err error) (directory.Identity, error) {
	if len(pw) > MaxPasswordLength {
		pw = pw[:MaxPasswordLength]
	}
	if oerr := d.hasher.VerifyDummy(ctx, pw); oerr != nil {
		return directory.Identity{}, fmt.Errorf("%w: %w", directory.ErrOverloaded, oerr)
	}
	return directory.Identity{}, err
}

// rehash replaces an outdated hash after a successful login. The login succeeds whatever
// happens here; a failure is logged and retried on the next login.
func (d *Directory) rehash(ctx context.Context, u store.User, pw string) {
	// The new hash is computed before the update: the update callback runs inside the store's
	// transaction and must not do slow work or call anything.
	newHash, err := d.hasher.Hash(ctx, pw)
	if err != nil {
		slog.WarnContext(ctx, "password rehash skipped", "user_id", u.ID, "error", err)
		return
	}
	old := u.PasswordHash
	err = d.users.UpdateUser(ctx, u.ID, func(cur *store.User) error {
		// Leave a password changed since we read the user alone.
		if cur.PasswordHash == old {
			cur.PasswordHash = newHash
		}
		return nil
	})
	if err != nil {
		slog.WarnContext(ctx, "password rehash not stored", "user_id", u.ID, "error", err)
	}
}

// CalibrationSample is how many users of a connection Calibrate reads: imported users share a
// few hash classes, which the first thousands show.
const CalibrationSample = 10000

// Calibrate teaches hasher how long the dummy verification and a verification of each class
// of hash stored in connection take (sampling its first CalibrationSample users), so that
// failed logins are held to the slowest of them from the first login on (password.Hasher's
// timing floor). The server calls it at start-up, off the request path; until it is done,
// and for a class it did not sample, the floor is learned from logins.
func Calibrate(ctx context.Context, users store.Users, connection string, hasher *password.Hasher) error {
	if err := hasher.Calibrate(ctx, ""); err != nil {
		return err
	}
	us, err := users.ListUsers(ctx, store.UserFilter{Connection: connection, Limit: CalibrationSample})
	if err != nil {
		return fmt.Errorf("database directory: calibrate: %w", err)
	}
	for _, u := range us {
		if u.PasswordHash == "" {
			continue
		}
		// An unusable hash fails every login the same way (see Authenticate); skip it.
		if err := hasher.Calibrate(ctx, u.PasswordHash); errors.Is(err, password.ErrOverloaded) {
			return err
		}
	}
	return nil
}

// Lookup returns the user of this connection with the given ID, or directory.ErrUserNotFound.
func (d *Directory) Lookup(ctx context.Context, userID string) (directory.Identity, error) {
	u, err := d.users.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Connection != d.connection) {
		return directory.Identity{}, directory.ErrUserNotFound
	}
	if err != nil {
		return directory.Identity{}, fmt.Errorf("database directory: get user: %w", err)
	}
	return toIdentity(u), nil
}

func toIdentity(u store.User) directory.Identity {
	var perms []directory.Permission
	for _, p := range u.Permissions {
		perms = append(perms, directory.Permission{
			ResourceServerIdentifier: p.ResourceServerIdentifier,
			PermissionName:           p.PermissionName,
		})
	}
	return directory.Identity{
		UserID:        u.ID,
		Connection:    u.Connection,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		Username:      u.Username,
		Name:          u.Name,
		Nickname:      u.Nickname,
		Picture:       u.Picture,
		GivenName:     u.GivenName,
		FamilyName:    u.FamilyName,
		AppMetadata:   u.AppMetadata,
		UserMetadata:  u.UserMetadata,
		Blocked:       u.Blocked,
		Permissions:   perms,
		LoginsCount:   u.LoginsCount,
		CreatedAt:     u.CreatedAt,
		UpdatedAt:     u.UpdatedAt,
		LastLogin:     u.LastLogin,
	}
}

// Package mirror gives the users of a directory outside the store (LDAP, custom database
// scripts) a Sesame user record, as Auth0 keeps a profile per login: the record is created at
// the first login and its profile updated at each one, so that Actions, MFA enrolment, brute
// force, blocks, logs and permissions work the same for every realm.
//
// It wraps the outside directory: Authenticate asks it, then writes the record; Lookup (a
// refresh, an MFA step, /userinfo) asks it again whether the user still exists and is enabled,
// trusting its last answer for a short while (Recheck) and, while it is unreachable, for a
// longer grace period (OutageGrace), so that a directory outage does not stop every refresh.
// What Sesame owns (metadata, permissions, an admin's block, login counts) comes from the
// record; who the user is comes from the directory.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/store"
)

// maxCached bounds the answers kept for refreshes; past it the cache starts afresh (a
// refresh then asks the directory, which is always correct, only slower).
const maxCached = 100000

// Options tune the refresh re-check.
type Options struct {
	// Recheck is how long the directory's answer about a user is trusted without asking
	// again (0: ask at every refresh).
	Recheck time.Duration
	// OutageGrace is how long after the directory's last answer a refresh still succeeds
	// while the directory is unavailable (0: never).
	OutageGrace time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
}

// Directory is an outside directory with Sesame user records.
type Directory struct {
	inner      directory.Directory
	users      store.Users
	connection string
	opts       Options

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	id directory.Identity
	at time.Time
}

var (
	_ directory.Directory = (*Directory)(nil)
	_ directory.Resolver  = (*Directory)(nil)
)

// New wraps inner, the directory of connection.
func New(inner directory.Directory, users store.Users, connection string, opts Options) *Directory {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Directory{inner: inner, users: users, connection: connection, opts: opts, cache: map[string]cached{}}
}

// Inner returns the wrapped directory.
func (d *Directory) Inner() directory.Directory { return d.inner }

// Authenticate asks the outside directory, then creates or updates the user's record.
func (d *Directory) Authenticate(ctx context.Context, username, pw string) (directory.Identity, error) {
	id, err := d.inner.Authenticate(ctx, username, pw)
	if err != nil {
		return directory.Identity{}, err
	}
	u, err := d.sync(ctx, id)
	if err != nil {
		return directory.Identity{}, err
	}
	d.remember(id)
	return merge(id, u), nil
}

// Lookup asks the outside directory (or trusts its recent answer) whether the user still
// exists and is enabled, and returns them with their record.
func (d *Directory) Lookup(ctx context.Context, userID string) (directory.Identity, error) {
	now := d.opts.Now()
	d.mu.Lock()
	c, ok := d.cache[userID]
	d.mu.Unlock()
	var id directory.Identity
	if ok && now.Sub(c.at) < d.opts.Recheck {
		id = c.id
	} else {
		var err error
		id, err = d.inner.Lookup(ctx, userID)
		switch {
		case errors.Is(err, directory.ErrUserNotFound):
			d.forget(userID)
			return directory.Identity{}, err
		case err != nil && ok && now.Sub(c.at) < d.opts.OutageGrace:
			d.opts.Logger.WarnContext(ctx, "directory unavailable: using its last answer about the user",
				"connection", d.connection, "user_id", userID, "answered", c.at, "err", err)
			id = c.id
		case err != nil:
			return directory.Identity{}, err
		default:
			d.remember(id)
		}
	}
	u, err := d.users.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		// The record was deleted (an admin deleted the user): a new login makes it again.
		return directory.Identity{}, directory.ErrUserNotFound
	}
	if err != nil {
		return directory.Identity{}, fmt.Errorf("mirror: get user: %w", err)
	}
	return merge(id, u), nil
}

// Resolve names the user of a login from the records (users who logged in before), so that
// attack protection counts the email and username of one user together without asking the
// outside directory anything before the password is checked.
func (d *Directory) Resolve(ctx context.Context, login string) (string, error) {
	if login == "" || len(login) > 512 {
		return "", nil
	}
	u, err := d.users.FindUser(ctx, d.connection, login)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("mirror: find user: %w", err)
	}
	return u.ID, nil
}

func (d *Directory) remember(id directory.Identity) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cache) >= maxCached {
		d.cache = map[string]cached{}
	}
	d.cache[id.UserID] = cached{id: id, at: d.opts.Now()}
}

func (d *Directory) forget(userID string) {
	d.mu.Lock()
	delete(d.cache, userID)
	d.mu.Unlock()
}

// sync creates the user's record, or updates its profile when the directory's changed. A
// stale record holding the user's email or username (a directory entry deleted and made
// again gets a new id) gives them up, since the directory says who owns them now.
func (d *Directory) sync(ctx context.Context, id directory.Identity) (store.User, error) {
	now := d.opts.Now().UTC()
	cur, err := d.users.GetUser(ctx, id.UserID)
	switch {
	case err == nil:
		if sameProfile(cur, id) {
			return cur, nil
		}
		err = d.users.UpdateUser(ctx, id.UserID, func(u *store.User) error {
			setProfile(u, id)
			u.UpdatedAt = now
			cur = *u
			return nil
		})
		if err != nil {
			return store.User{}, fmt.Errorf("mirror: update user: %w", err)
		}
		return cur, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, fmt.Errorf("mirror: get user: %w", err)
	}
	u := store.User{ID: id.UserID, Connection: d.connection, AppMetadata: map[string]any{}, UserMetadata: map[string]any{},
		CreatedAt: now, UpdatedAt: now}
	setProfile(&u, id)
	for attempt := 0; ; attempt++ {
		err = d.users.CreateUser(ctx, u)
		if !errors.Is(err, store.ErrConflict) || attempt > 0 {
			break
		}
		if err := d.release(ctx, id); err != nil {
			return store.User{}, err
		}
	}
	if errors.Is(err, store.ErrConflict) {
		// Another login of the same user made the record first.
		if got, gerr := d.users.GetUser(ctx, id.UserID); gerr == nil {
			return got, nil
		}
	}
	if err != nil {
		return store.User{}, fmt.Errorf("mirror: create user: %w", err)
	}
	return u, nil
}

// release takes the user's email and username off other records of the connection.
func (d *Directory) release(ctx context.Context, id directory.Identity) error {
	for _, login := range []string{id.Email, id.Username} {
		if login == "" {
			continue
		}
		old, err := d.users.FindUser(ctx, d.connection, login)
		if errors.Is(err, store.ErrNotFound) || (err == nil && old.ID == id.UserID) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mirror: find user: %w", err)
		}
		d.opts.Logger.WarnContext(ctx, "directory user got a new id: the old record gives up its email and username",
			"connection", d.connection, "old_user_id", old.ID, "user_id", id.UserID)
		if err := d.users.UpdateUser(ctx, old.ID, func(u *store.User) error {
			u.Email, u.Username = "", ""
			return nil
		}); err != nil {
			return fmt.Errorf("mirror: release old record: %w", err)
		}
	}
	return nil
}

func setProfile(u *store.User, id directory.Identity) {
	u.Email, u.EmailVerified, u.Username = id.Email, id.EmailVerified, id.Username
	u.Name, u.Nickname, u.Picture, u.GivenName, u.FamilyName = id.Name, id.Nickname, id.Picture, id.GivenName, id.FamilyName
}

func sameProfile(u store.User, id directory.Identity) bool {
	var v store.User
	setProfile(&v, id)
	return u.Email == v.Email && u.EmailVerified == v.EmailVerified && u.Username == v.Username && u.Name == v.Name &&
		u.Nickname == v.Nickname && u.Picture == v.Picture && u.GivenName == v.GivenName && u.FamilyName == v.FamilyName
}

// merge is the user as the grants see them: the directory's profile and groups, Sesame's
// metadata, permissions and counts, blocked when either says so.
func merge(id directory.Identity, u store.User) directory.Identity {
	out := id
	out.AppMetadata, out.UserMetadata = maps.Clone(u.AppMetadata), maps.Clone(u.UserMetadata)
	out.Blocked = id.Blocked || u.Blocked
	out.Permissions = nil
	for _, p := range u.Permissions {
		out.Permissions = append(out.Permissions, directory.Permission{ResourceServerIdentifier: p.ResourceServerIdentifier, PermissionName: p.PermissionName})
	}
	out.LoginsCount, out.CreatedAt, out.UpdatedAt, out.LastLogin = u.LoginsCount, u.CreatedAt, u.UpdatedAt, u.LastLogin
	out.Groups = slices.Clone(id.Groups)
	return out
}

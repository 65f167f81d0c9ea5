package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

var connections = build(&table[store.Connection]{
	name: "connections", what: "connection", key: "name",
	cols:  []string{"name", "id", "strategy", "enabled_clients", "options", "created_at", "updated_at"},
	keyOf: func(c *store.Connection) string { return c.Name },
	values: func(e *encoder, c *store.Connection) []any {
		return []any{c.Name, c.ID, c.Strategy, e.json(c.EnabledClients), e.json(c.Options),
			timeVal(c.CreatedAt), timeVal(c.UpdatedAt)}
	},
	scan: func(c *store.Connection) []any {
		return []any{&c.Name, &c.ID, &c.Strategy, jsonCol{&c.EnabledClients}, jsonCol{&c.Options},
			timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}}
	},
})

// GetConnection returns the connection with this name.
func (s *Store) GetConnection(ctx context.Context, name string) (store.Connection, error) {
	return through(&s.cache, &s.cache.conns, name, cloneConnection, func() (store.Connection, error) {
		return getRow(ctx, s, s.read, connections, name)
	})
}

// ListConnections returns every connection ordered by name.
func (s *Store) ListConnections(ctx context.Context) ([]store.Connection, error) {
	return listRows(ctx, s, s.read, connections, "ORDER BY name")
}

// CreateConnection stores a new connection; ErrConflict when the name or ID is taken.
func (s *Store) CreateConnection(ctx context.Context, c store.Connection) error {
	defer s.cache.invalidate()
	return insertRow(ctx, s, s.write, connections, &c)
}

// UpdateConnection applies fn to the connection in one transaction. The name cannot change.
func (s *Store) UpdateConnection(ctx context.Context, name string, fn func(*store.Connection) error) error {
	defer s.cache.invalidate()
	return updateRow(ctx, s, connections, name, fn)
}

// DeleteConnection deletes the connection and every user in it, in one transaction.
func (s *Store) DeleteConnection(ctx context.Context, name string) error {
	defer s.cache.invalidate()
	return s.inTx(ctx, func(tx querier) error {
		if err := deleteRow(ctx, s, tx, connections, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM users WHERE connection = ?`), name); err != nil {
			return fmt.Errorf("sqlstore: deleting the users of connection %q: %w", name, err)
		}
		return nil
	})
}

// users has two derived lookup columns: email_key (the lower-cased email, NULL when empty) and
// the username stored as NULL when empty, so the unique indexes skip users without one.
var users = build(&table[store.User]{
	name: "users", what: "user", key: "id",
	cols: []string{"id", "connection", "email", "username", "password_hash", "email_verified", "name",
		"nickname", "picture", "given_name", "family_name", "app_metadata", "user_metadata", "blocked",
		"permissions", "logins_count", "last_login", "last_ip", "created_at", "updated_at"},
	derived: []string{"email_key"},
	keyOf:   func(u *store.User) string { return u.ID },
	values: func(e *encoder, u *store.User) []any {
		return []any{u.ID, u.Connection, u.Email, nullStr(u.Username), u.PasswordHash, u.EmailVerified, u.Name,
			u.Nickname, u.Picture, u.GivenName, u.FamilyName, e.json(u.AppMetadata), e.json(u.UserMetadata), u.Blocked,
			e.json(u.Permissions), u.LoginsCount, timeVal(u.LastLogin), u.LastIP, timeVal(u.CreatedAt), timeVal(u.UpdatedAt),
			nullStr(emailKey(u.Email))}
	},
	scan: func(u *store.User) []any {
		return []any{&u.ID, &u.Connection, &u.Email, strCol{&u.Username}, &u.PasswordHash, &u.EmailVerified, &u.Name,
			&u.Nickname, &u.Picture, &u.GivenName, &u.FamilyName, jsonCol{&u.AppMetadata}, jsonCol{&u.UserMetadata}, &u.Blocked,
			jsonCol{&u.Permissions}, &u.LoginsCount, timeCol{&u.LastLogin}, &u.LastIP, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}}
	},
})

// emailKey is the form emails are compared in: Go's Unicode lower case, the same on both
// dialects (SQLite's lower() only folds ASCII).
func emailKey(email string) string { return strings.ToLower(email) }

// findUser probes the email index, then the username index; an email match wins when one user's
// email is another's username. Each arm is one index lookup.
var findUser = `SELECT ` + users.colList("") + `, 0 AS pref FROM users WHERE connection = ? AND email_key = ?
UNION ALL SELECT ` + users.colList("") + `, 1 AS pref FROM users WHERE connection = ? AND username = ?
ORDER BY pref LIMIT 1`

// GetUser returns the user with this ID.
func (s *Store) GetUser(ctx context.Context, userID string) (store.User, error) {
	return through(&s.cache, &s.cache.users, userID, cloneUser, func() (store.User, error) {
		return getRow(ctx, s, s.read, users, userID)
	})
}

// FindUser returns the connection's user whose email (case-insensitively) or username
// (exactly) is login.
func (s *Store) FindUser(ctx context.Context, connection, login string) (store.User, error) {
	var u store.User
	if login == "" {
		return u, fmt.Errorf("sqlstore: user with an empty login: %w", store.ErrNotFound)
	}
	var pref int
	err := s.read.QueryRowContext(ctx, s.q(findUser), connection, emailKey(login), connection, login).
		Scan(append(users.scan(&u), &pref)...)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("sqlstore: user %q in connection %q: %w", login, connection, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("sqlstore: finding user in connection %q: %w", connection, unavailable(err))
	}
	return u, nil
}

// ListUsers returns users ordered by creation time then ID.
func (s *Store) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, error) {
	var (
		rest string
		args []any
	)
	if f.Connection != "" {
		rest, args = "WHERE connection = ? ", append(args, f.Connection)
	}
	rest += "ORDER BY created_at, id"
	switch {
	case f.Limit > 0:
		rest += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, max(f.Offset, 0))
	case f.Offset > 0:
		rest += " LIMIT " + s.d.noLimit + " OFFSET ?"
		args = append(args, f.Offset)
	}
	return listRows(ctx, s, s.read, users, rest, args...)
}

// CountUsers returns how many users the connection holds ("" = all).
func (s *Store) CountUsers(ctx context.Context, connection string) (int, error) {
	query, args := `SELECT COUNT(*) FROM users`, []any(nil)
	if connection != "" {
		query, args = query+` WHERE connection = ?`, []any{connection}
	}
	var n int
	if err := s.read.QueryRowContext(ctx, s.q(query), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: counting users: %w", err)
	}
	return n, nil
}

// CreateUser stores a new user; ErrConflict when the ID, or the email or username within the
// connection, is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	return insertRow(ctx, s, s.write, users, &u)
}

// UpdateUser applies fn to the user in one transaction. The ID cannot change.
func (s *Store) UpdateUser(ctx context.Context, userID string, fn func(*store.User) error) error {
	defer s.cache.forgetUser(userID)
	return updateRow(ctx, s, users, userID, fn)
}

// DeleteUser deletes the user.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	defer s.cache.forgetUser(userID)
	return deleteRow(ctx, s, s.write, users, userID)
}

const recordLogin = `UPDATE users SET logins_count = logins_count + 1, last_login = ?, last_ip = ? WHERE id = ?`

// RecordLogin counts a successful login in one statement, so concurrent logins never lose one.
func (s *Store) RecordLogin(ctx context.Context, userID string, at time.Time, ip string) error {
	defer s.cache.forgetUser(userID)
	n, err := affected(s.write.ExecContext(ctx,
		s.q(recordLogin),
		timeVal(at), ip, userID))
	if err != nil {
		return fmt.Errorf("sqlstore: recording login of user %q: %w", userID, err)
	}
	if n == 0 {
		return users.notFound(userID)
	}
	return nil
}

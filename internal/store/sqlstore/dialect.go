package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrationFiles embed.FS

// dialect is everything that differs between SQLite and PostgreSQL. Queries themselves are
// shared: they use ? placeholders and syntax both engines accept.
type dialect struct {
	name string
	// numbered means placeholders are $1, $2... rather than ?.
	numbered bool
	// noLimit is the LIMIT that means "all rows" (needed before an OFFSET).
	noLimit string
	// migrations holds NNNN_name.sql files.
	migrations fs.FS
	// isUnique reports whether err is a unique or primary-key violation.
	isUnique func(err error) bool
	// hasTable is a query with one placeholder (a table name) returning 0 or 1.
	hasTable string
	// lockKeys, when not empty, is run first in a signing-key rotation with the alg as its one
	// argument, to serialise rotations of one alg (PostgreSQL's row locks would otherwise let
	// concurrent rotations deadlock; SQLite's BEGIN IMMEDIATE already serialises them).
	lockKeys string
	// lock serialises migrations across processes on conn; the returned func releases it.
	lock func(ctx context.Context, conn *sql.Conn) (func(), error)
}

func sub(dir string) fs.FS {
	f, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return f
}

var sqliteDialect = &dialect{
	name:       "sqlite",
	noLimit:    "-1",
	migrations: sub("migrations/sqlite"),
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	hasTable: `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
	// Every migration runs in a BEGIN IMMEDIATE transaction that re-checks whether it was
	// applied, which already serialises concurrent migrators; no extra lock is needed.
	lock: func(context.Context, *sql.Conn) (func(), error) { return func() {}, nil },
}

// migrationLockKey is the pg_advisory_lock key under which Sesame migrates ("sesame" in ASCII).
const migrationLockKey = 0x736573616d65

var postgresDialect = &dialect{
	name:       "postgres",
	numbered:   true,
	noLimit:    "ALL",
	migrations: sub("migrations/postgres"),
	isUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505" // unique_violation
	},
	// to_regclass resolves the name through search_path, so a per-schema database works.
	hasTable: `SELECT COUNT(*) FROM (SELECT to_regclass(?) AS t) r WHERE t IS NOT NULL`,
	lockKeys: `SELECT pg_advisory_xact_lock(hashtextextended('sesame signing keys ' || ?, 0))`,
	lock: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		// Waiting for another migrator, or a long DDL statement, must not hit the pool's
		// statement_timeout; RESET at release restores the session's configured value.
		if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
			return nil, fmt.Errorf("sqlstore: preparing to migrate: %w", err)
		}
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockKey)); err != nil {
			return nil, fmt.Errorf("sqlstore: taking the migration lock: %w", err)
		}
		return func() {
			// The lock also ends with the session; an unlock failure only delays others.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockKey))
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `RESET statement_timeout`)
		}, nil
	},
}

// rebind turns ? placeholders into $1, $2... Queries in this package never hold a ? inside a
// string literal.
func (d *dialect) rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migration errors.
var (
	// ErrMigrationChanged means a migration file differs from the one applied to the database.
	ErrMigrationChanged = errors.New("sqlstore: an applied migration has changed")
	// ErrSchemaTooNew means the database has migrations this binary does not know.
	ErrSchemaTooNew = errors.New("sqlstore: the database schema is newer than this binary")
)

// migration is one forward-only schema change, NNNN_name.sql.
type migration struct {
	version  int
	name     string
	sql      string
	checksum string // hex SHA-256 of the file
}

// loadMigrations reads NNNN_name.sql files from fsys, ordered by version.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %q is not named NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, migration{version: v, name: path.Base(name), sql: string(b), checksum: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlstore: two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at BIGINT  NOT NULL
)`

// Migrate applies every pending migration, each in its own transaction together with its row
// in schema_migrations. Concurrent Migrate calls (several nodes starting at once) are safe: on
// PostgreSQL they queue on an advisory lock, on SQLite on BEGIN IMMEDIATE, and each migration
// is applied once.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, s.d.migrations)
}

func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	conn, err := s.write.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrating: %w", err)
	}
	defer conn.Close()
	unlock, err := s.d.lock(ctx, conn)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("sqlstore: creating schema_migrations: %w", err)
	}
	applied, err := s.applied(ctx, conn)
	if err != nil {
		return err
	}
	if err := check(ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		if _, ok := applied[m.version]; ok {
			continue
		}
		if err := s.apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration and records it, re-checking inside the transaction that no other
// process applied it meanwhile (on SQLite the transaction holds the write lock from BEGIN).
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var have string
	switch err := tx.QueryRowContext(ctx, s.q(`SELECT checksum FROM schema_migrations WHERE version = ?`), m.version).Scan(&have); {
	case err == nil:
		if have != m.checksum {
			return fmt.Errorf("%w: %s", ErrMigrationChanged, m.name)
		}
		return nil // applied by another process meanwhile
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`),
		m.version, m.name, m.checksum, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("sqlstore: recording migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
	}
	return nil
}

// applied returns version → checksum of the migrations recorded in the database.
func (s *Store) applied(ctx context.Context, q querier) (map[int]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var (
			v   int
			sum string
		)
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, fmt.Errorf("sqlstore: reading schema_migrations: %w", err)
		}
		out[v] = sum
	}
	return out, rows.Err()
}

// check compares the applied migrations with the known ones: a changed file or an unknown
// applied version is an error.
func check(ms []migration, applied map[int]string) error {
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
		if sum, ok := applied[m.version]; ok && sum != m.checksum {
			return fmt.Errorf("%w: %s (checksum %s in the database, %s in this binary)", ErrMigrationChanged, m.name, sum, m.checksum)
		}
	}
	for v := range applied {
		if !known[v] {
			return fmt.Errorf("%w: migration %d is applied", ErrSchemaTooNew, v)
		}
	}
	return nil
}

// SchemaUpToDate reports whether every migration is applied. A changed migration or a schema
// newer than this binary is an error.
func (s *Store) SchemaUpToDate(ctx context.Context) (bool, error) {
	return s.schemaUpToDate(ctx, s.d.migrations)
}

func (s *Store) schemaUpToDate(ctx context.Context, fsys fs.FS) (bool, error) {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return false, err
	}
	var n int
	if err := s.read.QueryRowContext(ctx, s.q(s.d.hasTable), "schema_migrations").Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: looking for schema_migrations: %w", err)
	}
	if n == 0 {
		return len(ms) == 0, nil
	}
	applied, err := s.applied(ctx, s.read)
	if err != nil {
		return false, err
	}
	if err := check(ms, applied); err != nil {
		return false, err
	}
	return len(applied) == len(ms), nil
}

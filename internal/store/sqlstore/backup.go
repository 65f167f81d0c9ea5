package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrInUse is returned by Restore when a server or another sesame command has the database
// open.
var ErrInUse = errors.New("sqlstore: the database is open in another process (a running server or sesame command); stop it before restoring")

var errLocked = errors.New("sqlstore: lock held")

// SQLitePath returns the file of a SQLite DSN; ok is false for PostgreSQL, an in-memory
// database or a DSN that names no file.
func SQLitePath(dsn string) (path string, ok bool) {
	rest, found := strings.CutPrefix(dsn, "sqlite:")
	if !found {
		return "", false
	}
	path, _, _ = strings.Cut(rest, "?")
	if p, cut := strings.CutPrefix(path, "//"); cut {
		path = p
	}
	return path, path != "" && path != ":memory:"
}

// lockPath is the lock file beside a SQLite database. Every process that opens the database
// holds a shared lock on it; Restore needs the exclusive one, so it can tell that nobody has
// the database open before it replaces the file under them.
func lockPath(db string) string { return db + ".lock" }

// holdShared takes the shared lock of the database at path, waiting (until ctx ends) while a
// restore holds the exclusive one.
func holdShared(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(lockPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: opening the lock file: %w", err)
	}
	for {
		err := flock(f, false, false)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("sqlstore: locking %s: %w", lockPath(path), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("sqlstore: the database is being restored (%s is locked): %w", lockPath(path), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Backup writes a consistent snapshot of the SQLite database at path to out, while servers
// keep using it: VACUUM INTO reads the database inside one read transaction (WAL readers do
// not block writers, nor writers them), so the copy is the database as of one commit, with
// everything committed before it and nothing after. out must not exist; it is created with
// mode 0600 (it holds password hashes and sealed keys) and checked with integrity_check.
// The key-encryption key is not in it: back that up on its own.
func Backup(ctx context.Context, path, out string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	lock, err := holdShared(ctx, path)
	if err != nil {
		return err
	}
	defer lock.Close()
	// An empty file of our own making, so that the snapshot is private from its first byte.
	f, err := os.OpenFile(out, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	f.Close()
	fail := func(err error) error {
		os.Remove(out)
		return err
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fail(fmt.Errorf("sqlstore: backup: %w", err))
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", out); err != nil {
		return fail(fmt.Errorf("sqlstore: backup: VACUUM INTO: %w", err))
	}
	if err := os.Chmod(out, 0o600); err != nil {
		return fail(fmt.Errorf("sqlstore: backup: %w", err))
	}
	if err := CheckFile(ctx, out); err != nil {
		return fail(err)
	}
	return nil
}

// CheckFile reports whether the file at path is a sound Sesame SQLite database: SQLite's
// integrity_check passes and the schema_migrations table is there.
func CheckFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlstore: opening %s: %w", path, err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("sqlstore: %s is not a SQLite database: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlstore: %s fails integrity_check: %s", path, res)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("sqlstore: %s is not a Sesame database (no schema_migrations table)", path)
	}
	return nil
}

// Restore replaces the SQLite database at path with the snapshot from (made by Backup). It
// refuses, with ErrInUse, while any process has the database open (each holds a shared lock on
// path.lock; Restore needs the exclusive one and does not wait for it), and checks from with
// CheckFile before touching anything. The snapshot is copied beside path and renamed over it,
// and the old -wal and -shm files are removed, so a crash leaves either the old database or
// the new one. A snapshot of an older schema is migrated by the next serve or sesame migrate.
func Restore(ctx context.Context, from, path string) error {
	if err := CheckFile(ctx, from); err != nil {
		return err
	}
	lock, err := os.OpenFile(lockPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	defer lock.Close()
	if err := flock(lock, true, false); errors.Is(err, errLocked) {
		return ErrInUse
	} else if err != nil {
		return fmt.Errorf("sqlstore: restore: locking %s: %w", lockPath(path), err)
	}
	tmp := path + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return fmt.Errorf("sqlstore: restore: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // the rename is durable once the directory is
		d.Close()
	}
	return nil
}

// copyFile copies from to a new private file to, synced to disk.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

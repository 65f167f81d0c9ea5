// Package sqlstore is Sesame's one implementation of store.Store, over database/sql, with two
// dialects: SQLite (modernc.org/sqlite, pure Go, for a single node and for tests) and
// PostgreSQL (pgx's stdlib driver, for several nodes sharing one database).
//
// Both dialects run the same queries: they are written with ? placeholders and rebound to $n
// for PostgreSQL, and use only syntax both engines accept (ON CONFLICT ... DO UPDATE ... WHERE,
// RETURNING, partial unique indexes, no expression indexes). What differs lives in dialect.go:
// the placeholder style, the "no limit" spelling, unique-violation error codes, the migration
// and key-rotation locks, and the DDL files under migrations/. Case-insensitive email lookups
// use an email_key column lower-cased in Go, so both engines fold case the same way.
//
// Times are stored as BIGINT Unix nanoseconds in UTC (NULL for the zero time) in both dialects,
// so that a time round-trips exactly; slices, maps and small nested structs are JSON text.
//
// SQLite concurrency: writes go through a pool of exactly one connection whose transactions
// begin with BEGIN IMMEDIATE (_txlock=immediate), so writers in this process queue in Go rather
// than racing for the file lock, and a writer in another process (the CLI next to a running
// server) waits busy_timeout instead of failing with SQLITE_BUSY on a lock upgrade. Reads go
// through a separate, read-only pool of several connections, which WAL mode lets run beside the
// writer. An in-memory database uses one connection for both. SQLite statements are prepared
// once and reused (pool.go). Write transactions that wait for the writer at the same moment
// share one commit, each in its own savepoint (groupcommit.go). The tenant, clients, APIs and
// connections are cached for ReadCacheTTL (readcache.go).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/sesameauth/sesame/internal/store"
)

// Store is a store.Store over SQLite or PostgreSQL. It is safe for concurrent use.
type Store struct {
	d     *dialect
	write *pool // one connection on SQLite; the whole pool on PostgreSQL
	read  *pool // a read-only pool on SQLite; the same as write on PostgreSQL

	rebound sync.Map // query with ? placeholders → query in the dialect's style

	// cache keeps the tenant, clients, APIs and connections for ReadCacheTTL.
	cache readCache
	// group commits concurrent write transactions together (SQLite only; see groupcommit.go).
	group *groupCommit
	// checkpoints copies the WAL into a SQLite database file off the writer (checkpoint.go).
	checkpoints *checkpointer
	// stats counts transactions and group sizes for Stats (stats.go).
	stats *storeStats
	// lock is the shared lock on a SQLite file's path.lock, held until Close (backup.go).
	lock *os.File
}

var _ store.Store = (*Store)(nil)

// sqlitePragmas are set on every SQLite connection. WAL lets readers run beside the writer;
// synchronous=NORMAL is durable across application crashes in WAL mode and avoids an fsync per
// commit; busy_timeout makes a connection wait for another process's lock instead of failing.
// (mmap_size was measured and left off: with a WAL under constant writes it cost more CPU per
// refresh, not less.)
var sqlitePragmas = []string{"busy_timeout(5000)", "foreign_keys(1)", "synchronous(NORMAL)"}

// Open connects to the database named by dsn. It does not migrate: call Migrate, or check
// SchemaUpToDate.
//
// SQLite DSNs are sqlite:///abs/path.db, sqlite://relative/path.db, sqlite:path.db and
// sqlite::memory:; extra driver parameters may follow a "?". PostgreSQL DSNs are the usual
// postgres:// or postgresql:// URLs (runtime parameters such as search_path may be given as
// query parameters).
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case isPostgres(dsn):
		return openPostgres(ctx, dsn, Options{})
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	default:
		return nil, fmt.Errorf("sqlstore: unsupported database DSN (want sqlite:... or postgres://...)")
	}
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openSQLite opens rest, the DSN after "sqlite:": "//" + path, a bare path, or ":memory:".
func openSQLite(ctx context.Context, rest string) (*Store, error) {
	path, extra, _ := strings.Cut(rest, "?")
	if p, ok := strings.CutPrefix(path, "//"); ok {
		path = p // sqlite:///abs → /abs; sqlite://rel → rel
	}
	if path == "" {
		return nil, errors.New("sqlstore: sqlite DSN names no file")
	}
	params := func(pragmas []string, more ...string) string {
		q := url.Values{}
		for _, p := range pragmas {
			q.Add("_pragma", p)
		}
		for i := 0; i+1 < len(more); i += 2 {
			q.Set(more[i], more[i+1])
		}
		enc := q.Encode()
		if extra != "" {
			enc += "&" + extra
		}
		return enc
	}
	open := func(dsn string, conns int) (*sql.DB, error) {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: opening sqlite: %w", err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlstore: opening sqlite: %w", err)
		}
		return db, nil
	}

	if path == ":memory:" {
		// A private in-memory database lives as long as its one connection; the pool never
		// closes it (no lifetime, no idle timeout), and reads share it.
		db, err := open(":memory:?"+params(sqlitePragmas, "_txlock", "immediate"), 1)
		if err != nil {
			return nil, err
		}
		p := &pool{db: db, cache: true}
		s := &Store{d: sqliteDialect, write: p, read: p, stats: newStoreStats()}
		s.cache.ttl = ReadCacheTTL
		s.startGroupCommit()
		return s, nil
	}

	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// The shared lock tells Restore that this process has the database open (backup.go).
	lock, err := holdShared(ctx, path)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			lock.Close()
		}
	}()
	// The writer opens first: it turns on WAL, which is persistent in the file, before any
	// read-only connection (which could not change the journal mode) exists. Checkpoints run
	// on a connection of their own (checkpoint.go); the writer's wal_autocheckpoint is only a
	// backstop.
	w, err := open(path+"?"+params(append([]string{"journal_mode(WAL)", fmt.Sprintf("wal_autocheckpoint(%d)", walBackstop)}, sqlitePragmas...), "_txlock", "immediate"), 1)
	if err != nil {
		return nil, err
	}
	ck, err := open(path+"?"+params(sqlitePragmas), 1)
	if err != nil {
		w.Close()
		return nil, err
	}
	r, err := open(path+"?"+params(append([]string{"query_only(1)"}, sqlitePragmas...)), max(4, 2*runtime.GOMAXPROCS(0)))
	if err != nil {
		w.Close()
		ck.Close()
		return nil, err
	}
	s := &Store{d: sqliteDialect, write: &pool{db: w, cache: true}, read: &pool{db: r, cache: true}, stats: newStoreStats(), lock: lock}
	s.cache.ttl = ReadCacheTTL
	s.startGroupCommit()
	s.checkpoints = startCheckpointer(ck)
	ok = true
	return s, nil
}

// Dialect reports "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", unavailable(err))
	}
	if s.read != s.write {
		if err := s.read.db.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w", unavailable(err))
		}
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.stop()
	}
	var err error
	if s.checkpoints != nil {
		err = s.checkpoints.stop()
		s.checkpoints = nil
	}
	err = errors.Join(err, s.write.db.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.db.Close())
	}
	if s.lock != nil { // after the connections: a restore may replace the file from here on
		err = errors.Join(err, s.lock.Close())
		s.lock = nil
	}
	return err
}

// q returns query, written with ? placeholders, in the dialect's placeholder style.
func (s *Store) q(query string) string {
	if !s.d.numbered {
		return query
	}
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	out := s.d.rebind(query)
	s.rebound.Store(query, out)
	return out
}

// commitThen wraps an error that a transaction function returns after doing work that must be
// kept: inTx commits, then returns the wrapped error (a detected refresh-token reuse revokes
// the family and still fails).
type commitThen struct{ err error }

func (c commitThen) Error() string { return c.err.Error() }

// inTx runs fn in one write transaction: committed when fn returns nil or a commitThen, rolled
// back otherwise. On SQLite the transaction may share its commit with others (groupcommit.go).
func (s *Store) inTx(ctx context.Context, fn func(q querier) error) error {
	if s.group != nil {
		return s.timedTx(ctx, fn, s.group.submit)
	}
	return s.timedTx(ctx, fn, s.inTxNow)
}

// inTxNow is inTx in a transaction of its own.
func (s *Store) inTxNow(ctx context.Context, fn func(q querier) error) error {
	t, err := s.write.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", unavailable(err))
	}
	var missed []string
	if s.write.cache {
		defer func() { s.write.prepare(context.WithoutCancel(ctx), missed) }()
	}
	ferr := fn(tx{tx: t, p: s.write, missed: &missed})
	var keep commitThen
	if ferr != nil && !errors.As(ferr, &keep) {
		_ = t.Rollback()
		return ferr
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", unavailable(err))
	}
	return keep.err
}

// affected returns how many rows res touched.
func affected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

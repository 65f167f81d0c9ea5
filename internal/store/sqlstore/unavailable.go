package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sesameauth/sesame/internal/store"
)

// Options tune a PostgreSQL connection pool; zero fields take the defaults below. SQLite
// ignores them (its pools are sized for one writer).
type Options struct {
	// MaxOpenConns caps the pool (default max(8, 4×GOMAXPROCS)); every node of a cluster opens
	// up to this many connections, so nodes × MaxOpenConns must stay under max_connections.
	MaxOpenConns int
	// MaxIdleConns is how many connections stay open between bursts (default MaxOpenConns).
	MaxIdleConns int
	// ConnMaxLifetime recycles connections (default 30 minutes), so that a fail-over or a
	// pooler behind a DNS name is followed without a restart.
	ConnMaxLifetime time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout for every session (default 5 s), unless
	// the DSN sets one.
	StatementTimeout time.Duration
	// ConnectTimeout bounds opening a connection (default 5 s), unless the DSN's connect_timeout
	// sets one.
	ConnectTimeout time.Duration
}

// Defaults of Options.
const (
	DefaultConnMaxLifetime  = 30 * time.Minute
	DefaultStatementTimeout = 5 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
)

func (o Options) withDefaults() Options {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = max(8, 4*runtime.GOMAXPROCS(0))
	}
	if o.MaxIdleConns <= 0 || o.MaxIdleConns > o.MaxOpenConns {
		o.MaxIdleConns = o.MaxOpenConns
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = DefaultConnMaxLifetime
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	return o
}

// OpenWith is Open with pool options (used for PostgreSQL only).
func OpenWith(ctx context.Context, dsn string, o Options) (*Store, error) {
	if isPostgres(dsn) {
		return openPostgres(ctx, dsn, o)
	}
	return Open(ctx, dsn)
}

func openPostgres(ctx context.Context, dsn string, o Options) (*Store, error) {
	o = o.withDefaults()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: parsing postgres DSN: %w", err)
	}
	if _, ok := cfg.RuntimeParams["statement_timeout"]; !ok {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = o.ConnectTimeout
	}
	db := sql.OpenDB(connector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(o.MaxOpenConns)
	db.SetMaxIdleConns(o.MaxIdleConns)
	db.SetConnMaxLifetime(o.ConnMaxLifetime)
	p := &pool{db: db}
	s := &Store{d: postgresDialect, write: p, read: p, stats: newStoreStats()}
	s.cache.ttl = ReadCacheTTL
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connecting to postgres: %w", err)
	}
	return s, nil
}

// connector marks every failure to open a connection as store.ErrUnavailable. When the
// database goes away, database/sql drops the broken connections (pgx reports them as
// driver.ErrBadConn) and opens new ones, so this is where an outage surfaces; once the
// database answers again the next Connect succeeds and service resumes without a restart.
type connector struct{ driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return conn, nil
}

// unavailable wraps err with store.ErrUnavailable when it is a connection-level failure
// rather than a failed statement: a lost or refused connection, a network error, a timeout
// (context deadline, PostgreSQL's statement_timeout), or the server shutting down.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || !isUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

func isUnavailable(err error) bool {
	var (
		netErr  net.Error
		connErr *pgconn.ConnectError
		pgErr   *pgconn.PgError
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.As(err, &netErr), errors.As(err, &connErr), pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		// Class 08 is connection exception; 57014 query_canceled (statement_timeout),
		// 57P01..57P03 admin/crash shutdown and cannot_connect_now.
		return len(pgErr.Code) == 5 && (pgErr.Code[:2] == "08" || pgErr.Code == "57014" ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03")
	}
	return false
}

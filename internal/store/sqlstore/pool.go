package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// querier is what a pool and a transaction offer the queries.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// pool is a connection pool that, for SQLite, keeps each query's prepared statement:
// modernc's driver would otherwise compile the SQL on every call, which was half the cost of
// a FindUser. pgx already caches prepared statements per connection, so PostgreSQL pools pass
// queries straight through.
type pool struct {
	db    *sql.DB
	cache bool
	stmts sync.Map // query → *sql.Stmt
}

func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !p.cache {
		res, err := p.db.ExecContext(ctx, query, args...)
		return res, unavailable(err)
	}
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !p.cache {
		rows, err := p.db.QueryContext(ctx, query, args...)
		return rows, unavailable(err)
	}
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if p.cache {
		if st, err := p.stmt(ctx, query); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	// Uncached, or the prepare failed: the plain call reports the same error through Row.
	return p.db.QueryRowContext(ctx, query, args...)
}

// tx is a write transaction that reuses its pool's prepared statements. A statement not yet
// prepared runs unprepared and is noted in missed, for inTx to prepare once the transaction
// has ended: preparing on the pool inside the transaction would wait for a connection the
// transaction itself holds (SQLite's writer pool has exactly one).
type tx struct {
	tx     *sql.Tx
	p      *pool
	missed *[]string
	// shared marks a transaction that holds several callers' work (groupcommit.go). Its
	// statements ignore their caller's cancellation: SQLite answers an interrupted write inside
	// a transaction by rolling back all of it, the other callers' work included.
	shared bool
}

func (t tx) ctx(ctx context.Context) context.Context {
	if t.shared {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// cached returns the transaction's copy of query's prepared statement, or nil.
func (t tx) cached(ctx context.Context, query string) *sql.Stmt {
	if !t.p.cache {
		return nil
	}
	st, ok := t.p.stmts.Load(query)
	if !ok {
		*t.missed = append(*t.missed, query)
		return nil
	}
	return t.tx.StmtContext(ctx, st.(*sql.Stmt))
}

func (t tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	if st := t.cached(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	res, err := t.tx.ExecContext(ctx, query, args...)
	return res, unavailable(err)
}

func (t tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	if st := t.cached(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	rows, err := t.tx.QueryContext(ctx, query, args...)
	return rows, unavailable(err)
}

func (t tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.ctx(ctx)
	if st := t.cached(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// prepare caches the statements a transaction ran unprepared; a query that fails to prepare
// is left to run unprepared again.
func (p *pool) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		_, _ = p.stmt(ctx, q)
	}
}

package scripted

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sesameauth/sesame/internal/hooks"
)

// MaxRows bounds the rows one query of a script returns; a login looks up one user.
const MaxRows = 1000

// Pools is the PostgreSQL access of the scripts' require('pg'): one pgx pool per connection
// string, made on first use and kept, so that logins reuse connections (node-postgres's
// pg.connect pooled the same way). Each pool holds at most MaxConns connections, which with
// Realms' bound on concurrent scripts keeps a legacy database from taking more than its share.
type Pools struct {
	// MaxConns per connection string (default 4).
	MaxConns int32

	mu    sync.Mutex
	pools map[string]*pgxpool.Pool
}

var _ hooks.SQL = (*Pools)(nil)

func (p *Pools) pool(ctx context.Context, conn string) (*pgxpool.Pool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl, ok := p.pools[conn]; ok {
		return pl, nil
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		// pgx's message would quote the connection string, password and all.
		return nil, fmt.Errorf("pg: invalid connection string")
	}
	cfg.MaxConns = p.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 4
	}
	cfg.MinConns = 0
	// node-postgres sends parameters as text and lets the server infer their types; pgx's
	// exec mode with described statements encodes our strings and numbers to whatever the
	// server inferred.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	pl, err := pgxpool.NewWithConfig(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, fmt.Errorf("pg: %w", err)
	}
	if p.pools == nil {
		p.pools = map[string]*pgxpool.Pool{}
	}
	p.pools[conn] = pl
	return pl, nil
}

// Query runs one query for a script.
func (p *Pools) Query(ctx context.Context, conn, query string, args []any) (*hooks.SQLResult, error) {
	pl, err := p.pool(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows, err := pl.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	res := &hooks.SQLResult{}
	for _, f := range rows.FieldDescriptions() {
		res.Fields = append(res.Fields, f.Name)
	}
	for rows.Next() {
		if len(res.Rows) >= MaxRows {
			return nil, fmt.Errorf("pg: the query returned more than %d rows", MaxRows)
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tag := rows.CommandTag()
	res.RowCount = tag.RowsAffected()
	res.Command = tag.String()
	if i := indexSpace(res.Command); i > 0 {
		res.Command = res.Command[:i]
	}
	return res, nil
}

func indexSpace(s string) int {
	for i, c := range s {
		if c == ' ' {
			return i
		}
	}
	return -1
}

// Close closes every pool (nil Pools have none).
func (p *Pools) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pl := range p.pools {
		pl.Close()
	}
	p.pools = nil
}

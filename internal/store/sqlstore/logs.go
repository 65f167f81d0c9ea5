package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

var logs = build(&table[store.LogEvent]{
	name: "logs", what: "log event", key: "id",
	cols: []string{"id", "date", "type", "description", "client_id", "client_name", "connection", "connection_id",
		"ip", "client_ip", "user_agent", "user_id", "user_name", "audience", "scope", "details"},
	keyOf: func(e *store.LogEvent) string { return e.ID },
	values: func(enc *encoder, e *store.LogEvent) []any {
		return []any{e.ID, timeVal(e.Date), e.Type, e.Description, e.ClientID, e.ClientName, e.Connection, e.ConnectionID,
			e.IP, e.ClientIP, e.UserAgent, e.UserID, e.UserName, e.Audience, e.Scope, enc.json(e.Details)}
	},
	scan: func(e *store.LogEvent) []any {
		return []any{&e.ID, timeCol{&e.Date}, &e.Type, &e.Description, &e.ClientID, &e.ClientName, &e.Connection, &e.ConnectionID,
			&e.IP, &e.ClientIP, &e.UserAgent, &e.UserID, &e.UserName, &e.Audience, &e.Scope, jsonCol{&e.Details}}
	},
})

// defaultLogLimit is how many events ListLogs returns when the filter names no limit.
const defaultLogLimit = 100

// AppendLog stores an event, giving it an ID when it has none.
func (s *Store) AppendLog(ctx context.Context, e store.LogEvent) error {
	if e.ID == "" {
		e.ID = store.NewID("", 16)
	}
	return insertRow(ctx, s, s.write, logs, &e)
}

// AppendLogs stores the events in one write transaction, giving an ID to each that has none.
// One prepared INSERT per event inside the transaction keeps one cached statement whatever the
// batch size; the commit, not the statements, is what a batch saves.
func (s *Store) AppendLogs(ctx context.Context, es []store.LogEvent) error {
	if len(es) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx querier) error {
		for i := range es {
			e := es[i]
			if e.ID == "" {
				e.ID = store.NewID("", 16)
			}
			if err := insertRow(ctx, s, tx, logs, &e); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListLogs returns the events matching f, newest first.
func (s *Store) ListLogs(ctx context.Context, f store.LogFilter) ([]store.LogEvent, error) {
	var (
		where string
		args  []any
	)
	add := func(cond string, arg any) {
		if where == "" {
			where = "WHERE " + cond
		} else {
			where += " AND " + cond
		}
		args = append(args, arg)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if !f.Since.IsZero() {
		add("date >= ?", f.Since.UnixNano())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLogLimit
	}
	return listRows(ctx, s, s.read, logs, where+" ORDER BY date DESC, id DESC LIMIT ?", append(args, limit)...)
}

// DeleteLogsBefore removes events dated before t and returns how many.
func (s *Store) DeleteLogsBefore(ctx context.Context, t time.Time) (int, error) {
	n, err := affected(s.write.ExecContext(ctx, s.q(`DELETE FROM logs WHERE date < ?`), t.UnixNano()))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: deleting old logs: %w", err)
	}
	return n, nil
}

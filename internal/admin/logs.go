package admin

import (
	"context"
	"errors"

	"github.com/sesameauth/sesame/internal/store"
)

// logSchema is what a log search may name (Auth0's log search fields that Sesame's events
// carry).
var logSchema = querySchema{
	fields: map[string]fieldType{
		"log_id": fieldText, "date": fieldTime, "type": fieldText, "description": fieldText,
		"client_id": fieldText, "client_name": fieldText, "connection": fieldText, "connection_id": fieldText,
		"ip": fieldText, "client_ip": fieldText, "user_agent": fieldText, "user_id": fieldText,
		"user_name": fieldText, "audience": fieldText, "scope": fieldText, "details": fieldMeta,
	},
	bare: []string{"type", "user_id", "user_name", "client_id", "client_name", "description"},
}

// LogPage is one page of a log search; Total counts every match when asked.
type LogPage struct {
	Logs         []store.LogEvent
	Start, Limit int
	Total        int
}

// SearchLogs runs a log search (GET /api/v2/logs). With Checkpoint, From is a log ID and
// the page holds the events after it, oldest first (a client streams the log by passing the
// last ID it saw); without From, the newest Take events, newest first. Otherwise offset
// paging over the first MaxSearchWindow matches, sorted by "date:-1" (the default) or
// "date:1".
func (s *Service) SearchLogs(ctx context.Context, p ListParams) (LogPage, error) {
	where, err := parseQuery(p.Q, logSchema)
	if err != nil {
		return LogPage{}, err
	}
	sort, err := parseSort(p.Sort, "date")
	if err != nil {
		return LogPage{}, err
	}
	win, err := p.window()
	if err != nil {
		return LogPage{}, err
	}
	q := store.LogQuery{Where: where, Asc: sort.Field != "" && !sort.Desc, Page: win}
	if p.Checkpoint {
		q.Asc = p.From != ""
	} else if win.Offset+win.Limit > MaxSearchWindow {
		q.Page.Limit = max(MaxSearchWindow-win.Offset, 0)
	}
	out := LogPage{Logs: []store.LogEvent{}, Start: win.Offset, Limit: win.Limit}
	if q.Page.Limit > 0 {
		es, err := s.Store.SearchLogs(ctx, q)
		switch {
		case errors.Is(err, store.ErrBadQuery):
			return LogPage{}, invalid("q", "%v", err)
		case errors.Is(err, store.ErrNotFound):
			return LogPage{}, invalid("from", "no log event %q", p.From)
		case err != nil:
			return LogPage{}, err
		}
		if es != nil {
			out.Logs = es
		}
	}
	if p.IncludeTotals {
		if out.Total, err = s.Store.CountSearchLogs(ctx, where); err != nil {
			return LogPage{}, err
		}
	}
	return out, nil
}

// GetLog returns one log event (GET /api/v2/logs/{id}).
func (s *Service) GetLog(ctx context.Context, id string) (store.LogEvent, error) {
	e, err := s.Store.GetLog(ctx, id)
	return e, storeErr(err, "log event", id)
}

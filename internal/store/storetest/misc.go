package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func testReplay(t *testing.T, newStore NewStore) {
	ctx := t.Context
	future := time.Now().Add(time.Hour)
	t.Run("second use conflicts", func(t *testing.T) {
		s := newStore(t)
		must(t, "first UseOnce", s.UseOnce(ctx(), "jti:a", future))
		wantErr(t, "second UseOnce", s.UseOnce(ctx(), "jti:a", future), store.ErrConflict)
		must(t, "UseOnce of another key", s.UseOnce(ctx(), "jti:b", future))
	})
	t.Run("expired entry is replaced", func(t *testing.T) {
		s := newStore(t)
		must(t, "first UseOnce", s.UseOnce(ctx(), "jti:a", time.Now().Add(-time.Second)))
		must(t, "UseOnce after expiry", s.UseOnce(ctx(), "jti:a", future))
		wantErr(t, "UseOnce within the new lifetime", s.UseOnce(ctx(), "jti:a", future), store.ErrConflict)
	})
	t.Run("concurrent uses: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		ok := 0
		for i, err := range parallel(8, func(int) error { return s.UseOnce(ctx(), "jti:race", future) }) {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("UseOnce %d: got %v, want nil or ErrConflict", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("successful UseOnce calls: got %d, want 1", ok)
		}
	})
}

func event(id, typ, user string, date time.Duration) store.LogEvent {
	return store.LogEvent{ID: id, Date: at(date), Type: typ, UserID: user}
}

func testLogs(t *testing.T, newStore NewStore) {
	ctx := t.Context
	t.Run("round trip and generated id", func(t *testing.T) {
		s := newStore(t)
		full := store.LogEvent{ID: "log1", Date: at(0), Type: "s", Description: "Success Login", ClientID: "c1", ClientName: "App",
			Connection: "db", ConnectionID: "con_1", IP: "192.0.2.1", ClientIP: "192.0.2.2", UserAgent: "curl/8",
			UserID: "auth0|1", UserName: "jane@example.com", Audience: "https://api", Scope: "openid",
			Details: map[string]any{"prompts": []any{map[string]any{"name": "login"}}, "elapsed": 12.5}}
		must(t, "AppendLog", s.AppendLog(ctx(), full))
		must(t, "AppendLog without id", s.AppendLog(ctx(), store.LogEvent{Date: at(time.Second), Type: "fp"}))
		got, err := s.ListLogs(ctx(), store.LogFilter{})
		must(t, "ListLogs", err)
		if len(got) != 2 {
			t.Fatalf("events: got %d, want 2", len(got))
		}
		if got[0].ID == "" || got[0].Type != "fp" {
			t.Errorf("newest event: got id %q type %q, want a generated id and type fp", got[0].ID, got[0].Type)
		}
		diff(t, "event", got[1], full)
		wantErr(t, "AppendLog with a taken id", s.AppendLog(ctx(), full), store.ErrConflict)
	})
	t.Run("batch append", func(t *testing.T) {
		s := newStore(t)
		must(t, "AppendLogs of nothing", s.AppendLogs(ctx(), nil))
		must(t, "AppendLogs", s.AppendLogs(ctx(), []store.LogEvent{
			event("b1", "s", "u1", 0), {Date: at(time.Second), Type: "fp"}, event("b3", "s", "u2", 2*time.Second),
		}))
		got, err := s.ListLogs(ctx(), store.LogFilter{})
		must(t, "ListLogs", err)
		var types []string
		for _, e := range got {
			types = append(types, e.ID+":"+e.Type)
		}
		if len(got) != 3 || got[0].ID != "b3" || got[1].ID == "" || got[2].ID != "b1" {
			t.Fatalf("events after a batch: got %v, want b3, a generated id, b1", types)
		}
	})
	t.Run("batch with a taken id stores none of it", func(t *testing.T) {
		s := newStore(t)
		must(t, "AppendLog", s.AppendLog(ctx(), event("taken", "s", "u1", 0)))
		err := s.AppendLogs(ctx(), []store.LogEvent{event("new1", "s", "u1", time.Second), event("taken", "fp", "u1", 2*time.Second)})
		wantErr(t, "AppendLogs with a taken id", err, store.ErrConflict)
		got, err := s.ListLogs(ctx(), store.LogFilter{})
		must(t, "ListLogs", err)
		if len(got) != 1 || got[0].ID != "taken" || got[0].Type != "s" {
			t.Errorf("events after a refused batch: got %d (first %+v), want only the original", len(got), got[0])
		}
	})
	t.Run("filters", func(t *testing.T) {
		s := newStore(t)
		for _, e := range []store.LogEvent{
			event("1", "s", "u1", 0), event("2", "fp", "u1", time.Second), event("3", "s", "u2", 2*time.Second),
			event("4", "s", "u1", 3*time.Second), event("5", "fp", "u2", 4*time.Second),
		} {
			must(t, "AppendLog", s.AppendLog(ctx(), e))
		}
		tests := []struct {
			name string
			f    store.LogFilter
			want []string
		}{
			{"all, newest first", store.LogFilter{}, []string{"5", "4", "3", "2", "1"}},
			{"type", store.LogFilter{Type: "s"}, []string{"4", "3", "1"}},
			{"user", store.LogFilter{UserID: "u1"}, []string{"4", "2", "1"}},
			{"type and user", store.LogFilter{Type: "fp", UserID: "u2"}, []string{"5"}},
			{"since", store.LogFilter{Since: at(3 * time.Second)}, []string{"5", "4"}},
			{"limit", store.LogFilter{Limit: 2}, []string{"5", "4"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListLogs(ctx(), tc.f)
				must(t, "ListLogs", err)
				var ids []string
				for _, e := range got {
					ids = append(ids, e.ID)
				}
				diff(t, "ids", ids, tc.want)
			})
		}
	})
	t.Run("default limit is 100", func(t *testing.T) {
		s := newStore(t)
		for i := range 105 {
			must(t, "AppendLog", s.AppendLog(ctx(), event(fmt.Sprintf("e%03d", i), "s", "", time.Duration(i)*time.Second)))
		}
		got, err := s.ListLogs(ctx(), store.LogFilter{})
		must(t, "ListLogs", err)
		if len(got) != 100 || got[0].ID != "e104" || got[99].ID != "e005" {
			t.Errorf("events: got %d from %s to %s, want 100 from e104 to e005", len(got), got[0].ID, got[len(got)-1].ID)
		}
	})
	t.Run("delete before", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			must(t, "AppendLog", s.AppendLog(ctx(), event(fmt.Sprint(i), "s", "", time.Duration(i)*time.Hour)))
		}
		n, err := s.DeleteLogsBefore(ctx(), at(2*time.Hour))
		must(t, "DeleteLogsBefore", err)
		if n != 2 {
			t.Errorf("deleted: got %d, want 2", n)
		}
		got, err := s.ListLogs(ctx(), store.LogFilter{})
		must(t, "ListLogs", err)
		if len(got) != 3 || got[2].ID != "2" {
			t.Errorf("remaining events: got %d, oldest %q, want 3, oldest \"2\"", len(got), got[len(got)-1].ID)
		}
	})
}

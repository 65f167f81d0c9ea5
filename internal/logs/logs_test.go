package logs

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

func TestSinkWritesAndFlushes(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now })
	for _, typ := range []string{"sepft", "fp", "fepft"} {
		s.Emit(store.LogEvent{Type: typ, ClientID: "c1", UserID: "auth0|1"})
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Emit(store.LogEvent{Type: "late"}) // after Close: dropped, never a panic
	got, err := st.ListLogs(t.Context(), store.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || s.Dropped() != 1 {
		t.Fatalf("got %d events, %d dropped; want 3 and 1", len(got), s.Dropped())
	}
	for _, e := range got {
		if e.ID == "" || !e.Date.Equal(now) || e.ClientID != "c1" {
			t.Errorf("event %+v: want an ID, date %v and client c1", e, now)
		}
	}
}

// TestSinkKeepsEventsBesideABadOne: an event the store refuses (its ID is taken) costs only
// itself, whether or not it was written in the same batch as the others.
func TestSinkKeepsEventsBesideABadOne(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendLog(t.Context(), store.LogEvent{ID: "taken", Type: "s", Date: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	for i := range 50 {
		id := ""
		if i == 25 {
			id = "taken"
		}
		s.Emit(store.LogEvent{ID: id, Type: "fp", UserID: "auth0|1"})
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := st.ListLogs(t.Context(), store.LogFilter{Type: "fp", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 49 {
		t.Errorf("stored fp events: got %d, want 49 (all but the one with a taken ID)", len(got))
	}
}

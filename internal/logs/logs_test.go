package logs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// openStore is a migrated SQLite store in a temporary file, closed when the test ends.
func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSinkWritesAndFlushes(t *testing.T) {
	st := openStore(t)
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
	st := openStore(t)
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

// TestSinkFlush: after Flush every event emitted before it is in the store, while the sink
// stays open; rounds of different sizes cross batch boundaries and the batching delay.
func TestSinkFlush(t *testing.T) {
	st := openStore(t)
	s := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	defer s.Close(context.Background())
	if err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush with nothing queued: %v", err)
	}
	want := 0
	for round := range 20 {
		for range round * 30 { // 0 to 570 events: up to three batches of maxBatch
			s.Emit(store.LogEvent{Type: "fp"})
		}
		want += round * 30
		if err := s.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		got, err := st.ListLogs(t.Context(), store.LogFilter{Type: "fp", Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want || s.Dropped() != 0 {
			t.Fatalf("round %d: got %d events stored (%d dropped) after Flush, want %d", round, len(got), s.Dropped(), want)
		}
	}
}

// gatedLogs is a store whose AppendLogs waits for release, to see what Flush waits for.
type gatedLogs struct {
	store.Logs
	entered chan struct{}
	release chan struct{}
}

func (g gatedLogs) AppendLogs(ctx context.Context, es []store.LogEvent) error {
	g.entered <- struct{}{}
	<-g.release
	return g.Logs.AppendLogs(ctx, es)
}

// TestSinkFlushWaitsForTheWrite: Flush returns only once the store has the event, and ends
// with its context when the store does not answer.
func TestSinkFlushWaitsForTheWrite(t *testing.T) {
	st := openStore(t)
	g := gatedLogs{Logs: st, entered: make(chan struct{}), release: make(chan struct{})}
	s := New(g, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	s.Emit(store.LogEvent{Type: "fp"})
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(context.Background()) }()
	<-g.entered // the writer holds the batch
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with an ended context while the store hangs: got %v, want context.Canceled", err)
	}
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) before the store wrote the event", err)
	default:
	}
	close(g.release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if got, _ := st.ListLogs(t.Context(), store.LogFilter{Type: "fp"}); len(got) != 1 {
		t.Errorf("after Flush: got %d events stored, want 1", len(got))
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
}

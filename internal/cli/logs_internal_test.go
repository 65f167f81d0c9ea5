package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// steppedLogs tells the test on polls each time followLogs starts a poll, so that the test
// counts polls instead of sleeping.
type steppedLogs struct {
	store.Logs
	polls chan<- struct{}
}

func (s steppedLogs) ListLogs(ctx context.Context, f store.LogFilter) ([]store.LogEvent, error) {
	select {
	case s.polls <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Logs.ListLogs(ctx, f)
}

func TestFollowLogs(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	base := time.Now().UTC().Add(-time.Minute)
	add := func(id, typ string, at time.Duration) {
		if err := st.AppendLog(t.Context(), store.LogEvent{ID: id, Date: base.Add(at), Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	add("e1", "fp", 0)
	ctx, cancel := context.WithCancel(t.Context())
	polls := make(chan struct{})
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- followLogs(ctx, steppedLogs{st, polls}, store.LogFilter{Type: "fp"}, time.Millisecond, &out, true)
	}()
	// polled waits for n more polls to have written their output (a poll has when the next
	// one starts) and checks the lines written so far.
	polled := func(n, wantLines int) {
		t.Helper()
		for range n + 1 {
			<-polls
		}
		if got := strings.Count(out.String(), "\n"); got != wantLines {
			t.Fatalf("follow output: got %q, want %d lines", out.String(), wantLines)
		}
	}
	polled(1, 1)
	add("e2", "fp", 0) // same date as e1: still new
	add("e3", "sepft", time.Second)
	add("e4", "fp", 2*time.Second)
	polled(1, 3)
	polled(3, 3) // more polls must not repeat anything
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("followLogs: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var ids []string
	for _, l := range lines {
		_, rest, _ := strings.Cut(l, `"log_id":"`)
		id, _, _ := strings.Cut(rest, `"`)
		ids = append(ids, id)
	}
	if strings.Join(ids, " ") != "e1 e2 e4" {
		t.Errorf("followed ids: got %v (output %q), want e1 e2 e4 each once", ids, out.String())
	}
}

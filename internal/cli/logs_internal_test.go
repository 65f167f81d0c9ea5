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
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- followLogs(ctx, st, store.LogFilter{Type: "fp"}, 10*time.Millisecond, &out, true) }()
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if strings.Count(out.String(), "\n") >= n {
				return
			}
		}
		t.Fatalf("follow output: got %q, want %d lines", out.String(), n)
	}
	waitFor(1)
	add("e2", "fp", 0) // same date as e1: still new
	add("e3", "sepft", time.Second)
	add("e4", "fp", 2*time.Second)
	waitFor(3)
	time.Sleep(50 * time.Millisecond) // a few more polls must not repeat anything
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

package logs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/logs"
	"github.com/sesameauth/sesame/internal/store"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// failingPoster is a webhook that is down.
type failingPoster struct{ calls int }

func (f *failingPoster) Post(context.Context, []byte) error {
	f.calls++
	return errors.New("connection refused")
}

func TestStreamThroughSink(t *testing.T) {
	var out lockedBuffer
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	down := &failingPoster{}
	st := logs.NewStream(logs.StreamOptions{Writer: &out, Webhook: down, Logger: quiet})
	sink := logs.New(nil, quiet, func() time.Time { return time.Date(2026, 5, 6, 7, 8, 9, 10e6, time.UTC) })
	sink.Tee(st.Send)
	sink.Emit(store.LogEvent{Type: "sepft", UserID: "auth0|1", IP: "192.0.2.1", Details: map[string]any{
		"grant_type": "password", "password": "hunter2", "client_secret": "s3cret", "Refresh_Token": "rt",
		"actions": []any{map[string]any{"name": "a", "id_token": "x"}}, "code": "123456"}})
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("stream: got %q, want one line", out.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got["type"] != "sepft" || got["date"] != "2026-05-06T07:08:09.010Z" || got["user_id"] != "auth0|1" || got["ip"] != "192.0.2.1" || got["log_id"] == "" {
		t.Errorf("streamed event: got %v", got)
	}
	for _, secret := range []string{"hunter2", "s3cret", `"rt"`, `"x"`, "123456"} {
		if strings.Contains(lines[0], secret) {
			t.Errorf("streamed line %s contains %s", lines[0], secret)
		}
	}
	if !strings.Contains(lines[0], `"grant_type":"password"`) || !strings.Contains(lines[0], `"name":"a"`) {
		t.Errorf("streamed line %s lost harmless details", lines[0])
	}
	if down.calls != 1 || st.Dropped() != 1 {
		t.Errorf("webhook down: got %d posts, %d dropped, want 1 and 1", down.calls, st.Dropped())
	}
}

// TestStreamFlush: what a sink emitted before the stream's Flush is on the stream after it,
// while both stay open.
func TestStreamFlush(t *testing.T) {
	var out lockedBuffer
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := logs.NewStream(logs.StreamOptions{Writer: &out, Logger: quiet})
	defer st.Close(context.Background())
	sink := logs.New(nil, quiet, nil)
	defer sink.Close(context.Background())
	sink.Tee(st.Send)
	for round := 1; round <= 20; round++ {
		sink.Emit(store.LogEvent{Type: "fp"})
		if err := st.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(out.String(), "\n"); got != round {
			t.Fatalf("after %d events and Flush: got %d lines on the stream", round, got)
		}
	}
}

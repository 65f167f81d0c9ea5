// Package logs records tenant log events (Auth0's event codes and fields) off the request path.
//
// Emit never blocks a token request: events go through a bounded queue to one writer goroutine
// that appends them to the store and mirrors them to slog. When the queue is full an event is
// dropped and counted, because a login must not wait on (or fail for) its audit line. Events
// carry no secrets: callers put only identifiers in them.
package logs

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// Sink queues events for the store and the process log.
type Sink struct {
	st      store.Logs
	log     *slog.Logger
	ch      chan store.LogEvent
	done    chan struct{}
	mu      sync.RWMutex // guards closed against Emit racing Close
	closed  bool
	dropped atomic.Int64
	now     func() time.Time
}

// New starts a sink writing to st (nil: slog only) and log.
func New(st store.Logs, log *slog.Logger, now func() time.Time) *Sink {
	if now == nil {
		now = time.Now
	}
	s := &Sink{st: st, log: log, ch: make(chan store.LogEvent, 4096), done: make(chan struct{}), now: now}
	go s.run()
	return s
}

// Emit queues e, filling its ID and Date when empty.
func (s *Sink) Emit(e store.LogEvent) {
	if e.ID == "" {
		e.ID = store.NewID("", 16)
	}
	if e.Date.IsZero() {
		e.Date = s.now().UTC()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.dropped.Add(1)
		return
	}
	select {
	case s.ch <- e:
	default:
		s.dropped.Add(1)
	}
}

// Dropped reports how many events were lost to a full queue.
func (s *Sink) Dropped() int64 { return s.dropped.Load() }

func (s *Sink) run() {
	defer close(s.done)
	for e := range s.ch {
		attrs := []any{"log_id", e.ID, "type", e.Type, "client_id", e.ClientID, "user_id", e.UserID,
			"connection", e.Connection, "ip", e.IP, "client_ip", e.ClientIP}
		if e.Description != "" {
			attrs = append(attrs, "description", e.Description)
		}
		s.log.Info("tenant event", attrs...)
		if s.st == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.st.AppendLog(ctx, e); err != nil {
			s.log.Warn("tenant event not stored", "log_id", e.ID, "type", e.Type, "err", err)
		}
		cancel()
	}
}

// Close stops accepting events and waits (until ctx ends) for queued ones to be written.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

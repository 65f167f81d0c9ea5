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
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// Sink queues events for the store and the process log.
type Sink struct {
	st  store.Logs
	log *slog.Logger
	q   *queue
	now func() time.Time
	tee func(store.LogEvent) // see Tee (stream.go)
}

// New starts a sink writing to st (nil: slog only) and log.
func New(st store.Logs, log *slog.Logger, now func() time.Time) *Sink {
	if now == nil {
		now = time.Now
	}
	s := &Sink{st: st, log: log, q: newQueue(), now: now}
	go s.q.drain(maxBatch, flushDelay, s.writeBatch)
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
	if s.tee != nil {
		s.tee(e)
	}
	s.q.put(e)
}

// Dropped reports how many events were lost to a full queue.
func (s *Sink) Dropped() int64 { return s.q.dropped.Load() }

// Queued reports how many events wait for the writer now.
func (s *Sink) Queued() int { return len(s.q.ch) }

// maxBatch bounds how many events one store transaction appends, and flushDelay how long the
// writer waits for more after the first: under load a batch fills in far less than
// flushDelay; when the server is idle an event reaches the store flushDelay later at most.
const (
	maxBatch   = 256
	flushDelay = 20 * time.Millisecond
)

// writeBatch mirrors a batch to the process log and appends it to the store. Batches are what
// arrives within flushDelay of the first event (at most maxBatch): on SQLite every commit goes
// through the single writer that refresh-token rotations also need, and a commit costs far more
// than an INSERT, so one commit per batch instead of one per event leaves the writer to the
// token requests. Close flushes at once: a closed queue ends the wait.
func (s *Sink) writeBatch(batch []store.LogEvent) {
	for _, e := range batch {
		s.logEvent(e)
	}
	s.write(batch)
}

// logEvent mirrors e to the process log.
func (s *Sink) logEvent(e store.LogEvent) {
	attrs := []any{"log_id", e.ID, "type", e.Type, "client_id", e.ClientID, "user_id", e.UserID,
		"connection", e.Connection, "ip", e.IP, "client_ip", e.ClientIP}
	if e.Description != "" {
		attrs = append(attrs, "description", e.Description)
	}
	s.log.Info("tenant event", attrs...)
}

// write appends batch in one transaction. If that fails the events are retried one by one, so
// that one bad event (an ID already taken) does not cost the others their place in the log.
func (s *Sink) write(batch []store.LogEvent) {
	if s.st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.st.AppendLogs(ctx, batch)
	if err == nil {
		return
	}
	if len(batch) == 1 {
		s.log.Warn("tenant event not stored", "log_id", batch[0].ID, "type", batch[0].Type, "err", err)
		return
	}
	for _, e := range batch {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.st.AppendLog(ctx, e); err != nil {
			s.log.Warn("tenant event not stored", "log_id", e.ID, "type", e.Type, "err", err)
		}
		cancel()
	}
}

// Flush waits (until ctx ends) until every event Emit accepted before the call has been
// mirrored to the process log and appended to the store (or given up on with a warning),
// without waiting out the batching delay. Tests call it, instead of polling the store or
// sleeping, before they read the tenant log or assert that an event was not written.
func (s *Sink) Flush(ctx context.Context) error { return s.q.flush(ctx) }

// Close stops accepting events and waits (until ctx ends) for queued ones to be written.
func (s *Sink) Close(ctx context.Context) error { return s.q.close(ctx) }

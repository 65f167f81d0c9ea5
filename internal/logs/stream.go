package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// Record is a tenant log event as Sesame prints and streams it: Auth0's field names
// (log_id, date, type, ...), dates in ISO 8601 with milliseconds, as Auth0's log streams send
// them.
type Record struct {
	LogID        string         `json:"log_id"`
	Date         string         `json:"date"`
	Type         string         `json:"type"`
	Description  string         `json:"description,omitempty"`
	ClientID     string         `json:"client_id,omitempty"`
	ClientName   string         `json:"client_name,omitempty"`
	Connection   string         `json:"connection,omitempty"`
	ConnectionID string         `json:"connection_id,omitempty"`
	IP           string         `json:"ip,omitempty"`
	ClientIP     string         `json:"client_ip,omitempty"`
	UserAgent    string         `json:"user_agent,omitempty"`
	UserID       string         `json:"user_id,omitempty"`
	UserName     string         `json:"user_name,omitempty"`
	Audience     string         `json:"audience,omitempty"`
	Scope        string         `json:"scope,omitempty"`
	Details      map[string]any `json:"details,omitempty"`
}

// RecordOf returns e as a Record.
func RecordOf(e store.LogEvent) Record {
	date := ""
	if !e.Date.IsZero() {
		date = e.Date.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return Record{LogID: e.ID, Date: date, Type: e.Type, Description: e.Description, ClientID: e.ClientID,
		ClientName: e.ClientName, Connection: e.Connection, ConnectionID: e.ConnectionID, IP: e.IP, ClientIP: e.ClientIP,
		UserAgent: e.UserAgent, UserID: e.UserID, UserName: e.UserName, Audience: e.Audience, Scope: e.Scope, Details: e.Details}
}

// secretKey reports whether a details key names something that must never leave the server.
// Callers put only identifiers in events; this is the second line, for a stream that leaves
// the machine: a key that smells of a credential is dropped whatever its value.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "secret", "token", "assertion", "otp", "recovery", "ticket", "authorization", "cookie"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return k == "code" || k == "oob_code" || k == "binding_code"
}

// scrub returns details without credential-like keys, at any depth.
func scrub(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, v := range t {
			if !secretKey(k) {
				out[k] = scrub(v)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			out[i] = scrub(v)
		}
		return out
	}
	return v
}

// Poster delivers one batch of events, as JSON lines, to a remote collector (package
// logs/webhook posts it over HTTP). It lives behind an interface so that this service stays
// below the HTTP layer.
type Poster interface {
	Post(ctx context.Context, jsonLines []byte) error
}

// StreamOptions configures a Stream. At least one of Writer and Webhook is set.
type StreamOptions struct {
	// Writer gets one JSON line per event (stdout in the server).
	Writer io.Writer
	// Webhook gets batches of events as JSON lines.
	Webhook Poster
	// Logger reports delivery failures (never the events themselves).
	Logger *slog.Logger
}

// Stream sends every tenant log event, as it happens, to stdout or a webhook as JSON lines: the
// equivalent of Auth0's log streams, for a log pipeline that should not poll the database. Like
// the Sink, it never blocks a request: events go through a bounded queue, and when the
// destination cannot keep up they are dropped and counted; the database keeps them all.
type Stream struct {
	o StreamOptions
	q *queue
}

// maxStreamBatch bounds the events of one webhook POST.
const maxStreamBatch = 500

// NewStream starts a stream.
func NewStream(o StreamOptions) *Stream {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Stream{o: o, q: newQueue()}
	var buf bytes.Buffer
	go s.q.drain(maxStreamBatch, 0, func(batch []store.LogEvent) { s.send(&buf, batch) })
	return s
}

// Tee makes the sink hand every event it accepts to fn as well (a Stream's Send). Call it
// before the first Emit; fn must not block.
func (s *Sink) Tee(fn func(store.LogEvent)) { s.tee = fn }

// Send queues e without blocking.
func (s *Stream) Send(e store.LogEvent) { s.q.put(e) }

// Dropped reports how many events the stream lost to a full queue or a failed delivery.
func (s *Stream) Dropped() int64 { return s.q.dropped.Load() }

// Queued reports how many events wait to be sent now.
func (s *Stream) Queued() int { return len(s.q.ch) }

// send writes one batch (what was queued, up to maxStreamBatch) as JSON lines to the stream's
// destinations; buf is reused from batch to batch.
func (s *Stream) send(buf *bytes.Buffer, batch []store.LogEvent) {
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	for _, e := range batch {
		r := RecordOf(e)
		if r.Details != nil {
			r.Details, _ = scrub(map[string]any(r.Details)).(map[string]any)
		}
		if err := enc.Encode(r); err != nil { // one line per event
			s.o.Logger.Warn("tenant event not streamed", "log_id", e.ID, "err", err)
		}
	}
	if s.o.Writer != nil {
		if _, err := s.o.Writer.Write(buf.Bytes()); err != nil {
			s.o.Logger.Warn("tenant events not written to the stream", "count", len(batch), "err", err)
		}
	}
	if s.o.Webhook != nil {
		if err := s.post(buf.Bytes()); err != nil {
			s.q.dropped.Add(int64(len(batch)))
			s.o.Logger.Warn("tenant events not delivered to the log stream webhook", "count", len(batch), "err", err)
		}
	}
}

func (s *Stream) post(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return s.o.Webhook.Post(ctx, body)
}

// Flush waits (until ctx ends) until every event Send accepted before the call has been
// written to the stream's destinations (or counted as dropped when delivery failed). Events a
// Sink tees to the stream reach it within Emit, so Flush after the sink's Emit covers them.
func (s *Stream) Flush(ctx context.Context) error { return s.q.flush(ctx) }

// Close stops accepting events and waits (until ctx ends) for queued ones to be sent.
func (s *Stream) Close(ctx context.Context) error { return s.q.close(ctx) }

package oauthserver

import (
	"context"
	"errors"
	"time"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
)

// Observer is told what each token request did, for metrics (package metrics supplies one;
// nil means nobody listens). It is called on the request's goroutine after the answer is
// written, so it must not block. Every field is drawn from a bounded set: no user, email or IP.
type Observer interface {
	ObserveToken(TokenOutcome)
}

// TokenOutcome is one token request's result.
type TokenOutcome struct {
	// GrantType is a grant type this server supports, or "unsupported" (the request's own
	// string is the caller's to choose, so it never becomes a label).
	GrantType string
	// ClientID is the authenticated client, or "" when authentication did not succeed (an
	// unauthenticated client_id is the caller's to choose too).
	ClientID string
	// ErrorCode is the OAuth error code sent, "" on success.
	ErrorCode string
	// Rotated is a refresh token redeemed and replaced; Reused a replayed refresh token whose
	// family was revoked (RFC 9700 §4.14.2).
	Rotated, Reused bool
	// Hooks are the Rules and Actions that ran.
	Hooks []HookRun
}

// HookRun is one Rule or Action execution.
type HookRun struct {
	// Kind is "rule" or "action"; Outcome "ok", "error" or "timeout".
	Kind, Outcome string
	Duration      time.Duration
}

// observe hands the request's outcome to the observer.
func (s *Server) observe(ex *exchange, err error) {
	if s.observer == nil {
		return
	}
	o := TokenOutcome{GrantType: "unsupported"}
	if _, ok := s.grants[ex.grantType]; ok {
		o.GrantType = ex.grantType
	}
	// authenticateClient leaves ex.client empty unless the client proved who it is.
	o.ClientID = ex.client.ClientID
	if err != nil {
		o.ErrorCode = asError(err).Code
		o.Reused = errors.Is(err, store.ErrReused)
	} else {
		o.Rotated = ex.grantType == grantRefreshToken
	}
	timedOut := errors.Is(err, hooks.ErrTimeout)
	for i, r := range ex.hookRuns {
		run := HookRun{Kind: r.Kind, Outcome: "ok", Duration: r.Duration}
		if r.Error != "" {
			run.Outcome = "error"
			if timedOut && i == len(ex.hookRuns)-1 {
				run.Outcome = "timeout"
			}
		}
		o.Hooks = append(o.Hooks, run)
	}
	s.observer.ObserveToken(o)
}

// Tracer opens a span for one stage of the token pipeline, a child of the request's span in
// ctx (package tracing supplies an OpenTelemetry one; nil means no tracing). end records the
// stage's error, if any, and closes the span.
type Tracer interface {
	Start(ctx context.Context, name string) (_ context.Context, end func(error))
}

// stage runs fn as the pipeline stage name, in a span when tracing is on.
func (s *Server) stage(ctx context.Context, name string, fn func(context.Context) error) error {
	if s.tracer == nil {
		return fn(ctx)
	}
	ctx, end := s.tracer.Start(ctx, name)
	err := fn(ctx)
	end(err)
	return err
}

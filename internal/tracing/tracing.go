// Package tracing exports OpenTelemetry traces of a Sesame node over OTLP/HTTP, off unless
// otlp_endpoint is set: one server span per HTTP request (continuing a caller's W3C
// traceparent), with child spans for the token pipeline's stages (client authentication, the
// grant with its directory call and password hash, Rules and Actions, issuance) through the
// oauthserver.Tracer hook, and the trace id in the request's log line.
//
// Spans carry no user data: names are fixed stage names and endpoint patterns, and a failed
// stage records only the Go type of its error.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/sesameauth/sesame/internal/metrics"
	"github.com/sesameauth/sesame/internal/oauthserver"
)

// Tracing is a node's tracer provider and its HTTP middleware.
type Tracing struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	log    *slog.Logger
	prop   propagation.TextMapPropagator
}

// New exports spans to the OTLP/HTTP collector at endpoint (http://collector:4318; the
// /v1/traces path is added when the URL has none), in batches.
func New(ctx context.Context, endpoint, version string, log *slog.Logger) (*Tracing, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("otlp_endpoint: %w", err)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces" // OTLP/HTTP's path for traces
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("otlp_endpoint: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "sesame"), attribute.String("service.version", version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{tp: tp, tracer: tp.Tracer("github.com/sesameauth/sesame"), log: log,
		prop: propagation.TraceContext{}}, nil
}

var _ oauthserver.Tracer = (*Tracing)(nil)

// Start opens a child span of ctx's (oauthserver.Tracer).
func (t *Tracing) Start(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, span := t.tracer.Start(ctx, name)
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, "failed")
			span.SetAttributes(attribute.String("error.type", fmt.Sprintf("%T", err)))
		}
		span.End()
	}
}

// Middleware opens the request's server span, and logs one line per request with its trace id.
func (t *Tracing) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ep := metrics.Endpoint(r.URL.Path)
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method+" "+ep, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", ep)))
		sw := metrics.NewStatusWriter(w)
		defer func() {
			status := sw.Status()
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			span.End()
			t.log.Info("request", "method", r.Method, "endpoint", ep, "status", status,
				"duration_ms", float64(time.Since(start).Microseconds())/1000,
				"trace_id", span.SpanContext().TraceID().String())
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// Shutdown exports what is buffered (until ctx ends) and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.tp.Shutdown(ctx) }

// ForceFlush exports what is buffered now (tests).
func (t *Tracing) ForceFlush(ctx context.Context) error { return t.tp.ForceFlush(ctx) }

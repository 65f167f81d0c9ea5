package server

import (
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/sesameauth/sesame/internal/metrics"
	"github.com/sesameauth/sesame/internal/oauthserver"
)

// observer is the token pipeline's metrics hook, or nil without metrics (a nil *Metrics in
// the interface would not compare equal to nil).
func (s *Server) observer() oauthserver.Observer {
	if s.Metrics == nil {
		return nil
	}
	return s.Metrics
}

// tracer is the token pipeline's tracing hook, or nil without tracing.
func (s *Server) tracer() oauthserver.Tracer {
	if s.Tracing == nil {
		return nil
	}
	return s.Tracing
}

// buildVersion is the main module's version, for the traces' service.version.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return "unknown"
}

// startMetrics serves /metrics on addr until Close, on a listener of its own: the public
// listener never answers it, so the figures stay inside the operator's network.
func (s *Server) startMetrics(addr string, now func() time.Time) error {
	src := metrics.Sources{
		Hasher:   s.Hasher.Stats,
		Store:    s.Store.Stats,
		LogQueue: s.Events,
		Keys:     s.Store.ListSigningKeys,
		Now:      now,
	}
	if s.Stream != nil {
		src.StreamQueue = s.Stream
	}
	s.Metrics.Register(src)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics_addr: %w", err)
	}
	s.metricsAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	s.log.Info("metrics listening", "addr", s.metricsAddr)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(ln)
	}()
	go func() {
		defer s.wg.Done()
		<-s.stop
		_ = srv.Close()
	}()
	return nil
}

// MetricsAddr is the address /metrics answers on, "" without metrics.
func (s *Server) MetricsAddr() string { return s.metricsAddr }

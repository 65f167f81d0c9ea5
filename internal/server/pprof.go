package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// ErrPprofNotLoopback is returned by Open when pprof_addr is not a loopback address: profiles
// expose memory contents and must never be reachable from the network.
var ErrPprofNotLoopback = errors.New("pprof_addr must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)")

// startPprof serves net/http/pprof on addr (loopback only) until Close.
func (s *Server) startPprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("pprof_addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return ErrPprofNotLoopback
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof_addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.log.Info("pprof listening", "addr", ln.Addr().String())
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

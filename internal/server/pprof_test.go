package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
)

func TestPprofAddr(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		wantErr error
	}{
		{name: "all interfaces is refused", addr: "0.0.0.0:0", wantErr: ErrPprofNotLoopback},
		{name: "a public name is refused", addr: "example.com:6060", wantErr: ErrPprofNotLoopback},
		{name: "loopback serves profiles", addr: "127.0.0.1:0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if tc.wantErr == nil {
				// Pick a free loopback port, then hand it to the server.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = ln.Addr().String()
				ln.Close()
			}
			cfg := config.DefaultServer()
			cfg.DB = "sqlite://" + filepath.Join(t.TempDir(), "s.db")
			cfg.PprofAddr = addr
			cfg.Normalize()
			srv, err := Open(t.Context(), cfg, Options{KEK: seal.NewKEK(), Migrate: true,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Open: got %v want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			res, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET /debug/pprof/cmdline: got %d want 200", res.StatusCode)
			}
		})
	}
}

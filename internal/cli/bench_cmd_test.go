package cli_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sesameauth/sesame/internal/cli"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/server"
)

// TestBenchSetupAndRun runs `sesame bench --setup` against a real server on loopback sharing
// its SQLite file, as an operator would, and reads the JSON report.
func TestBenchSetupAndRun(t *testing.T) {
	dir := t.TempDir()
	kek := seal.NewKEK()
	kekFile := filepath.Join(dir, "kek")
	if err := os.WriteFile(kekFile, []byte(base64.StdEncoding.EncodeToString(kek)), 0o600); err != nil {
		t.Fatal(err)
	}
	dsn := "sqlite://" + filepath.Join(dir, "s.db")
	ts := httptest.NewUnstartedServer(nil)
	cfg := config.DefaultServer()
	cfg.DB, cfg.Addr = dsn, ts.Listener.Addr().String()
	cfg.PasswordHashMemoryKiB, cfg.PasswordHashIterations = 64, 1
	cfg.Normalize()
	srv, err := server.Open(t.Context(), cfg, server.Options{KEK: kek, Migrate: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })

	env := map[string]string{"SESAME_PASSWORD_HASH_MEMORY_KIB": "64", "SESAME_PASSWORD_HASH_ITERATIONS": "1"}
	root := cli.NewRoot(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"bench", "--db", dsn, "--kek-file", kekFile, "--setup", "--users", "5", "--url", ts.URL,
		"--scenario", "refresh", "--concurrency", "2", "--requests", "10", "--duration", "2s", "--no-floor", "--json", "--procs", "1"})
	procs := runtime.GOMAXPROCS(0)
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS after bench --procs 1: got %d, want it restored to %d", got, procs)
	}
	var rep struct {
		Scenario  string         `json:"scenario"`
		Requests  int            `json:"requests"`
		Successes int            `json:"successes"`
		Errors    map[string]int `json:"errors"`
		Server    *struct {
			PID int `json:"pid"`
		} `json:"server"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decoding %s: %v", out.String(), err)
	}
	if rep.Scenario != "refresh" || rep.Requests != 10 || rep.Successes != 10 || len(rep.Errors) != 0 {
		t.Errorf("got %+v, want refresh with 10 of 10 ok and no errors", rep)
	}
	if rep.Server == nil || rep.Server.PID != os.Getpid() {
		t.Errorf("server: got %+v, want this process (pid %d), found by its port", rep.Server, os.Getpid())
	}
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

const (
	gClientID = "graceful-client-0000000000000001"
	gSecret   = "graceful-secret-0123456789abcdef0123"
	gPassword = "Graceful user's password 42"
	gEmail    = "graceful@example.com"
)

// seed makes a SQLite database with one confidential client, one connection and one user.
func seed(t *testing.T, db string) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, "sqlite://"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	hash, err := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1}, 1).Hash(ctx, gPassword)
	for _, e := range []error{err,
		st.CreateResourceServer(ctx, store.ResourceServer{ID: store.NewID("", 12), Identifier: "https://api.graceful.test",
			AllowOfflineAccess: true, CreatedAt: now, UpdatedAt: now}),
		st.CreateClient(ctx, store.Client{ClientID: gClientID, Name: "Graceful", SecretHash: password.HashSecret(gSecret),
			TokenEndpointAuthMethod: "client_secret_post", GrantTypes: []string{"password", "refresh_token"},
			RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring"}, CreatedAt: now, UpdatedAt: now}),
		st.CreateConnection(ctx, store.Connection{ID: store.NewConnectionID(), Name: "db", Strategy: "auth0",
			EnabledClients: []string{gClientID}, CreatedAt: now, UpdatedAt: now}),
		st.CreateUser(ctx, store.User{ID: store.NewUserID(), Connection: "db", Email: gEmail, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}),
		st.UpdateTenant(ctx, func(tn *store.Tenant) error {
			tn.DefaultDirectory, tn.DefaultAudience = "db", "https://api.graceful.test"
			return nil
		}),
	} {
		if e != nil {
			t.Fatal(e)
		}
	}
}

// syncBuf is the child's stderr, read while it is written.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitLog waits until the log has a line containing every one of want, and returns it.
func waitLog(t *testing.T, log *syncBuf, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(log.String()))
	line:
		for sc.Scan() {
			for _, w := range want {
				if !strings.Contains(sc.Text(), w) {
					continue line
				}
			}
			return sc.Text()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q in:\n%s", want, log.String())
	return ""
}

func post(c *http.Client, base string, form url.Values) (int, map[string]any, http.Header, error) {
	res, err := c.PostForm(base+"/oauth/token", form)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return res.StatusCode, nil, res.Header, err
	}
	return res.StatusCode, body, res.Header, nil
}

// TestGracefulOperation builds the sesame binary and runs it as a process: SIGHUP reloads the
// rate limits and log level and names a changed setting it cannot take over; SIGTERM under a
// parallel load of refresh-token rotations (whose client, like a load balancer, stops sending
// once /readyz says the node is going away) answers every request it accepted, resets no
// connection, exits 0, and every answered request's tenant log event is in the database.
func TestGracefulOperation(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals: needs a Unix system")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sesame")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "s.db")
	seed(t, db)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(dir, "sesame.yaml")
	writeConf := func(extra string) {
		t.Helper()
		yaml := fmt.Sprintf("addr: %s\ndb: sqlite://%s\npassword_hash_memory_kib: 64\npassword_hash_iterations: 1\n"+
			"log_format: json\nshutdown_delay_seconds: 1\nshutdown_timeout_seconds: 10\n%s", addr, db, extra)
		if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConf("")
	var log syncBuf
	cmd := exec.Command(bin, "serve", "--config", conf)
	cmd.Env = append(os.Environ(), "SESAME_CONFIG=")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr
	waitLog(t, &log, "sesame listening")
	client := &http.Client{Timeout: 20 * time.Second}

	// SIGHUP: the rate limit changes at once; a changed tls setting is named, not applied.
	writeConf("rate_limit_ip_per_minute: 100000\nlog_level: debug\npprof_addr: 127.0.0.1:1\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line := waitLog(t, &log, "SIGHUP: config reloaded")
	if !strings.Contains(line, "rate_limit_ip_per_minute") || !strings.Contains(line, "log_level") {
		t.Errorf("reload line %q does not list the applied keys", line)
	}
	if line := waitLog(t, &log, "need a restart"); !strings.Contains(line, "pprof_addr") {
		t.Errorf("restart line %q does not name pprof_addr", line)
	}
	login := url.Values{"grant_type": {"password"}, "client_id": {gClientID}, "client_secret": {gSecret},
		"username": {gEmail}, "password": {gPassword}, "scope": {"offline_access"}}
	tokens := make([]string, 4)
	for i := range tokens {
		code, body, h, err := post(client, base, login)
		if err != nil || code != http.StatusOK {
			t.Fatalf("login: %d %v %v", code, body, err)
		}
		if got := h.Get("X-RateLimit-Limit"); got != "100000" {
			t.Fatalf("X-RateLimit-Limit after SIGHUP = %q, want 100000", got)
		}
		tokens[i], _ = body["refresh_token"].(string)
	}

	// The load balancer: polls /readyz and stops routing once it fails.
	var unready atomic.Bool
	go func() {
		for !unready.Load() {
			res, err := client.Get(base + "/readyz")
			if err != nil || res.StatusCode != http.StatusOK {
				unready.Store(true)
			}
			if res != nil {
				res.Body.Close()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	var ok atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(tokens))
	for _, rt := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 20 * time.Second} // its own keep-alive connections
			for !unready.Load() {
				code, body, _, err := post(c, base, url.Values{"grant_type": {"refresh_token"}, "client_id": {gClientID},
					"client_secret": {gSecret}, "refresh_token": {rt}})
				if err != nil || code != http.StatusOK {
					errs <- fmt.Errorf("refresh: %d %v %v", code, body, err)
					return
				}
				rt, _ = body["refresh_token"].(string)
				ok.Add(1)
			}
		}()
	}
	for ok.Load() < 40 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30 s after SIGTERM\n%s", log.String())
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var ne net.Error
		if errors.As(err, &ne) || strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "EOF") {
			t.Errorf("a request's connection failed during shutdown: %v", err)
		} else {
			t.Errorf("during shutdown: %v", err)
		}
	}
	if strings.Contains(log.String(), "panic") {
		t.Errorf("log has a panic:\n%s", log.String())
	}

	// Every answered rotation is in the tenant log: nothing was left in the queue.
	st, err := sqlstore.Open(t.Context(), "sqlite://"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListLogs(t.Context(), store.LogFilter{Type: "sertft", Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != ok.Load() {
		t.Errorf("tenant log has %d refresh events, the clients got %d tokens", len(evs), ok.Load())
	}
	t.Logf("%d rotations answered, then exit 0", ok.Load())
	if t.Failed() {
		t.Log(log.String())
	}
}

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// login returns a fresh refresh token for the stream user.
func login(t testing.TB, base string) (string, error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {streamClientID}, "client_secret": {streamSecret},
		"username": {"streamer@example.com"}, "password": {streamPassword}, "scope": {"offline_access"}}
	code, body := postForm(base, form)
	if code != http.StatusOK {
		return "", fmt.Errorf("login: %d %v", code, body)
	}
	rt, _ := body["refresh_token"].(string)
	if rt == "" {
		return "", errors.New("login: no refresh token")
	}
	return rt, nil
}

// refresh redeems rt and returns the status and the new refresh token.
func refresh(base, rt string) (int, string) {
	code, body := postForm(base, url.Values{"grant_type": {"refresh_token"}, "client_id": {streamClientID},
		"client_secret": {streamSecret}, "refresh_token": {rt}})
	next, _ := body["refresh_token"].(string)
	return code, next
}

// TestBackupUnderLoadRestores takes a backup while parallel clients log in and rotate refresh
// tokens, restores it, and serves the restored database: every refresh token issued before
// the snapshot works exactly once, a token issued after it does not exist there, the schema
// is current and integrity_check passes. Restoring over the live database is refused.
func TestBackupUnderLoadRestores(t *testing.T) {
	kek := seal.NewKEK()
	srv, ts := openWith(t, nil, Options{KEK: kek})
	ctx := t.Context()
	path, _ := sqlstore.SQLitePath(srv.Config.DB)

	// Logins of one user from one IP are limited to 20 a burst (guard.SameUserIP): 12 tokens
	// before the snapshot, 4 for the load, 1 after.
	before := make([]string, 12)
	for i := range before {
		rt, err := login(t, ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		before[i] = rt
	}

	// Load: each worker rotates a refresh token of its own as fast as it can until stopped.
	stop := make(chan struct{})
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		rt, err := login(t, ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var code int
				if code, rt = refresh(ts.URL, rt); code != http.StatusOK {
					errs <- fmt.Errorf("refresh under load: %d", code)
					return
				}
				done.Add(1)
			}
		}()
	}
	waitFor := func(n int64) {
		t.Helper()
		for done.Load() < n {
			select {
			case err := <-errs:
				t.Fatalf("load: %v", err)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitFor(20)
	out := filepath.Join(t.TempDir(), "snapshot.db")
	if err := sqlstore.Backup(ctx, path, out); err != nil {
		t.Fatalf("backup under load: %v", err)
	}
	after, err := login(t, ts.URL) // issued once the snapshot is taken
	if err != nil {
		t.Fatal(err)
	}
	waitFor(done.Load() + 20)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("load: %v", err)
	}

	// The server still has its database open: restoring over it is refused, and nothing moves.
	if err := sqlstore.Restore(ctx, out, path); !errors.Is(err, sqlstore.ErrInUse) {
		t.Fatalf("restore over a running server's database: %v, want ErrInUse", err)
	}
	if code, _ := refresh(ts.URL, after); code != http.StatusOK {
		t.Fatalf("live database after the refused restore: refresh %d", code)
	}

	restored := filepath.Join(t.TempDir(), "restored.db")
	if err := sqlstore.Restore(ctx, out, restored); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if err := sqlstore.CheckFile(ctx, restored); err != nil {
		t.Fatal(err)
	}
	cfg := config.DefaultServer()
	cfg.DB = "sqlite://" + restored
	cfg.PasswordHashMemoryKiB, cfg.PasswordHashIterations = 64, 1
	ts2 := httptest.NewUnstartedServer(nil)
	cfg.Addr = ts2.Listener.Addr().String()
	cfg.Normalize()
	// No migration: a snapshot of the current schema must be usable as it is.
	srv2, err := Open(ctx, cfg, Options{KEK: kek, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("serving the restored database: %v", err)
	}
	ts2.Config.Handler = srv2.Handler()
	ts2.Start()
	t.Cleanup(func() { ts2.Close(); srv2.Close() })
	if ok, err := srv2.Store.SchemaUpToDate(ctx); err != nil || !ok {
		t.Fatalf("restored schema up to date: %v %v", ok, err)
	}
	for i, rt := range before {
		if code, _ := refresh(ts2.URL, rt); code != http.StatusOK {
			t.Errorf("token %d issued before the snapshot: first refresh %d, want 200", i, code)
		}
		if code, _ := refresh(ts2.URL, rt); code != http.StatusForbidden {
			t.Errorf("token %d issued before the snapshot: second refresh %d, want 403 (used once)", i, code)
		}
	}
	if code, _ := refresh(ts2.URL, after); code != http.StatusForbidden {
		t.Errorf("token issued after the snapshot: refresh %d in the restored database, want 403", code)
	}
}

// postForm posts a token request without failing the test (load goroutines call it).
func postForm(base string, form url.Values) (int, map[string]any) {
	res, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

package server

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/hooks"
)

// TestReload: the Actions' fetch allowlist and the rate limits change on a running server; a
// changed setting that needs a restart is named and not applied; an allowlist that does not
// parse changes nothing.
func TestReload(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("pong")) }))
	defer api.Close()
	srv, _ := openWith(t, nil, Options{})
	ctx := t.Context()
	get := hooks.FetchRequest{Method: "GET", URL: api.URL}
	if _, err := srv.fetch.Fetch(ctx, get); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("fetch before any allowlist: %v, want refused", err)
	}

	next := srv.Config
	next.ActionsFetchAllow = strings.TrimPrefix(api.URL, "http://")
	next.RateLimitIPPerMinute = 50
	next.LogFormat = "json"
	applied, restart, err := srv.Reload(next)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, []string{"rate_limit_ip_per_minute", "actions_fetch_allow"}) || !slices.Equal(restart, []string{"log_format"}) {
		t.Errorf("Reload: applied %v, need restart %v", applied, restart)
	}
	res, err := srv.fetch.Fetch(ctx, get)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("fetch after the reload allowed %s: %+v %v", next.ActionsFetchAllow, res, err)
	}
	if srv.Config.LogFormat == "json" || srv.Config.RateLimitIPPerMinute != 50 {
		t.Errorf("config after reload: log_format %q (not reloadable), rate limit %d", srv.Config.LogFormat, srv.Config.RateLimitIPPerMinute)
	}

	bad := srv.Config
	bad.ActionsFetchAllow = "http://not a host/"
	bad.RateLimitIPPerMinute = 1
	if _, _, err := srv.Reload(bad); err == nil {
		t.Fatal("Reload with a bad allowlist: no error")
	}
	if srv.Config.RateLimitIPPerMinute != 50 {
		t.Errorf("a refused reload changed the rate limit to %d", srv.Config.RateLimitIPPerMinute)
	}
	if _, err := srv.fetch.Fetch(ctx, get); err != nil {
		t.Errorf("a refused reload changed the allowlist: %v", err)
	}
}

package server

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// scrape reads /metrics from the server's metrics listener, as Prometheus would.
func scrape(t *testing.T, srv *Server) map[string]*dto.MetricFamily {
	t.Helper()
	if srv.MetricsAddr() == "" {
		t.Fatal("no metrics listener")
	}
	res, err := http.Get("http://" + srv.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value sums the samples of family name whose labels include want (counter, gauge, or a
// histogram's count).
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}

// TestMetricsMove drives a real server through a password grant, a refresh, a refresh-token
// replay, a wrong password and a failing Action, then scrapes /metrics and checks that each
// counter moved by what happened, and that no label anywhere carries the user's id, email,
// name or an IP address.
func TestMetricsMove(t *testing.T) {
	// The clock moves past the hooks' recheck interval instead of the test sleeping.
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	srv, ts := openWith(t, func(c *config.Server) { c.MetricsAddr = "127.0.0.1:0" }, Options{Now: now})
	ctx := t.Context()
	before := scrape(t, srv)
	if got := value(before, "sesame_build_info", nil); got != 1 {
		t.Errorf("sesame_build_info = %v, want 1", got)
	}
	if got := value(before, "sesame_password_hash_capacity", nil); got < 1 {
		t.Errorf("sesame_password_hash_capacity = %v, want the pool size", got)
	}
	if got := value(before, "sesame_signing_key_age_seconds", map[string]string{"alg": "RS256"}); got < 0 {
		t.Errorf("signing key age = %v", got)
	}
	if _, ok := before["sesame_signing_key_age_seconds"]; !ok {
		t.Error("no sesame_signing_key_age_seconds")
	}

	login := url.Values{"grant_type": {"password"}, "client_id": {streamClientID}, "client_secret": {streamSecret},
		"username": {"streamer@example.com"}, "password": {streamPassword}, "scope": {"openid offline_access"}}
	code, body := tokenRequest(t, ts.URL, login)
	if code != http.StatusOK {
		t.Fatalf("login: %d %v", code, body)
	}
	rt, _ := body["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {streamClientID}, "client_secret": {streamSecret},
		"refresh_token": {rt}}
	if code, body := tokenRequest(t, ts.URL, refresh); code != http.StatusOK {
		t.Fatalf("refresh: %d %v", code, body)
	}
	if code, body := tokenRequest(t, ts.URL, refresh); code != http.StatusForbidden || body["error"] != "invalid_grant" {
		t.Fatalf("replayed refresh token: %d %v, want 403 invalid_grant", code, body)
	}
	wrong := url.Values{}
	for k, v := range login {
		wrong[k] = v
	}
	wrong.Set("password", "not the password")
	if code, _ := tokenRequest(t, ts.URL, wrong); code != http.StatusForbidden {
		t.Fatalf("wrong password: %d, want 403", code)
	}

	// An Action that throws fails the next login.
	name, trigger, src := "boom", []string{store.TriggerPostLogin},
		`exports.onExecutePostLogin = async (event, api) => { throw new Error("kaput"); };`
	if _, err := srv.Admin.CreateAction(ctx, admin.ActionChange{Name: &name, Code: &src, SupportedTriggers: &trigger}, true); err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.SetTriggerBindings(ctx, store.TriggerPostLogin, []store.TriggerBinding{{ActionName: name}}); err != nil {
		t.Fatal(err)
	}
	skew.Store(int64(5 * time.Second))
	if code, body := tokenRequest(t, ts.URL, login); code == http.StatusOK {
		t.Fatalf("login through a throwing Action: %d %v, want an error", code, body)
	}
	// Brute-force protection at 2 failures blocks the user from this IP: a limit_wc event.
	ap := guard.Defaults()
	ap.BruteForce.MaxAttempts = 2
	if err := srv.Store.UpdateTenant(ctx, func(tn *store.Tenant) error { tn.AttackProtection = &ap; return nil }); err != nil {
		t.Fatal(err)
	}
	skew.Store(int64(10 * time.Second)) // past the node's tenant cache
	for range 2 {
		tokenRequest(t, ts.URL, wrong)
	}
	if code, _ := tokenRequest(t, ts.URL, wrong); code != http.StatusTooManyRequests {
		t.Fatalf("blocked login: %d, want 429", code)
	}
	flush(t, srv)

	after := scrape(t, srv)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"sesame_token_requests_total", map[string]string{"grant_type": "password", "client_id": streamClientID, "outcome": "success"}, 1},
		{"sesame_token_requests_total", map[string]string{"grant_type": "password", "error": "invalid_grant"}, 3},
		{"sesame_token_requests_total", map[string]string{"grant_type": "refresh_token", "outcome": "success"}, 1},
		{"sesame_token_requests_total", map[string]string{"grant_type": "refresh_token", "error": "invalid_grant"}, 1},
		{"sesame_refresh_rotations_total", nil, 1},
		{"sesame_refresh_reuse_detections_total", nil, 1},
		{"sesame_tenant_log_events_total", map[string]string{"type": "ferrt"}, 1},
		{"sesame_tenant_log_events_total", map[string]string{"type": "fp"}, 3},
		{"sesame_tenant_log_events_total", map[string]string{"type": "limit_wc"}, 1},
		{"sesame_attack_protection_total", map[string]string{"kind": "brute_force"}, 1},
		{"sesame_token_requests_total", map[string]string{"grant_type": "password", "error": "too_many_attempts"}, 1},
		{"sesame_hook_executions_total", map[string]string{"kind": "action", "outcome": "error"}, 1},
		{"sesame_hook_execution_duration_seconds", map[string]string{"kind": "action"}, 1},
		{"sesame_http_requests_total", map[string]string{"endpoint": "/oauth/token", "code": "200"}, 2},
		{"sesame_http_request_duration_seconds", map[string]string{"endpoint": "/oauth/token"}, 8},
	} {
		if got := value(after, c.name, c.labels) - value(before, c.name, c.labels); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := value(after, "sesame_store_write_transaction_duration_seconds", nil); got < 1 {
		t.Errorf("write transactions counted: %v, want some", got)
	}
	if got := value(after, "sesame_tenant_log_dropped_total", map[string]string{"queue": "store"}); got != 0 {
		t.Errorf("tenant log events dropped: %v", got)
	}

	// No label value is anything that identifies a person or a network address.
	u, err := srv.Store.FindUser(ctx, "db", "streamer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{u.ID, "streamer@example.com", "streamer", "127.0.0.1", "::1", streamPassword, rt}
	for name, f := range after {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				for _, bad := range forbidden {
					if v != "" && strings.Contains(v, bad) {
						t.Errorf("%s{%s=%q} carries %q", name, l.GetName(), v, bad)
					}
				}
				if _, err := netip.ParseAddr(v); err == nil {
					t.Errorf("%s{%s=%q} is an IP address", name, l.GetName(), v)
				}
				if l.GetName() == "user_id" || l.GetName() == "ip" || l.GetName() == "email" {
					t.Errorf("%s has a %s label", name, l.GetName())
				}
			}
		}
	}
}

// TestMetricsOffByDefault: without metrics_addr there is no listener and the public
// listener does not answer /metrics.
func TestMetricsOffByDefault(t *testing.T) {
	srv, ts := openWith(t, nil, Options{})
	if srv.MetricsAddr() != "" || srv.Metrics != nil {
		t.Fatalf("metrics on without metrics_addr: %q", srv.MetricsAddr())
	}
	res, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("public GET /metrics: %d, want 404", res.StatusCode)
	}
}

package loadgen_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/loadgen"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/server"
)

var cheap = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// startBench runs a real server (SQLite, cheap hashing) on loopback with a bench tenant made
// by Setup.
func startBench(t *testing.T, users int) (loadgen.Target, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg := config.DefaultServer()
	cfg.DB = "sqlite://" + filepath.Join(t.TempDir(), "bench.db")
	cfg.Addr = ts.Listener.Addr().String()
	cfg.PasswordHashMemoryKiB, cfg.PasswordHashIterations = cheap.MemoryKiB, cheap.Iterations
	cfg.Normalize()
	srv, err := server.Open(t.Context(), cfg, server.Options{KEK: seal.NewKEK(), Migrate: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	svc := &admin.Service{Store: srv.Store, Hasher: srv.Hasher, Box: srv.Box, Keys: srv.Keys}
	target, err := loadgen.Setup(t.Context(), svc, srv.Store, loadgen.SetupOptions{URL: ts.URL, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	return target, ts
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		mutate     func(*loadgen.Target)
		opts       loadgen.Options
		wantOK     int
		wantErrors map[string]int
		wantKinds  map[string]int
	}{
		{name: "password grant", opts: loadgen.Options{Scenario: "password", Concurrency: 4, MaxRequests: 24},
			wantOK: 24, wantErrors: map[string]int{}, wantKinds: map[string]int{"password": 24}},
		{name: "wrong password is invalid_grant", mutate: func(t *loadgen.Target) {
			for i := range t.Users {
				t.Users[i].Password += "-wrong"
			}
		}, opts: loadgen.Options{Scenario: "password", Concurrency: 3, MaxRequests: 15},
			wantOK: 0, wantErrors: map[string]int{"invalid_grant": 15}, wantKinds: map[string]int{}},
		{name: "password-realm", opts: loadgen.Options{Scenario: "realm", Concurrency: 2, MaxRequests: 10},
			wantOK: 10, wantErrors: map[string]int{}, wantKinds: map[string]int{"realm": 10}},
		{name: "unknown realm is an OAuth error", mutate: func(t *loadgen.Target) { t.Realm = "No-Such-Connection" },
			opts:   loadgen.Options{Scenario: "realm", Concurrency: 2, MaxRequests: 6},
			wantOK: 0, wantErrors: map[string]int{"invalid_request": 6}, wantKinds: map[string]int{}},
		{name: "refresh with rotation", opts: loadgen.Options{Scenario: "refresh", Concurrency: 4, MaxRequests: 40},
			wantOK: 40, wantErrors: map[string]int{}, wantKinds: map[string]int{"refresh": 40}},
		{name: "refresh by private_key_jwt client", opts: loadgen.Options{Scenario: "assertion", Concurrency: 2, MaxRequests: 12},
			wantOK: 12, wantErrors: map[string]int{}, wantKinds: map[string]int{"assertion": 12}},
		{name: "userinfo", opts: loadgen.Options{Scenario: "userinfo", Concurrency: 2, MaxRequests: 12},
			wantOK: 12, wantErrors: map[string]int{}, wantKinds: map[string]int{"userinfo": 12}},
		{name: "nothing listening is a transport error", mutate: func(t *loadgen.Target) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				panic(err)
			}
			t.URL = "http://" + ln.Addr().String() + "/"
			ln.Close()
		}, opts: loadgen.Options{Scenario: "password", Concurrency: 2, MaxRequests: 4},
			wantOK: 0, wantErrors: map[string]int{"transport": 4}, wantKinds: map[string]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, _ := startBench(t, 20)
			if tc.mutate != nil {
				tc.mutate(&target)
			}
			tc.opts.Duration = 3 * time.Second
			res, err := loadgen.Run(t.Context(), target, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Successes != tc.wantOK {
				t.Errorf("successes: got %d want %d (errors %v)", res.Successes, tc.wantOK, res.Errors)
			}
			if diff := cmp.Diff(tc.wantErrors, res.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantKinds, res.Kinds); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
			if res.Requests != tc.opts.MaxRequests {
				t.Errorf("requests: got %d want %d", res.Requests, tc.opts.MaxRequests)
			}
			if res.Relogins != 0 {
				t.Errorf("re-logins: got %d want 0", res.Relogins)
			}
			if tc.wantOK > 0 && (res.Latency.P50 <= 0 || res.Latency.P99 < res.Latency.P50 || res.Latency.Max < res.Latency.P99) {
				t.Errorf("latency: got %+v, want 0 < p50 <= p99 <= max", res.Latency)
			}
		})
	}
}

func TestRunRateMode(t *testing.T) {
	target, _ := startBench(t, 10)
	res, err := loadgen.Run(t.Context(), target, loadgen.Options{Scenario: "refresh", Concurrency: 4, Rate: 40,
		Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// 40/s for half a second schedules exactly 20 requests (one at t=0), however late the
	// scheduler wakes on a loaded machine.
	if got := res.Requests + res.Dropped; got != 20 {
		t.Errorf("scheduled: got %d want 20", got)
	}
	if res.Mode != "rate" || res.Successes != res.Requests {
		t.Errorf("got mode %q, %d of %d ok (errors %v); want rate, all ok", res.Mode, res.Successes, res.Requests, res.Errors)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	target, _ := startBench(t, 1)
	tests := []struct {
		name string
		opts loadgen.Options
	}{
		{name: "unknown scenario", opts: loadgen.Options{Scenario: "implicit"}},
		{name: "duration above an hour", opts: loadgen.Options{Scenario: "password", Duration: 2 * time.Hour}},
		{name: "negative rate", opts: loadgen.Options{Scenario: "password", Rate: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadgen.Run(t.Context(), target, tc.opts); err == nil {
				t.Error("got no error, want ErrBadOptions")
			}
		})
	}
}

// TestReportJSON runs a short password load, measures the floor and samples this process (the
// in-process server's), and checks the fields `sesame bench --json` prints.
func TestReportJSON(t *testing.T) {
	target, ts := startBench(t, 10)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	pid, err := loadgen.FindListener(p)
	if err != nil {
		t.Fatal(err)
	}
	if pid != os.Getpid() {
		t.Fatalf("listener pid: got %d want %d", pid, os.Getpid())
	}
	core, err := server.OpenScratchCore(t.Context(), cheap, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Store.Close(); core.LegacyDBs.Close() })
	floor, err := loadgen.MeasureFloor(t.Context(), core.Hasher, core.Keys, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// The floor measures the hasher and keys server.OpenCore builds: the configured cost, and
	// a signature and verification for every algorithm.
	if floor.HashParams != cheap || floor.Hash <= 0 {
		t.Errorf("floor hash: got %+v in %v, want %+v measured", floor.HashParams, floor.Hash, cheap)
	}
	for _, alg := range loadgen.FloorAlgs {
		if floor.Sign[alg] <= 0 || floor.Verify[alg] <= 0 {
			t.Errorf("floor %s: got sign %v verify %v, want both measured", alg, floor.Sign[alg], floor.Verify[alg])
		}
	}
	before, err := loadgen.SampleProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadgen.Run(t.Context(), target, loadgen.Options{Scenario: "password", Concurrency: 2, MaxRequests: 20, Duration: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	after, err := loadgen.SampleProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	rep := loadgen.NewReport(res, &floor, "RS256", "openid profile email", loadgen.ServerStatsOf(pid, before, after, res.Elapsed, false))
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]string{
		{"scenario"}, {"mode"}, {"concurrency"}, {"requests"}, {"successes"}, {"errors"}, {"transport_errors"},
		{"throughput_rps"}, {"elapsed_s"}, {"latency_ms", "p50"}, {"latency_ms", "p90"}, {"latency_ms", "p99"},
		{"latency_ms", "max"}, {"server", "cpu_seconds"}, {"server", "cpu_ms_per_request"}, {"server", "peak_rss_mib"}, {"floor", "hash_ms"},
		{"floor", "sign_ms", "RS256"}, {"floor", "sign_ms", "ES256"}, {"floor", "sign_ms", "EdDSA"},
		{"floor", "sign_ms", "HS256"}, {"floor", "formula"}, {"floor", "cost_per_request_ms"}, {"floor", "ceiling_rps"},
		{"efficiency"}, {"floor", "all_cores", "sign_ms", "RS256"}, {"floor", "all_cores", "ceiling_rps"},
		{"floor", "all_cores", "scaling"}, {"floor", "all_cores", "efficiency"},
	} {
		var v any = got
		for _, k := range path {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if v == nil {
			t.Errorf("JSON field %v: missing in %s", path, raw)
		}
	}
	if got["successes"] != float64(20) {
		t.Errorf("successes: got %v want 20", got["successes"])
	}
	if eff := *rep.Efficiency; eff <= 0 {
		t.Errorf("efficiency: got %g want > 0", eff)
	}
	if rep.Server.PeakRSSMiB <= 0 {
		t.Errorf("peak RSS: got %g MiB want > 0", rep.Server.PeakRSSMiB)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	for _, want := range []string{"throughput", "p99", "efficiency", "eff. (all)", "1 argon2id verify + sign(RS256, access token) + sign(RS256, ID token)"} {
		if !bytes.Contains(text.Bytes(), []byte(want)) {
			t.Errorf("text report: %q missing in\n%s", want, text.String())
		}
	}
}

// TestReportAllCores checks the two ceilings a floor gives: cores ÷ the one-core cost, and
// cores ÷ the cost with every core at it, with the scaling between them.
func TestReportAllCores(t *testing.T) {
	ms := time.Millisecond
	floor := loadgen.Floor{Cores: 2, Sign: map[string]time.Duration{"RS256": ms}, Verify: map[string]time.Duration{},
		AllCores: &loadgen.Floor{Cores: 2, Sign: map[string]time.Duration{"RS256": 1600 * time.Microsecond}, Verify: map[string]time.Duration{}}}
	// 600 refreshes a second with an RS256 access token and an RS256 ID token: 2 signatures each.
	res := &loadgen.Result{Scenario: "refresh", Successes: 600, Requests: 600, Elapsed: time.Second, Kinds: map[string]int{"refresh": 600}}
	rep := loadgen.NewReport(res, &floor, "RS256", "openid offline_access", nil)
	a := rep.Floor.AllCores
	if a == nil {
		t.Fatal("no all-cores report")
	}
	got := []float64{*rep.Efficiency, rep.Floor.CeilingRPS, a.CeilingRPS, a.Efficiency, a.Scaling, a.CostMS}
	want := []float64{0.6, 1000, 625, 0.96, 1.25, 3.2}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("efficiency, ceiling, all-core ceiling, efficiency, scaling, cost (-want +got):\n%s", diff)
	}
}

// countingTransport counts the requests a run sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestMeasuringExcludesWarmUp checks that the measured phase, where bench samples the server,
// starts after the warm-up logins and ends after the last measured request.
func TestMeasuringExcludesWarmUp(t *testing.T) {
	target, _ := startBench(t, 10)
	ct := &countingTransport{}
	var at []int64
	_, err := loadgen.Run(t.Context(), target, loadgen.Options{Scenario: "refresh", Concurrency: 3, MaxRequests: 12,
		Client: &http.Client{Transport: ct}, Measuring: func(start bool) { at = append(at, ct.n.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	// 3 warm-up logins before the measured phase, 12 refreshes in it.
	if diff := cmp.Diff([]int64{3, 15}, at); diff != "" {
		t.Errorf("requests sent when the measured phase started and ended (-want +got):\n%s", diff)
	}
}

func TestAwaitTarget(t *testing.T) {
	target, _ := startBench(t, 3)
	if err := loadgen.AwaitTarget(t.Context(), target, time.Second); err != nil {
		t.Fatalf("AwaitTarget on a ready tenant: %v", err)
	}
	target.ClientSecret = "not-the-secret"
	err := loadgen.AwaitTarget(t.Context(), target, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("AwaitTarget with a wrong client secret: got %v, want an error naming access_denied (Auth0's answer to a wrong client secret)", err)
	}
}

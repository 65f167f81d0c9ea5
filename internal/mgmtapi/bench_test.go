package mgmtapi_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/mgmtapi"
	"github.com/sesameauth/sesame/internal/store"
)

// benchUsers is how many users BenchmarkUsers100k seeds (the figure).
const benchUsers = 100_000

// BenchmarkUsers100k measures the user reads of the Management API over HTTP against a SQLite
// store of 100k users: a q=email:"…" search, users-by-email, offset pages at increasing
// depth and checkpoint pages at increasing depth. Each sub-benchmark reports its p50 and p99
// latency; flat paging shows as equal figures across depths. Run it with
//
//	go test -run '^$' -bench BenchmarkUsers100k -benchtime 2000x ./internal/mgmtapi/
func BenchmarkUsers100k(b *testing.B) {
	e := newEnv(b)
	ctx := b.Context()
	if _, err := e.svc.CreateConnection(ctx, "db", "", nil); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	us := make([]store.User, benchUsers)
	for i := range us {
		us[i] = store.User{ID: fmt.Sprintf("auth0|%024d", i), Connection: "db", Email: fmt.Sprintf("user%06d@example.com", i),
			Name: fmt.Sprintf("User %d", i), PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
			UserMetadata: map[string]any{"plan": []string{"gold", "silver", "bronze"}[i%3]},
			CreatedAt:    base.Add(time.Duration(i) * time.Second), UpdatedAt: base}
	}
	if err := e.st.BulkCreateUsers(ctx, us); err != nil {
		b.Fatal(err)
	}
	tok := e.token(b, "read:users")
	get := func(b *testing.B, path string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v2"+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	// Cursors at three depths, found by walking the checkpoint pages once.
	cursors := map[int]string{}
	after := ""
	for depth := 0; depth < 99_000; depth += admin.MaxPerPage {
		p, err := e.svc.SearchUsers(ctx, admin.ListParams{Checkpoint: true, From: after, Take: admin.MaxPerPage})
		if err != nil {
			b.Fatal(err)
		}
		after = p.Next
		if d := depth + admin.MaxPerPage; d == 1_000 || d == 50_000 || d == 99_000 {
			cursors[d] = url.QueryEscape(mgmtapi.NextCursor(after))
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	email := func() string { return fmt.Sprintf("user%06d@example.com", rnd.IntN(benchUsers)) }
	cases := []struct {
		name string
		path func() string
	}{
		{"q=email", func() string { return "/users?q=" + url.QueryEscape(`email:"`+email()+`"`) + "&search_engine=v3" }},
		{"users-by-email", func() string { return "/users-by-email?email=" + url.QueryEscape(email()) }},
		{"page=0", func() string { return "/users?per_page=50&page=0&include_totals=true" }},
		{"page=10", func() string { return "/users?per_page=50&page=10&include_totals=true" }},
		{"page=19", func() string { return "/users?per_page=50&page=19&include_totals=true" }},
		{"from@1k", func() string { return "/users?take=50&from=" + cursors[1_000] }},
		{"from@50k", func() string { return "/users?take=50&from=" + cursors[50_000] }},
		{"from@99k", func() string { return "/users?take=50&from=" + cursors[99_000] }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				res := get(b, tc.path())
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat = append(lat, time.Since(start))
				if res.StatusCode != 200 {
					b.Fatalf("%s: status %d", tc.path(), res.StatusCode)
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

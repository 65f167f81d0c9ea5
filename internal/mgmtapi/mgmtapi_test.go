package mgmtapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
)

// TestAuthentication: a management call needs a token this server signed, for the Management
// API audience, unexpired, holding one of the route's scopes; each refusal is Auth0's body.
func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	// Another server: its keys were never published here.
	other := newEnv(t)
	claims := func(mut func(map[string]any)) string {
		c := e.claims("m2m", "read:clients")
		mut(c)
		return e.sign(t, c)
	}
	tests := []struct {
		name          string
		header        string
		status        int
		code, message string
	}{
		{name: "no token", status: 401, code: "invalid_token", message: "Missing authentication"},
		{name: "not bearer", header: "Basic bTJtOnNlY3JldA==", status: 400, code: "Bearer", message: "Bad HTTP authentication header format"},
		{name: "garbage", header: "Bearer not-a-jwt", status: 401, code: "invalid_token", message: "Invalid token"},
		{name: "expired", header: "Bearer " + claims(func(c map[string]any) { c["exp"] = e.clock.Now().Add(-time.Second).Unix() }),
			status: 401, code: "invalid_token", message: "Expired token received for JSON Web Token validation"},
		{name: "other audience", header: "Bearer " + claims(func(c map[string]any) { c["aud"] = "https://api.example.com/" }),
			status: 401, code: "invalid_token", message: "Bad audience: https://api.example.com/"},
		{name: "other issuer", header: "Bearer " + claims(func(c map[string]any) { c["iss"] = "https://evil.example/" }),
			status: 401, code: "invalid_token", message: "Invalid token"},
		{name: "signed by another server", header: "Bearer " + other.sign(t, e.claims("m2m", "read:clients")),
			status: 401, code: "invalid_token", message: "Invalid token"},
		{name: "missing scope", header: "Bearer " + e.token(t, "read:users", "create:clients"),
			status: 403, code: "insufficient_scope", message: "Insufficient scope, expected any of: read:clients,read:client_keys"},
		{name: "no scope at all", header: "Bearer " + e.token(t),
			status: 403, code: "insufficient_scope", message: "Insufficient scope, expected any of: read:clients,read:client_keys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.doAuth(t, "GET", "/clients", tc.header, nil), tc.status, tc.code, tc.message)
		})
	}
	t.Run("either scope suffices", func(t *testing.T) {
		for _, sc := range []string{"read:clients", "read:client_keys"} {
			if r := e.do(t, "GET", "/clients", e.token(t, sc), nil); r.status != 200 {
				t.Errorf("with %s: status %d, body %s", sc, r.status, r.raw)
			}
		}
	})
	t.Run("unserved reads", func(t *testing.T) {
		// The Deploy CLI skips a type whose read answers insufficient_scope, whatever scopes
		// the token holds (admin.ManagementScopes defines read:hooks, read:branding...).
		all := e.token(t, admin.ManagementScopes...)
		for path, scope := range map[string]string{"/hooks?page=0&per_page=100&include_totals=true": "read:hooks",
			"/email-templates/verify_email": "read:email_templates", "/branding": "read:branding",
			"/clients?page=0&per_page=100&include_totals=true&is_global=true": "read:client_keys",
			"/emails/provider?fields=name&include_fields=true":                "read:email_provider"} {
			wantError(t, e.do(t, "GET", path, all, nil), 403, "insufficient_scope", "Insufficient scope, expected any of: "+scope)
		}
		// Guardian settings Sesame has no such thing for: 404, which the CLI skips silently.
		for _, path := range []string{"/guardian/factors/sms/providers/twilio", "/guardian/factors/sms/templates",
			"/guardian/factors/push-notification/providers/sns", "/guardian/factors/phone/selected-provider"} {
			wantError(t, e.do(t, "GET", path, all, nil), 404, "not_found", "Not Found")
		}
		wantError(t, e.do(t, "GET", "/guardian/factors/sms/templates", "", nil), 401, "invalid_token", "Missing authentication")
		wantError(t, e.do(t, "GET", "/branding", "", nil), 401, "invalid_token", "Missing authentication")
		wantError(t, e.do(t, "POST", "/no-such-thing", all, map[string]any{}), 404, "not_found", "Not Found")
	})
}

// TestOffsetPaging: page/per_page/include_totals over GET /clients, a bare array without
// include_totals, unknown parameters ignored, malformed ones refused.
func TestOffsetPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.mustClient(t, admin.ClientInput{Name: fmt.Sprintf("app-%d", i)})
	}
	tok := e.token(t, "read:clients")
	names := func(items []any) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.(map[string]any)["name"].(string))
		}
		return out
	}
	tests := []struct {
		query     string
		want      []string
		wantTotal bool
		start     int
	}{
		{query: "", want: []string{"app-0", "app-1", "app-2", "app-3", "app-4"}},
		{query: "?per_page=2", want: []string{"app-0", "app-1"}},
		{query: "?per_page=2&page=2", want: []string{"app-4"}},
		{query: "?per_page=2&page=1&include_totals=true", want: []string{"app-2", "app-3"}, wantTotal: true, start: 2},
		{query: "?page=9&include_totals=true", want: nil, wantTotal: true, start: 450},
		{query: "?per_page=2&fields=name&is_first_party=true&unknown=1", want: []string{"app-0", "app-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do(t, "GET", "/clients"+tc.query, tok, nil)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			var items []any
			if tc.wantTotal {
				o := r.obj(t)
				items = o["clients"].([]any)
				if o["total"] != float64(5) || o["start"] != float64(tc.start) {
					t.Errorf("total %v start %v, want 5 %d", o["total"], o["start"], tc.start)
				}
				if _, ok := o["limit"]; !ok {
					t.Errorf("no limit in %s", r.raw)
				}
			} else {
				items = r.arr(t)
			}
			if got := names(items); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("names %v, want %v", got, tc.want)
			}
		})
	}
	for _, q := range []string{"?page=-1", "?page=x", "?per_page=0", "?per_page=101", "?include_totals=maybe"} {
		t.Run(q, func(t *testing.T) {
			r := e.do(t, "GET", "/clients"+q, tok, nil)
			if r.status != 400 || r.obj(t)["errorCode"] != "invalid_query_string" {
				t.Errorf("status %d body %s, want 400 invalid_query_string", r.status, r.raw)
			}
		})
	}
}

// TestWriteIsLogged: every write is a tenant log event, sapi on success and fapi on failure,
// naming the client (and for a user's token, the user) that made it.
func TestWriteIsLogged(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "POST", "/clients", e.token(t, "create:clients"), map[string]any{"name": "Logged App", "app_type": "non_interactive"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	r = e.do(t, "POST", "/clients", e.token(t, "create:clients"), map[string]any{"name": "<bad>"})
	if r.status != 400 || r.obj(t)["errorCode"] != "invalid_body" {
		t.Fatalf("bad create: %d %s", r.status, r.raw)
	}
	r = e.do(t, "POST", "/clients", e.token(t, "read:clients"), map[string]any{"name": "No Scope"})
	wantError(t, r, 403, "insufficient_scope", "Insufficient scope, expected any of: create:clients")
	userTok := e.sign(t, map[string]any{"iss": testIssuer, "sub": "auth0|admin1", "aud": admin.ManagementAudience(testIssuer),
		"exp": e.clock.Now().Add(time.Hour).Unix(), "azp": "console", "gty": "password", "scope": "create:clients"})
	if r = e.do(t, "POST", "/clients", userTok, map[string]any{"name": "By A User"}); r.status != 201 {
		t.Fatalf("user create: %d %s", r.status, r.raw)
	}
	type ev struct{ typ, desc, client, user string }
	var got []ev
	for _, x := range e.events.All() {
		got = append(got, ev{x.Type, x.Description, x.ClientID, x.UserID})
	}
	want := []ev{
		{"sapi", "Create a client", "m2m", ""},
		{"fapi", "Create a client", "m2m", ""},
		{"fapi", "Create a client", "m2m", ""},
		{"sapi", "Create a client", "console", "auth0|admin1"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events\n got %v\nwant %v", got, want)
	}
	// A read is not logged.
	e.do(t, "GET", "/clients", e.token(t, "read:clients"), nil)
	if n := len(e.events.All()); n != len(want) {
		t.Errorf("%d events after a read, want %d", n, len(want))
	}
}

// TestRateLimit: each caller gets RatePerMinute requests, all at once, then 429 with
// Retry-After until the bucket refills; every counted answer has X-RateLimit-* headers. A
// parallel burst gets exactly the limit through, 20 rounds over.
func TestRateLimit(t *testing.T) {
	const limit = 3
	e := newEnv(t, withRate(limit))
	tok := e.token(t, "read:clients")
	for i := range limit {
		r := e.do(t, "GET", "/clients", tok, nil)
		if r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.raw)
		}
		if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(limit-1-i) {
			t.Errorf("request %d: X-RateLimit-Remaining %q, want %d", i, got, limit-1-i)
		}
		if r.header.Get("X-RateLimit-Limit") != strconv.Itoa(limit) || r.header.Get("X-RateLimit-Reset") == "" {
			t.Errorf("request %d: headers %v", i, r.header)
		}
	}
	r := e.do(t, "GET", "/clients", tok, nil)
	wantError(t, r, 429, "too_many_requests", "Global limit has been reached")
	if got := r.header.Get("Retry-After"); got != "20" { // one request back every 60s/3
		t.Errorf("Retry-After %q, want 20", got)
	}
	// Another client has its own bucket.
	if r := e.do(t, "GET", "/clients", e.sign(t, e.claims("other", "read:clients")), nil); r.status != 200 {
		t.Errorf("other client: %d", r.status)
	}
	e.clock.Advance(20 * time.Second)
	if r := e.do(t, "GET", "/clients", tok, nil); r.status != 200 {
		t.Errorf("after Retry-After: %d %s", r.status, r.raw)
	}

	const parallel = 8
	for round := range 20 {
		tok := e.sign(t, e.claims(fmt.Sprintf("burst-%d", round), "read:clients"))
		var wg sync.WaitGroup
		statuses := make(chan int, parallel)
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", e.srv.URL+"/api/v2/clients", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := e.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				statuses <- res.StatusCode
			}()
		}
		wg.Wait()
		close(statuses)
		ok, limited := 0, 0
		for s := range statuses {
			switch s {
			case 200:
				ok++
			case 429:
				limited++
			}
		}
		if ok != limit || limited != parallel-limit {
			t.Fatalf("round %d: %d ok, %d limited; want %d and %d", round, ok, limited, limit, parallel-limit)
		}
	}
}

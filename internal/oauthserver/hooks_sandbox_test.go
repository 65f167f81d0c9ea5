package oauthserver_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/hooks/hookstest"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

// testFetcher lets the test engine's fetch() reach loopback services started by the tests
// (127.0.0.1 on any port), and nothing else.
func testFetcher() hooks.Fetcher {
	f, err := oauthserver.NewActionFetcher([]string{"127.0.0.1"})
	if err != nil {
		panic(err)
	}
	return f
}

// executionError is the cause the tenant log event of a failed exchange records for its
// first execution.
func (e *env) executionError() string {
	e.t.Helper()
	ev := e.lastLog("fepft")
	execs, _ := ev.Details["actions"].(map[string]any)["executions"].([]any)
	if len(execs) == 0 {
		e.t.Fatalf("log details.actions: got %v, want an execution", ev.Details["actions"])
	}
	s, _ := execs[0].(map[string]any)["error"].(string)
	return s
}

func TestActionFetch(t *testing.T) {
	var hits atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/plan":
			if r.Header.Get("Authorization") != "Bearer s3cret" || r.URL.Query().Get("user") == "" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"plan":"gold","user":%q}`, r.URL.Query().Get("user"))
		case "/elsewhere":
			// A redirect to a name that is not on the allowlist.
			http.Redirect(w, r, "http://localhost:1/plan", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", hooks.MaxFetchBody+1)))
		}
	}))
	defer api.Close()
	// The same server under a name the allowlist does not have: fetch must not reach it.
	elsewhere := strings.Replace(api.URL, "127.0.0.1", "localhost", 1)

	t.Run("allowed host: JSON into a claim", func(t *testing.T) {
		e := newEnv(t)
		e.putAction("plan", action(`const r = await fetch('`+api.URL+`/plan?user=' + encodeURIComponent(event.user.user_id), {
  headers: {Authorization: 'Bearer ' + event.secrets.TOKEN},
});
if (!r.ok) throw new Error('plan service: ' + r.status);
const body = await r.json();
api.accessToken.setCustomClaim('https://example.com/plan', body.plan + ':' + (body.user === event.user.user_id));`),
			map[string]string{"TOKEN": "s3cret"})
		e.bind("plan")
		r := e.login()
		if got := e.verify(r.str("access_token")).Claims["https://example.com/plan"]; got != "gold:true" {
			t.Errorf("claim: got %v (response %s), want gold:true", got, r.Raw)
		}
	})
	for _, tc := range []struct{ name, url, cause string }{
		{"host not allowed", elsewhere + "/plan", `TypeError: fetch: request to host "` + strings.TrimPrefix(elsewhere, "http://") + `" is not allowed`},
		{"redirect to a host not allowed", api.URL + "/elsewhere", `redirect to host "localhost:1" is not allowed`},
		{"response over the size cap", api.URL + "/big", "over the 1048576-byte limit"},
		{"not http", "ftp://127.0.0.1/plan", "http and https only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.putAction("fetcher", action(`const r = await fetch('`+tc.url+`');
api.accessToken.setCustomClaim('https://example.com/body', await r.text());`), nil)
			e.bind("fetcher")
			before := hits.Load()
			wantHookError(t, e.postForm("/oauth/token", passwordForm()), http.StatusForbidden, "access_denied",
				"The login was denied because a Rule or Action failed.")
			if got := e.executionError(); !strings.Contains(got, tc.cause) {
				t.Errorf("logged cause: got %q, want it to contain %q", got, tc.cause)
			}
			if tc.name == "host not allowed" && hits.Load() != before {
				t.Errorf("the server behind the refused host got %d requests, want none", hits.Load()-before)
			}
		})
	}
}

func TestActionMemoryGuard(t *testing.T) {
	const limit = 32 << 20
	// This test's engine: a long deadline, so that only the memory guard can stop the action.
	saved := testHooks
	testHooks = hooks.NewEngine(hooks.Options{Timeout: time.Minute, MemoryLimit: limit})
	e := newEnv(t)
	testHooks = saved
	e.putAction("hog", action(`const a = []; for (;;) a.push({x: 'y'.repeat(1000)});`), nil)
	e.bind("hog")

	runtime.GC()
	base := hookstest.HeapNow()
	stop := hookstest.HeapPeak()
	r := e.postForm("/oauth/token", passwordForm())
	peak := stop()

	wantHookError(t, r, http.StatusForbidden, "access_denied", "The login was denied because a Rule or Action failed.")
	if got := e.executionError(); !strings.Contains(got, "memory limit exceeded") {
		t.Errorf("logged cause: got %q, want the memory limit", got)
	}
	// The budget counts live heap; the GC lets the heap reach about twice the live set before
	// it marks, plus what is allocated between two samples of the guard.
	grew := int64(peak) - int64(base)
	if grew > 8*limit {
		t.Errorf("heap grew by %d MiB during the login, want it bounded near the %d MiB budget", grew>>20, limit>>20)
	}
	t.Logf("heap grew by at most %d MiB (budget %d MiB)", grew>>20, limit>>20)
	// The server still serves; once the flow no longer has the runaway (nodes re-read it
	// after hooksRecheck), logins succeed again.
	if r := e.get("/.well-known/jwks.json"); r.Status != http.StatusOK {
		t.Errorf("server after the runaway: got %d, want 200", r.Status)
	}
	e.bind()
	e.clock.Advance(oauthserver.HooksRecheck)
	if r := e.postForm("/oauth/token", passwordForm()); r.Status != http.StatusOK {
		t.Errorf("login after the runaway was unbound: got %d %s", r.Status, r.Raw)
	}
}

// TestActionFetcherAllowlist checks the matching rules on hosts that are refused before any
// connection is made (nothing leaves the machine), and the entries refused at start.
func TestActionFetcherAllowlist(t *testing.T) {
	f, err := oauthserver.NewActionFetcher([]string{"API.example.com:8443", "*.example.org", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		"https://api.example.com/",                // port 443, only 8443 is allowed
		"https://example.org/",                    // *.example.org is the names under it
		"https://evil.example/?h=api.example.com", // the query is not the host
		"https://api.example.com.evil.example:8443/",
		"https://127.0.0.1.evil.example/",
		"http://localhost/",
	} {
		_, err := f.Fetch(t.Context(), hooks.FetchRequest{Method: "GET", URL: u})
		if !errors.Is(err, hooks.ErrFetchNotAllowed) {
			t.Errorf("%s: got %v, want ErrFetchNotAllowed", u, err)
		}
	}
	for _, bad := range []string{"https://api.example.com", "api.example.com/v1", "*", "foo*.example.com", "host:99999", "host:", "user@host"} {
		if _, err := oauthserver.NewActionFetcher([]string{bad}); err == nil {
			t.Errorf("entry %q: accepted, want an error", bad)
		}
	}
}

// isolationAction reports, in the claim https://example.com/seen, every trace an earlier
// execution could have left in its realm, and on Alice's logins leaves as many as it can: a
// global (assigned and implicit), properties on the shared prototypes and namespaces, a
// replaced built-in, and properties on the console, require and fetch that the engine hands
// in. A module-level counter shows whether module scope outlives an execution.
const isolationAction = `let calls = 0;
exports.onExecutePostLogin = async (event, api) => {
  calls++;
  const seen = [];
  const probe = (name, v) => { if (v !== undefined) seen.push(name + '=' + String(v)); };
  probe('globalThis', globalThis.leaked);
  probe('implicit global', typeof leakedImplicit === 'undefined' ? undefined : leakedImplicit);
  probe('Object.prototype', ({}).leaked);
  probe('Array.prototype', [].leaked);
  probe('String.prototype', ''.leaked);
  probe('Function.prototype', (function () {}).leaked);
  probe('iterator prototype', Object.getPrototypeOf([].values()).leaked);
  probe('Number.prototype (rule)', (0).ruleLeaked);
  probe('JSON', JSON.leaked);
  probe('Math.max', Math.max(1, 2) === 2 ? undefined : Math.max(1, 2));
  probe('console', console.leaked);
  probe('require', require.leaked);
  probe('fetch', fetch.leaked);
  probe('module scope', calls > 1 ? calls : undefined);
  api.accessToken.setCustomClaim('https://example.com/seen', seen);
  if (event.user.email === 'alice@example.com') {
    const who = event.user.email;
    globalThis.leaked = who;
    leakedImplicit = who;
    Object.prototype.leaked = who;
    Array.prototype.leaked = who;
    String.prototype.leaked = who;
    Function.prototype.leaked = who;
    Object.getPrototypeOf([].values()).leaked = who;
    JSON.leaked = who;
    Math.max = () => who;
    console.leaked = who;
    require.leaked = who;
    fetch.leaked = who;
  }
};`

// TestHookExecutionsShareNoState is the Alice/Bob test: a Rule and an Action that leave
// traces of Alice's login in their JavaScript realm must not let Bob's token (nor a later token
// of Alice's) carry any of it. The logins run one after the other and in parallel bursts,
// many more than the engine has cores, so that every runtime the engine could keep is used.
func TestHookExecutionsShareNoState(t *testing.T) {
	e := newEnv(t, func(c *oauthserver.Config) { c.Hooks = hooks.NewEngine(hooks.Options{Timeout: 5 * time.Second}) })
	e.putRule("leaky rule", `function (user, context, callback) {
  if (user.email === 'alice@example.com') Number.prototype.ruleLeaked = user.email;
  callback(null, user, context);
}`, 1)
	e.putAction("leaky", isolationAction, nil)
	e.bind("leaky")
	// The bursts log each user in many times at once from one address: not an attack here.
	// Brute force counts logins in flight (the address is allowlisted), and the clock moves on
	// between rounds so that the per-user-and-IP rate (guard.SameUserIP) has refilled.
	e.setAttackProtection(func(ap *store.AttackProtection) { ap.BruteForce.Allowlist = []string{"127.0.0.1"} })
	refill := time.Duration(guard.SameUserIP.Burst) * guard.SameUserIP.Every
	bob := passwordForm("username", bobEmail, "password", bobPass)
	check := func(who string, r response) {
		t.Helper()
		if r.Status != http.StatusOK {
			t.Errorf("%s: got %d %s, want 200", who, r.Status, r.Raw)
			return
		}
		seen, ok := e.verify(r.str("access_token")).Claims["https://example.com/seen"].([]any)
		if !ok || len(seen) != 0 {
			t.Errorf("%s's token: https://example.com/seen = %v, want [] (no trace of an earlier execution)", who, seen)
		}
	}
	// Enough to go through every runtime a pool of 2×GOMAXPROCS (at least 4) could hold.
	n := 4 * max(4, 2*runtime.GOMAXPROCS(0))
	for range n {
		check("alice", e.postForm("/oauth/token", passwordForm()))
		check("bob", e.postForm("/oauth/token", bob))
		e.clock.Advance(guard.SameUserIP.Every)
		if t.Failed() {
			return
		}
	}
	for range 20 {
		type result struct {
			who string
			r   response
		}
		out := make(chan result)
		for i := range n {
			who, form := "alice", passwordForm()
			if i%2 == 1 {
				who, form = "bob", bob
			}
			go func() { out <- result{who, e.postForm("/oauth/token", form)} }()
		}
		for range n {
			res := <-out
			check(res.who, res.r)
		}
		e.clock.Advance(refill)
		if t.Failed() {
			return
		}
	}
}

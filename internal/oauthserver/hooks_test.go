package oauthserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// testHooks is the engine every test server shares, with a short deadline so that the
// infinite-loop case stays fast, and fetch() allowed to loopback test servers.
var testHooks = hooks.NewEngine(hooks.Options{Timeout: 300 * time.Millisecond, Fetch: testFetcher()})

// putAction stores a deployed action with sealed secrets; bind puts actions in the flow.
func (e *env) putAction(name, code string, secrets map[string]string) {
	e.t.Helper()
	a := store.Action{ID: store.NewID("act_", 8), Name: name, Code: code, Runtime: "node18",
		SupportedTriggers: []string{store.TriggerPostLogin}, Deployed: true, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	for k, v := range secrets {
		a.Secrets = append(a.Secrets, store.ActionSecret{Name: k, ValueSealed: e.box.Seal([]byte(v), store.ActionSecretAAD(name, k))})
	}
	if err := e.st.PutAction(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) bind(names ...string) {
	e.t.Helper()
	e.bindTrigger(store.TriggerPostLogin, names...)
}

func (e *env) bindTrigger(trigger string, names ...string) {
	e.t.Helper()
	var bs []store.TriggerBinding
	for _, n := range names {
		bs = append(bs, store.TriggerBinding{ActionName: n, DisplayName: n})
	}
	if err := e.st.SetTriggerBindings(context.Background(), trigger, bs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) putRule(name, script string, order int) {
	e.t.Helper()
	if err := e.st.PutRule(context.Background(), store.Rule{ID: store.NewID("rul_", 8), Name: name, Script: script,
		Order: order, Enabled: true}); err != nil {
		e.t.Fatal(err)
	}
}

// action wraps a handler body in Auth0's module shape.
func action(body string) string {
	return "exports.onExecutePostLogin = async (event, api) => {\n" + body + "\n};"
}

func wantHookError(t *testing.T, r response, status int, code, desc string) {
	t.Helper()
	want := map[string]any{"error": code, "error_description": desc}
	if r.Status != status || !cmp.Equal(want, r.Body) {
		t.Errorf("got %d %s, want %d %v", r.Status, r.Raw, status, want)
	}
}

// lastLog returns the newest tenant log event of type typ, once everything emitted so far is
// written.
func (e *env) lastLog(typ string) store.LogEvent {
	e.t.Helper()
	evs := e.tenantLogs(typ)
	if len(evs) == 0 {
		e.t.Fatalf("no %s log event", typ)
	}
	return evs[0]
}

func TestHooksThroughTokenEndpoint(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env)
		check func(t *testing.T, e *env)
	}{
		{
			name: "seed example sets access and ID token claims",
			setup: func(e *env) {
				e.putAction("seed", action(`api.accessToken.setCustomClaim('https://foo/bar', 'value');
api.idToken.setCustomClaim('https://fiz/baz', 'some other value');`), nil)
				e.bind("seed")
			},
			check: func(t *testing.T, e *env) {
				r := e.login("scope", "openid")
				if got := e.verify(r.str("access_token")).Claims["https://foo/bar"]; got != "value" {
					t.Errorf("access token https://foo/bar: got %v, want value", got)
				}
				id := e.verify(r.str("id_token")).Claims
				if got := id["https://fiz/baz"]; got != "some other value" {
					t.Errorf("ID token https://fiz/baz: got %v, want some other value", got)
				}
				if _, ok := id["https://foo/bar"]; ok {
					t.Errorf("ID token carries the access token's claim")
				}
				ev := e.lastLog("sepft")
				execs, _ := ev.Details["actions"].(map[string]any)["executions"].([]any)
				if len(execs) != 1 || execs[0].(map[string]any)["name"] != "seed" {
					t.Errorf("log details.actions.executions: got %v, want one execution named seed", ev.Details["actions"])
				}
			},
		},
		{
			name: "roles from app_metadata into both tokens",
			setup: func(e *env) {
				if err := e.st.UpdateUser(context.Background(), e.alice, func(u *store.User) error {
					u.AppMetadata = map[string]any{"roles": []any{"admin", "editor"}}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				e.putAction("roles", action(`const ns = 'https://example.com';
const roles = (event.user.app_metadata.roles || []).concat(event.authorization.roles);
api.idToken.setCustomClaim(ns + '/roles', roles);
api.accessToken.setCustomClaim(ns + '/roles', roles);`), nil)
				e.bind("roles")
			},
			check: func(t *testing.T, e *env) {
				r := e.login("scope", "openid")
				want := []any{"admin", "editor"}
				for _, tok := range []string{"access_token", "id_token"} {
					got := e.verify(r.str(tok)).Claims["https://example.com/roles"]
					if !cmp.Equal(want, got) {
						t.Errorf("%s roles: got %v, want %v", tok, got, want)
					}
				}
				bob := e.postForm("/oauth/token", passwordForm("username", bobEmail, "password", bobPass))
				if got := e.verify(bob.str("access_token")).Claims["https://example.com/roles"]; !cmp.Equal([]any{}, got) {
					t.Errorf("bob roles: got %v, want []", got)
				}
			},
		},
		{
			name: "deny by email domain",
			setup: func(e *env) {
				e.mustUser(store.User{Connection: connName, Email: "mallory@blocked.test"}, "mallory's password 1")
				e.putAction("domains", action(`if (event.user.email.endsWith('@blocked.test')) {
  api.access.deny('Access from your email domain is not allowed.');
}`), nil)
				e.bind("domains")
			},
			check: func(t *testing.T, e *env) {
				r := e.postForm("/oauth/token", passwordForm("username", "mallory@blocked.test", "password", "mallory's password 1"))
				wantHookError(t, r, http.StatusForbidden, "access_denied", "Access from your email domain is not allowed.")
				e.login()
			},
		},
		{
			name: "scopes added and removed by app_metadata",
			setup: func(e *env) {
				if err := e.st.UpdateUser(context.Background(), e.alice, func(u *store.User) error {
					u.AppMetadata = map[string]any{"beta": true}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				e.putAction("beta", action(`if (event.user.app_metadata.beta) api.accessToken.addScope('beta:features');
api.accessToken.removeScope('write:sample');`), nil)
				e.bind("beta")
			},
			check: func(t *testing.T, e *env) {
				r := e.login()
				if got := r.str("scope"); got != "read:sample beta:features" {
					t.Errorf("response scope: got %q, want %q", got, "read:sample beta:features")
				}
				if got := e.verify(r.str("access_token")).Claims["scope"]; got != "read:sample beta:features" {
					t.Errorf("token scope: got %v, want read:sample beta:features", got)
				}
			},
		},
		{
			name: "metadata persisted and seen by the next action",
			setup: func(e *env) {
				e.putAction("meta", action(`api.user.setUserMetadata('last_client', event.client.name);
api.user.setAppMetadata('visits', (event.user.app_metadata.visits || 0) + 1);`), nil)
				e.putAction("after", action(`api.accessToken.setCustomClaim('https://example.com/visits', event.user.app_metadata.visits);`), nil)
				e.bind("meta", "after")
			},
			check: func(t *testing.T, e *env) {
				e.login()
				r := e.login()
				if got := e.verify(r.str("access_token")).Claims["https://example.com/visits"]; got != float64(2) {
					t.Errorf("visits claim on the second login: got %v, want 2", got)
				}
				u, err := e.st.GetUser(context.Background(), e.alice)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"last_client": "Confidential App"}
				if !cmp.Equal(want, u.UserMetadata) || u.AppMetadata["visits"] != float64(2) {
					t.Errorf("stored metadata: got user %v app %v, want %v and visits 2", u.UserMetadata, u.AppMetadata, want)
				}
			},
		},
		{
			name: "multifactor.enable pauses the login with mfa_required",
			setup: func(e *env) {
				e.putAction("mfa", action(`if (event.user.email === 'alice@example.com') api.multifactor.enable('any');`), nil)
				e.bind("mfa")
			},
			check: func(t *testing.T, e *env) {
				r := e.postForm("/oauth/token", passwordForm())
				if r.Status != http.StatusForbidden || r.str("error") != "mfa_required" ||
					r.str("error_description") != "Multifactor authentication required" || r.str("mfa_token") == "" {
					t.Errorf("got %d %s, want 403 mfa_required with an mfa_token", r.Status, r.Raw)
				}
				bob := e.postForm("/oauth/token", passwordForm("username", bobEmail, "password", bobPass))
				if bob.Status != http.StatusOK {
					t.Errorf("bob: got %d %s, want 200", bob.Status, bob.Raw)
				}
			},
		},
		{
			name: "a redeployed action is live after hooksRecheck",
			setup: func(e *env) {
				e.putAction("v", action(`api.accessToken.setCustomClaim('https://example.com/v', 1);`), nil)
				e.bind("v")
			},
			check: func(t *testing.T, e *env) {
				if got := e.verify(e.login().str("access_token")).Claims["https://example.com/v"]; got != float64(1) {
					t.Fatalf("first version: got %v, want 1", got)
				}
				e.putAction("v", action(`api.accessToken.setCustomClaim('https://example.com/v', 2);`), nil)
				// A node trusts its copy for hooksRecheck (one store read per second, not per
				// login), then sees the change: within 2 s with the store round trip.
				if got := e.verify(e.login().str("access_token")).Claims["https://example.com/v"]; got != float64(1) {
					t.Errorf("right after the redeploy: got %v, want 1 (the cached flow)", got)
				}
				e.clock.Advance(oauthserver.HooksRecheck)
				if got := e.verify(e.login().str("access_token")).Claims["https://example.com/v"]; got != float64(2) {
					t.Fatalf("after hooksRecheck: got %v, want 2", got)
				}
			},
		},
		{
			name: "revoke on refresh kills the family",
			setup: func(e *env) {
				e.putAction("revoke", action(`if (event.transaction.protocol === 'oauth2-refresh-token' && event.refresh_token.client_id === event.client.client_id) {
  api.refreshToken.revoke('Your session has ended.');
}`), nil)
				e.bind("revoke")
			},
			check: func(t *testing.T, e *env) {
				rt := e.login("scope", "offline_access").str("refresh_token")
				wantHookError(t, e.postForm("/oauth/token", refreshForm(rt)), http.StatusForbidden, "access_denied", "Your session has ended.")
				wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt)), invalidRefresh)
				fam, _, err := e.st.GetRefreshToken(context.Background(), hashOf(rt))
				if err != nil || fam.RevokedAt.IsZero() {
					t.Errorf("family: got revoked at %v (%v), want revoked", fam.RevokedAt, err)
				}
			},
		},
		{
			name: "code that does not compile denies, the server carries on",
			setup: func(e *env) {
				e.putAction("broken", "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim('a' 'b');\n};", nil)
				e.bind("broken")
			},
			check: func(t *testing.T, e *env) {
				wantHookError(t, e.postForm("/oauth/token", passwordForm()), http.StatusForbidden, "access_denied",
					"The login was denied because a Rule or Action failed.")
			},
		},
		{
			name: "infinite loop hits the deadline",
			setup: func(e *env) {
				e.putAction("loop", action(`while (true) {}`), nil)
				e.bind("loop")
			},
			check: func(t *testing.T, e *env) {
				start := time.Now()
				wantHookError(t, e.postForm("/oauth/token", passwordForm()), http.StatusForbidden, "access_denied",
					"The login was denied because a Rule or Action failed.")
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("took %v, want about the 300 ms deadline", d)
				}
				ev := e.lastLog("fepft")
				execs := ev.Details["actions"].(map[string]any)["executions"].([]any)
				if got := execs[0].(map[string]any)["error"]; !strings.Contains(got.(string), "deadline") {
					t.Errorf("logged error: got %v, want the deadline", got)
				}
				if r := e.get("/.well-known/jwks.json"); r.Status != http.StatusOK {
					t.Errorf("server after the loop: got %d, want 200", r.Status)
				}
			},
		},
		{
			name: "thrown error is logged, not sent",
			setup: func(e *env) {
				e.putAction("throws", action(`throw new Error('database password is hunter2');`), nil)
				e.bind("throws")
			},
			check: func(t *testing.T, e *env) {
				r := e.postForm("/oauth/token", passwordForm())
				wantHookError(t, r, http.StatusForbidden, "access_denied", "The login was denied because a Rule or Action failed.")
				ev := e.lastLog("fepft")
				execs := ev.Details["actions"].(map[string]any)["executions"].([]any)
				if got := execs[0].(map[string]any)["error"]; !strings.Contains(got.(string), "Error: database password is hunter2") {
					t.Errorf("logged error: got %v, want the thrown message", got)
				}
			},
		},
		{
			name: "await on a secret",
			setup: func(e *env) {
				e.putAction("secret", action(`const lookup = async (k) => { await null; return event.secrets[k]; };
const key = await lookup('API_KEY');
api.accessToken.setCustomClaim('https://example.com/key', key.slice(0, 4) + '…' + key.length);`),
					map[string]string{"API_KEY": "sk_live_0123456789"})
				e.bind("secret")
			},
			check: func(t *testing.T, e *env) {
				r := e.login()
				if got := e.verify(r.str("access_token")).Claims["https://example.com/key"]; got != "sk_l…18" {
					t.Errorf("claim: got %v, want sk_l…18", got)
				}
			},
		},
		{
			name: "rule UnauthorizedError is 401 unauthorized",
			setup: func(e *env) {
				e.putRule("whitelist", `function (user, context, callback) {
  const allowed = ['alice@example.com'];
  if (!allowed.includes(user.email)) {
    return callback(new UnauthorizedError('Access denied.'));
  }
  callback(null, user, context);
}`, 1)
			},
			check: func(t *testing.T, e *env) {
				e.login()
				r := e.postForm("/oauth/token", passwordForm("username", bobEmail, "password", bobPass))
				wantHookError(t, r, http.StatusUnauthorized, "unauthorized", "Access denied.")
			},
		},
		{
			name: "redirects are refused, canRedirect is false",
			setup: func(e *env) {
				e.putAction("maybe", action(`if (api.redirect.canRedirect()) { api.redirect.sendUserTo('https://x'); }
else { api.accessToken.setCustomClaim('https://example.com/redirect', 'skipped'); }`), nil)
				e.putAction("always", action(`if (event.user.email === 'bob@example.com') api.redirect.sendUserTo('https://example.com/consent');`), nil)
				e.bind("maybe", "always")
			},
			check: func(t *testing.T, e *env) {
				if got := e.verify(e.login().str("access_token")).Claims["https://example.com/redirect"]; got != "skipped" {
					t.Errorf("claim: got %v, want skipped", got)
				}
				r := e.postForm("/oauth/token", passwordForm("username", bobEmail, "password", bobPass))
				wantHookError(t, r, http.StatusBadRequest, "interaction_required", "Redirects are not supported in this flow.")
			},
		},
		{
			name: "restricted and Auth0-namespaced claims dropped silently",
			setup: func(e *env) {
				e.putAction("restricted", action(`api.accessToken.setCustomClaim('sub', 'someone else');
api.accessToken.setCustomClaim('gty', 'x');
api.accessToken.setCustomClaim('https://auth0.com/x', 1);
api.accessToken.setCustomClaim('https://example.com/ok', true);`), nil)
				e.bind("restricted")
			},
			check: func(t *testing.T, e *env) {
				c := e.verify(e.login().str("access_token")).Claims
				if c["sub"] != e.alice || c["gty"] != "password" || c["https://example.com/ok"] != true {
					t.Errorf("claims: got sub %v gty %v ok %v, want %s password true", c["sub"], c["gty"], c["https://example.com/ok"], e.alice)
				}
				if _, ok := c["https://auth0.com/x"]; ok {
					t.Errorf("Auth0-namespaced claim present")
				}
			},
		},
		{
			name: "over 100 KB of claims denies",
			setup: func(e *env) {
				e.putAction("big", action(`api.accessToken.setCustomClaim('https://example.com/big', 'x'.repeat(101 * 1024));`), nil)
				e.bind("big")
			},
			check: func(t *testing.T, e *env) {
				wantHookError(t, e.postForm("/oauth/token", passwordForm()), http.StatusForbidden, "access_denied",
					"The login was denied because a Rule or Action failed.")
			},
		},
		{
			name: "context.protocol in a rule, rules before actions, no secrets in the request body",
			setup: func(e *env) {
				e.putRule("protocol", `function (user, context, callback) {
  context.accessToken['https://example.com/protocol'] = context.protocol;
  context.accessToken['https://example.com/client'] = context.clientName + '/' + context.connection;
  callback(null, user, context);
}`, 1)
				e.putAction("body", action(`api.accessToken.setCustomClaim('https://example.com/body', Object.keys(event.request.body).sort().join(','));
api.accessToken.setCustomClaim('https://example.com/action_protocol', event.transaction.protocol);`), nil)
				e.bind("body")
			},
			check: func(t *testing.T, e *env) {
				r := e.login("scope", "offline_access")
				c := e.verify(r.str("access_token")).Claims
				want := map[string]any{"protocol": "oauth2-password", "client": "Confidential App/" + connName,
					"body": "audience,client_id,grant_type,scope,username", "action_protocol": "oauth2-password"}
				for k, v := range want {
					if got := c["https://example.com/"+k]; got != v {
						t.Errorf("login claim %s: got %v, want %v", k, got, v)
					}
				}
				rr := e.postForm("/oauth/token", refreshForm(r.str("refresh_token")))
				c = e.verify(rr.str("access_token")).Claims
				want = map[string]any{"protocol": "oauth2-refresh-token", "body": "client_id,grant_type",
					"action_protocol": "oauth2-refresh-token"}
				for k, v := range want {
					if got := c["https://example.com/"+k]; got != v {
						t.Errorf("refresh claim %s: got %v, want %v", k, got, v)
					}
				}
			},
		},
		{
			// Auth0's model: the action's record is a draft; what runs is the version deployed.
			name: "the deployed version runs, not a later draft",
			setup: func(e *env) {
				e.putAction("versioned", action(`api.accessToken.setCustomClaim('https://example.com/v', 'deployed');`), nil)
				if _, err := e.st.DeployActionVersion(context.Background(), "versioned", store.ActionVersion{ID: "ver_1",
					Code: action(`api.accessToken.setCustomClaim('https://example.com/v', 'deployed');`), Runtime: "node18"}); err != nil {
					t.Fatal(err)
				}
				e.putAction("versioned", action(`api.accessToken.setCustomClaim('https://example.com/v', 'draft');`), nil)
				e.bind("versioned")
			},
			check: func(t *testing.T, e *env) {
				if got := e.verify(e.login().str("access_token")).Claims["https://example.com/v"]; got != "deployed" {
					t.Errorf("claim: got %v, want deployed (the draft must not run)", got)
				}
			},
		},
		{
			name: "rules read the rules configuration",
			setup: func(e *env) {
				if err := e.st.PutRulesConfig(context.Background(), store.RulesConfig{Key: "GREETING",
					ValueSealed: e.box.Seal([]byte("hello"), store.RulesConfigAAD("GREETING"))}); err != nil {
					t.Fatal(err)
				}
				e.putRule("configured", `function (user, context, callback) {
  context.accessToken['https://example.com/greeting'] = configuration.GREETING;
  callback(null, user, context);
}`, 1)
			},
			check: func(t *testing.T, e *env) {
				if got := e.verify(e.login().str("access_token")).Claims["https://example.com/greeting"]; got != "hello" {
					t.Errorf("claim: got %v, want hello from configuration.GREETING", got)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(e)
			tc.check(t, e)
		})
	}
}

// hashOf is the store key of a refresh token.
func hashOf(rt string) string {
	h, _ := token.HashRefreshToken(rt)
	return h
}

// typicalAction is what most tenants run: a namespaced roles claim from app_metadata on both
// tokens, read with an await.
const typicalAction = `exports.onExecutePostLogin = async (event, api) => {
  const namespace = 'https://example.com';
  const roles = await Promise.resolve(event.user.app_metadata.roles || []);
  api.idToken.setCustomClaim(namespace + '/roles', roles);
  api.accessToken.setCustomClaim(namespace + '/roles', roles);
};`

// BenchmarkRefreshActionOverhead measures a rotating refresh exchange (RS256 access and ID
// tokens) without hooks, then with one typical Action, on separate servers, and reports the
// added cost as a ratio. Most of it is the fresh JavaScript realm every execution gets (see
// hooks.BenchmarkNewRuntime): the price of no state surviving from one login to the next.
func BenchmarkRefreshActionOverhead(b *testing.B) {
	timeRefreshes := func(withAction bool, n int) (wall, cpu time.Duration) {
		e := newEnv(b)
		if withAction {
			e.putAction("roles", typicalAction, nil)
			e.bind("roles")
		}
		rt, _ := e.serve(b, passwordForm("scope", "openid profile email offline_access"))["refresh_token"].(string)
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret}}
		start, startCPU := time.Now(), processCPU()
		for range n {
			form.Set("refresh_token", rt)
			body := e.serve(b, form)
			rt, _ = body["refresh_token"].(string)
			if withAction && !strings.Contains(body["id_token"].(string), ".") {
				b.Fatal("no ID token")
			}
		}
		return time.Since(start), processCPU() - startCPU
	}
	// Warm both paths (key caches, compiled program) before timing.
	timeRefreshes(false, 20)
	timeRefreshes(true, 20)
	var base, with, baseCPU, withCPU time.Duration
	for b.Loop() {
		w, c := timeRefreshes(false, 50)
		base, baseCPU = base+w, baseCPU+c
		w, c = timeRefreshes(true, 50)
		with, withCPU = with+w, withCPU+c
	}
	b.ReportMetric(float64(with-base)/float64(base), "added-ratio")
	b.ReportMetric(float64(with-base)/float64(b.N*50), "added-ns/refresh")
	if baseCPU > 0 {
		// CPU time is what a loaded machine distorts least: other processes stretch wall time.
		b.ReportMetric(float64(withCPU-baseCPU)/float64(baseCPU), "added-cpu-ratio")
	}
}

// TestActionOfflineAccessObeysScopeRules: offline_access added by an Action gives a refresh
// token only where a requested one would (WIRE.md §1): an API that allows offline access and a
// client with the refresh_token grant. Elsewhere it is silently dropped from the granted scope.
func TestActionOfflineAccessObeysScopeRules(t *testing.T) {
	cases := []struct {
		name        string
		setup       func(e *env)
		kv          []string
		wantScope   string
		wantRefresh bool
	}{
		{name: "no audience", kv: []string{"audience", "", "scope", "openid"},
			wantScope: "openid profile email address phone"},
		{name: "API without offline access", setup: func(e *env) {
			e.mustAPI(store.ResourceServer{Identifier: "https://no-offline", Scopes: []store.Scope{{Value: "x"}}})
		}, kv: []string{"audience", "https://no-offline"}, wantScope: "x"},
		{name: "client without the refresh_token grant", setup: (*env).noRefreshClient,
			kv: []string{"client_id", "no-refresh", "client_secret", ""}, wantScope: defaultScope},
		{name: "allowed", wantScope: defaultScope + " offline_access", wantRefresh: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			e.putAction("offline", action(`api.accessToken.addScope('offline_access');`), nil)
			e.bind("offline")
			r := e.postForm("/oauth/token", passwordForm(tc.kv...))
			if r.Status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", r.Status, r.Raw)
			}
			if got := r.str("scope"); got != tc.wantScope {
				t.Errorf("response scope: got %q, want %q", got, tc.wantScope)
			}
			if got := e.verify(r.str("access_token")).Claims["scope"]; got != tc.wantScope {
				t.Errorf("access token scope: got %v, want %q", got, tc.wantScope)
			}
			rt := r.str("refresh_token")
			if (rt != "") != tc.wantRefresh {
				t.Fatalf("refresh_token present: got %v, want %v (%s)", rt != "", tc.wantRefresh, r.Raw)
			}
			if rt != "" {
				if r := e.postForm("/oauth/token", refreshForm(rt)); r.Status != http.StatusOK {
					t.Errorf("refresh with the Action's refresh token: got %d %s, want 200", r.Status, r.Raw)
				}
			}
		})
	}
}

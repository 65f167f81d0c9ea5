package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/directory/ldap/slapdtest"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// ldapTenant is a tenant whose employees log in through an ad connection to the test slapd,
// with a post-login Action that puts their groups in the access token.
const ldapTenant = `
clients:
  - name: Staff App
    app_type: native
    grant_types: [password, http://auth0.com/oauth/grant-type/password-realm, refresh_token]
    refresh_token: {rotation_type: rotating, expiration_type: expiring, leeway: 0}
resourceServers:
  - name: Staff API
    identifier: https://staff.acme.test/
    allow_offline_access: true
connections:
  - name: employees
    strategy: ad
    enabled_clients: [Staff App]
    options: OPTIONS
actions:
  - name: groups
    code: "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://acme.test/groups', event.user.groups); };"
    supported_triggers: [{id: post-login, version: v3}]
triggers:
  post-login:
    - action_name: groups
`

type ldapRealm struct {
	t        *testing.T
	srv      *Server
	base     string
	clientID string
	sl       *slapdtest.Slapd
}

func startLDAPRealm(t *testing.T, change func(map[string]any)) *ldapRealm {
	t.Helper()
	sl := slapdtest.Start(t)
	srv, ts := openWith(t, nil, Options{})
	opts := sl.Options()
	opts["ldap_recheck_seconds"] = 0 // every refresh asks the directory
	if change != nil {
		change(opts)
	}
	raw, _ := json.Marshal(opts)
	tf, err := config.ParseTenantFile([]byte(strings.Replace(ldapTenant, "OPTIONS", string(raw), 1)), config.TenantOptions{BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Admin.Apply(t.Context(), tf); err != nil {
		t.Fatalf("apply: %v", err)
	}
	clients, err := srv.Store.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := &ldapRealm{t: t, srv: srv, base: ts.URL, sl: sl}
	for _, c := range clients {
		if c.Name == "Staff App" {
			r.clientID = c.ClientID
		}
	}
	return r
}

func (r *ldapRealm) post(form url.Values) (int, map[string]any) {
	r.t.Helper()
	form.Set("client_id", r.clientID)
	res, err := http.PostForm(r.base+"/oauth/token", form)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func (r *ldapRealm) login(user, pw string) (int, map[string]any) {
	r.t.Helper()
	return r.post(url.Values{"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"}, "realm": {"employees"},
		"username": {user}, "password": {pw}, "audience": {"https://staff.acme.test/"}, "scope": {"openid profile email offline_access"}})
}

func (r *ldapRealm) refresh(rt string) (int, map[string]any) {
	r.t.Helper()
	return r.post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func claims(t *testing.T, jwt any) map[string]any {
	t.Helper()
	s, _ := jwt.(string)
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", s)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func wantError(t *testing.T, what string, status int, body map[string]any, wantStatus int, code, desc string) {
	t.Helper()
	if status != wantStatus || body["error"] != code || (desc != "" && body["error_description"] != desc) {
		t.Errorf("%s: got %d %v, want %d %s %q", what, status, body, wantStatus, code, desc)
	}
}

// TestLDAPRealmLogin: users of the directory log in through the realm, get a Sesame user
// record, and their groups reach the access token through an Action; wrong and unknown
// credentials, an empty password and filter injection are refused alike.
func TestLDAPRealmLogin(t *testing.T) {
	r := startLDAPRealm(t, nil)
	aliceID := "ad|employees|" + r.sl.EntryUUID("uid=alice,"+slapdtest.People)
	status, body := r.login("alice", slapdtest.AlicePass)
	if status != http.StatusOK {
		t.Fatalf("login: got %d %v", status, body)
	}
	at := claims(t, body["access_token"])
	groups, _ := at["https://acme.test/groups"].([]any)
	if at["sub"] != aliceID || !slices.Equal(groups, []any{"admins", "engineering"}) {
		t.Errorf("access token: sub %v groups %v, want %s [admins engineering]", at["sub"], at["https://acme.test/groups"], aliceID)
	}
	id := claims(t, body["id_token"])
	if id["email"] != "alice@acme.test" || id["name"] != "Alice Archer" || id["given_name"] != "Alice" || id["family_name"] != "Archer" {
		t.Errorf("id token profile: %v", id)
	}
	u, err := r.srv.Store.GetUser(t.Context(), aliceID)
	if err != nil || u.Connection != "employees" || u.Email != "alice@acme.test" || u.LoginsCount != 1 {
		t.Errorf("user record: got %+v, %v", u, err)
	}
	// Sesame's profile endpoint answers for the directory's user too.
	req, _ := http.NewRequest(http.MethodGet, r.base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("userinfo: got %v, %v", res, err)
	} else {
		res.Body.Close()
	}

	const wrong = "Wrong email or password."
	for _, tc := range []struct{ name, user, pw string }{
		{"wrong password", "alice", "not-her-password"},
		{"unknown user", "mallory", "whatever"},
		{"filter injection", "*)(uid=*", slapdtest.AlicePass},
		{"wildcard", "*", slapdtest.AlicePass},
		{"several entries", "dup", slapdtest.DupPass},
	} {
		status, body := r.login(tc.user, tc.pw)
		wantError(t, tc.name, status, body, http.StatusForbidden, "invalid_grant", wrong)
	}
	status, body = r.login("alice", "")
	wantError(t, "empty password", status, body, http.StatusBadRequest, "invalid_request", "Missing required parameter: password")

	flush(t, r.srv)
	for typ, user := range map[string]string{"fp": "alice", "fu": "mallory"} {
		evs, err := r.srv.Store.ListLogs(t.Context(), store.LogFilter{Type: typ})
		if err != nil || !slices.ContainsFunc(evs, func(e store.LogEvent) bool { return e.UserName == user && e.Connection == "employees" }) {
			t.Errorf("tenant log: no %s event for %s on employees (%v)", typ, user, err)
		}
	}
}

// TestLDAPRealmRefresh: a refresh asks the directory again: a locked entry is refused as a
// blocked user, a deleted one as gone, and while the directory is down a user it answered
// for recently keeps refreshing (the outage grace) while logins get a clean 503.
func TestLDAPRealmRefresh(t *testing.T) {
	r := startLDAPRealm(t, func(o map[string]any) { o["ldap_timeout_ms"] = 700 })
	tokens := map[string]string{}
	for user, pw := range map[string]string{"alice": slapdtest.AlicePass, "bob": slapdtest.BobPass, "carol": slapdtest.CarolPass} {
		status, body := r.login(user, pw)
		if status != http.StatusOK || body["refresh_token"] == nil {
			t.Fatalf("login %s: got %d %v", user, status, body)
		}
		tokens[user] = body["refresh_token"].(string)
	}
	step := func(user string) (int, map[string]any) {
		status, body := r.refresh(tokens[user])
		if status == http.StatusOK {
			tokens[user] = body["refresh_token"].(string)
		}
		return status, body
	}
	if status, body := step("alice"); status != http.StatusOK {
		t.Fatalf("refresh: got %d %v", status, body)
	}
	r.sl.Lock("uid=bob," + slapdtest.People)
	status, body := step("bob")
	wantError(t, "locked entry", status, body, http.StatusForbidden, "invalid_grant", "user is blocked")
	r.sl.Delete("uid=carol," + slapdtest.People)
	status, body = step("carol")
	wantError(t, "deleted entry", status, body, http.StatusForbidden, "invalid_grant", "The refresh_token was generated for a user who doesn't exist anymore.")

	for _, outage := range []struct {
		name     string
		down, up func()
	}{{"stopped", r.sl.Stop, r.sl.Restart}, {"hung", r.sl.Pause, r.sl.Resume}} {
		outage.down()
		start := time.Now()
		status, body = r.login("alice", slapdtest.AlicePass)
		took := time.Since(start)
		wantError(t, outage.name+" directory: login", status, body, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		// A bound for a hang, not a speed claim: the timeout is 700ms.
		if took > 5*time.Second {
			t.Errorf("%s directory: login answered after %v", outage.name, took)
		}
		if status, body := step("alice"); status != http.StatusOK {
			t.Errorf("%s directory: refresh within the outage grace got %d %v, want 200", outage.name, status, body)
		}
		outage.up()
		if status, body := r.login("alice", slapdtest.AlicePass); status != http.StatusOK {
			t.Errorf("%s directory back: login got %d %v", outage.name, status, body)
		}
	}
}

// TestLDAPRealmBruteForce: brute-force protection holds for the directory's users under
// parallel bursts: of a burst of wrong passwords, no more than the allowed attempts reach a
// verdict, and the right password is refused afterwards.
func TestLDAPRealmBruteForce(t *testing.T) {
	r := startLDAPRealm(t, nil)
	ap := guard.Defaults()
	ap.BruteForce.MaxAttempts = 3
	if err := r.srv.Store.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.AttackProtection = &ap; return nil }); err != nil {
		t.Fatal(err)
	}
	for round, user := range []string{"bob", "alice"} {
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, _ := r.login(user, "wrong-password")
				mu.Lock()
				counts[status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts[http.StatusForbidden] > 3 || counts[http.StatusForbidden]+counts[http.StatusTooManyRequests] != 12 {
			t.Errorf("round %d: got %v, want at most 3 verdicts (403) and the rest 429", round, counts)
		}
		pw := map[string]string{"bob": slapdtest.BobPass, "alice": slapdtest.AlicePass}[user]
		status, body := r.login(user, pw)
		wantError(t, "right password after the burst", status, body, http.StatusTooManyRequests, "too_many_attempts", "")
	}
}

// TestLDAPRealmRefreshOutage: without an outage grace, a refresh while the directory is down
// gets a clean 503 and does not spend the refresh token, which works once the directory is back.
func TestLDAPRealmRefreshOutage(t *testing.T) {
	r := startLDAPRealm(t, func(o map[string]any) { o["ldap_outage_grace_seconds"] = 0; o["ldap_timeout_ms"] = 500 })
	status, body := r.login("alice", slapdtest.AlicePass)
	if status != http.StatusOK {
		t.Fatalf("login: got %d %v", status, body)
	}
	rt := body["refresh_token"].(string)
	r.sl.Stop()
	status, body = r.refresh(rt)
	wantError(t, "refresh, directory down", status, body, http.StatusServiceUnavailable, "temporarily_unavailable",
		"The user directory is unavailable. Please retry later.")
	r.sl.Restart()
	if status, body := r.refresh(rt); status != http.StatusOK {
		t.Errorf("refresh with the same token once the directory is back: got %d %v", status, body)
	}
}

// TestLDAPRealmStartTLS: the realm works over StartTLS with the directory's CA given inline
// (through the Management API's service); a CA that did not sign the server's certificate gets
// a clean 503.
func TestLDAPRealmStartTLS(t *testing.T) {
	other := slapdtest.Start(t) // only its CA is used
	for _, tc := range []struct {
		name   string
		ca     func(sl *slapdtest.Slapd) []byte
		status int
	}{
		{"test CA", func(sl *slapdtest.Slapd) []byte { return sl.CAPEM }, http.StatusOK},
		{"another CA", func(*slapdtest.Slapd) []byte { return other.CAPEM }, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startLDAPRealm(t, nil)
			opts := r.sl.Options()
			opts["ldap_starttls"], opts["ldap_ca"] = true, string(tc.ca(r.sl))
			c, err := r.srv.Admin.GetConnection(t.Context(), "employees")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.srv.Admin.UpdateConnection(t.Context(), c.ID, admin.ConnectionPatch{Options: &opts}); err != nil {
				t.Fatal(err)
			}
			if status, body := r.login("bob", slapdtest.BobPass); status != tc.status {
				t.Errorf("login: got %d %v, want %d", status, body, tc.status)
			}
		})
	}
}

package mgmtapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/directory/ldap/slapdtest"
)

// TestConnectionsAD: an ad connection is created and changed through the Management API with
// its LDAP options; the bind password is sealed at rest, never returned, and kept by a PATCH
// that leaves it out (as Terraform and the Deploy CLI send back what they read); bad options
// are refused naming the option.
func TestConnectionsAD(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:connections", "create:connections", "update:connections")
	opts := map[string]any{"ldap_url": "ldap://127.0.0.1:389", "ldap_bind_user": "cn=sesame,dc=acme,dc=test",
		"ldap_bind_credentials": "s3cret-bind", "ldap_base": "ou=people,dc=acme,dc=test", "ldap_user_by_name": "(uid={0})",
		"ldap_timeout_ms": 2000}
	r := e.do(t, "POST", "/connections", tok, map[string]any{"name": "employees", "strategy": "ad", "options": opts})
	if r.status != 201 || strings.Contains(r.raw, "s3cret-bind") || strings.Contains(r.raw, "ldap_bind_credentials") {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["id"].(string)
	got := r.obj(t)["options"].(map[string]any)
	if got["ldap_url"] != "ldap://127.0.0.1:389" || got["ldap_timeout_ms"] != float64(2000) {
		t.Errorf("create: options %v", got)
	}
	stored, err := e.st.GetConnection(t.Context(), "employees")
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := stored.Options["ldap_bind_credentials_sealed"].(string)
	if sealed == "" || strings.Contains(sealed, "s3cret-bind") || stored.Options["ldap_bind_credentials"] != nil {
		t.Fatalf("stored options: %v, want the password sealed only", stored.Options)
	}
	if r := e.do(t, "GET", "/connections/"+id, tok, nil); r.status != 200 || strings.Contains(r.raw, "ldap_bind_credentials") {
		t.Errorf("get: %d %s", r.status, r.raw)
	}
	// A PATCH with the options as read (no secret) keeps the sealed password.
	got["ldap_timeout_ms"] = 3000
	if r := e.do(t, "PATCH", "/connections/"+id, tok, map[string]any{"options": got}); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	if stored, _ = e.st.GetConnection(t.Context(), "employees"); stored.Options["ldap_bind_credentials_sealed"] != sealed ||
		stored.Options["ldap_timeout_ms"] != float64(3000) {
		t.Errorf("after patch: %v, want the same sealed password and the new timeout", stored.Options)
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   map[string]any
		want   string
	}{
		{"bad url", "PATCH", "/connections/" + id, map[string]any{"options": map[string]any{"ldap_url": "http://x", "ldap_bind_user": "cn=a",
			"ldap_base": "dc=x"}}, "options.ldap_url"},
		{"anonymous search", "POST", "/connections", map[string]any{"name": "anon", "strategy": "ad",
			"options": map[string]any{"ldap_url": "ldap://h", "ldap_base": "dc=x"}}, "options.ldap_bind_user"},
		{"filter without placeholder", "POST", "/connections", map[string]any{"name": "nofilter", "strategy": "ldap",
			"options": map[string]any{"ldap_url": "ldap://h", "ldap_base": "dc=x", "ldap_bind_user": "cn=a", "ldap_bind_credentials": "p",
				"ldap_user_by_name": "(uid=alice)"}}, "options.ldap_user_by_name"},
	} {
		r := e.do(t, tc.method, tc.path, tok, tc.body)
		if r.status != 400 || !strings.Contains(r.raw, tc.want) {
			t.Errorf("%s: got %d %s, want 400 naming %s", tc.name, r.status, r.raw, tc.want)
		}
	}
}

// TestConnectionTestAPI: POST /connections/{id}/test (a Sesame extension) against a real
// slapd answers each step of a login and whether it succeeded, with what a refusal means;
// it needs update:connections, refuses other strategies and a missing username, never
// echoes the password, and a stopped directory is explained, not a 500.
func TestConnectionTestAPI(t *testing.T) {
	sl := slapdtest.Start(t)
	e := newEnv(t)
	tok := e.token(t, "read:connections", "create:connections", "update:connections")
	r := e.do(t, "POST", "/connections", tok, map[string]any{"name": "employees", "strategy": "ad", "options": sl.Options()})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["id"].(string)
	path := "/connections/" + id + "/test"

	r = e.do(t, "POST", path, tok, map[string]any{"username": "alice", "password": slapdtest.AlicePass})
	got := r.obj(t)
	if r.status != 200 || got["succeeded"] != true || !strings.HasPrefix(got["user_id"].(string), "ad|employees|") {
		t.Fatalf("alice: %d %s, want a successful login", r.status, r.raw)
	}
	var names []string
	for _, s := range got["steps"].([]any) {
		step := s.(map[string]any)
		names = append(names, step["name"].(string))
		if step["ok"] != true {
			t.Errorf("step %v failed in a good login", step)
		}
	}
	for _, want := range []string{"connect", "service bind", "search", "user bind", "groups"} {
		if !slices.Contains(names, want) {
			t.Errorf("steps %v lack %q", names, want)
		}
	}
	if !slices.Contains(anyStrings(got["groups"]), "admins") || strings.Contains(r.raw, slapdtest.AlicePass) || strings.Contains(r.raw, slapdtest.ServicePass) {
		t.Errorf("alice: %s, want the admins group and no password", r.raw)
	}

	for _, tc := range []struct{ name, username, password, want string }{
		{"wrong password", "alice", "Wrong-Pw-17", "wrong password"},
		{"no such entry", "*)(uid=*", "Unlikely-Pw-42", "no entry matches"},
		{"empty password", "alice", "", "empty password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", path, tok, map[string]any{"username": tc.username, "password": tc.password})
			got := r.obj(t)
			if r.status != 200 || got["succeeded"] != false || !strings.Contains(got["explanation"].(string), tc.want) {
				t.Errorf("got %d %s, want a refusal explaining %q", r.status, r.raw, tc.want)
			}
			if tc.password != "" && strings.Contains(r.raw, tc.password) {
				t.Errorf("the answer echoes the password: %s", r.raw)
			}
		})
	}

	wantError(t, e.do(t, "POST", path, tok, map[string]any{"password": "x"}),
		400, "invalid_body", "Payload validation error: username: is required")
	wantError(t, e.do(t, "POST", path, e.token(t, "read:connections"), map[string]any{"username": "alice", "password": "x"}),
		403, "insufficient_scope", "Insufficient scope, expected any of: update:connections")
	wantError(t, e.do(t, "POST", "/connections/con_nope/test", tok, map[string]any{"username": "alice", "password": "x"}),
		404, "inexistent_connection", "The connection does not exist.")
	db := e.do(t, "POST", "/connections", tok, map[string]any{"name": "db", "strategy": "auth0"}).obj(t)
	if r := e.do(t, "POST", "/connections/"+db["id"].(string)+"/test", tok, map[string]any{"username": "a", "password": "b"}); r.status != 400 ||
		!strings.Contains(r.raw, "only ad and ldap connections") {
		t.Errorf("database connection: %d %s, want 400", r.status, r.raw)
	}

	sl.Stop()
	r = e.do(t, "POST", path, tok, map[string]any{"username": "alice", "password": slapdtest.AlicePass})
	if got := r.obj(t); r.status != 200 || got["succeeded"] != false || !strings.Contains(got["explanation"].(string), "could not be reached") {
		t.Errorf("stopped directory: %d %s, want an explained refusal", r.status, r.raw)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

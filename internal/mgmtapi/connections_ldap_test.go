package mgmtapi_test

import (
	"strings"
	"testing"
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

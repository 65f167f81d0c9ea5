package mgmtapi_test

import (
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
)

// TestPasswordlessConnections: the Management API creates and patches connections of strategy
// email and sms with Auth0's options, and refuses options Sesame could not honour (a code
// valid under 60 s, an email body without the code) with the field named, changing nothing.
func TestPasswordlessConnections(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:connections", "create:connections", "update:connections")
	app := e.mustClient(t, admin.ClientInput{Name: "App"})
	r := e.do(t, "POST", "/connections", tok, map[string]any{"name": "email", "strategy": "email",
		"enabled_clients": []string{app.ClientID},
		"options": map[string]any{"totp": map[string]any{"length": 6, "time_step": 300}, "disable_signup": true,
			"email": map[string]any{"from": "{{ application.name }} <a@example.com>", "subject": "Code", "body": "<p>{{ code }}</p>", "syntax": "liquid"}}})
	if r.status != 201 || r.obj(t)["strategy"] != "email" {
		t.Fatalf("create email: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["id"].(string)
	if r := e.do(t, "POST", "/connections", tok, map[string]any{"name": "sms", "strategy": "sms",
		"options": map[string]any{"template": "Your code: {{ code }}"}}); r.status != 201 {
		t.Fatalf("create sms: %d %s", r.status, r.raw)
	}
	if got := e.do(t, "GET", "/connections?strategy=sms", tok, nil).arr(t); len(got) != 1 {
		t.Errorf("strategy filter: %v", got)
	}
	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		field              string
	}{
		{"short validity", "POST", "/connections", map[string]any{"name": "email2", "strategy": "email",
			"options": map[string]any{"totp": map[string]any{"time_step": 30}}}, "options.totp.time_step"},
		{"body without code", "POST", "/connections", map[string]any{"name": "email3", "strategy": "email",
			"options": map[string]any{"email": map[string]any{"body": "hello"}}}, "options.email.body"},
		{"sms template without code", "POST", "/connections", map[string]any{"name": "sms2", "strategy": "sms",
			"options": map[string]any{"template": "hi"}}, "options.template"},
		{"patch length", "PATCH", "/connections/" + id, map[string]any{"options": map[string]any{"totp": map[string]any{"length": 40}}}, "options.totp.length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, tok, tc.body)
			if r.status != 400 || r.obj(t)["errorCode"] != "invalid_body" || !strings.Contains(r.obj(t)["message"].(string), tc.field) {
				t.Errorf("got %d %s, want 400 invalid_body naming %s", r.status, r.raw, tc.field)
			}
		})
	}
	opts := e.do(t, "GET", "/connections/"+id, tok, nil).obj(t)["options"].(map[string]any)
	if totp, _ := opts["totp"].(map[string]any); totp["length"] != float64(6) || opts["disable_signup"] != true {
		t.Errorf("options after a refused patch: %v", opts)
	}
}

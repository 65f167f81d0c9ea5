package hooks_test

import (
	"fmt"
	"testing"

	"github.com/sesameauth/sesame/internal/hooks"
)

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		wantErr  bool
		protocol string
		email    string
		secret   string
	}{
		{name: "dashboard sample", in: `{"user":{"user_id":"auth0|1","email":"j@example.com","app_metadata":{"a":1}},
"transaction":{"protocol":"oauth2-refresh-token","requested_scopes":["openid"]},"secrets":{"K":"v"},
"refresh_token":{"id":"rt1"}}`, protocol: "oauth2-refresh-token", email: "j@example.com", secret: "v"},
		{name: "empty object", in: `{}`, protocol: "oauth2-password"},
		{name: "not JSON", in: `{"user":`, wantErr: true},
		{name: "wrong type", in: `{"user":{"email":5}}`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, secrets, err := hooks.ParseEvent([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if ev.Protocol != tc.protocol || ev.User.Email != tc.email || secrets["K"] != tc.secret {
				t.Errorf("got protocol %q email %q secret %q, want %q %q %q", ev.Protocol, ev.User.Email, secrets["K"], tc.protocol, tc.email, tc.secret)
			}
		})
	}
}

// FuzzParseEvent feeds arbitrary sample events to ParseEvent and runs what parses through a
// trivial action: neither may panic.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"user":{"user_id":"auth0|1","app_metadata":{"roles":["a"]}},"secrets":{"K":"v"}}`))
	f.Add([]byte(`{"transaction":{"protocol":"oauth2-refresh-token"},"refresh_token":{"id":"x"}}`))
	f.Add([]byte(`[]`))
	e := hooks.NewEngine(hooks.Options{})
	flow, err := e.Flow(nil, []hooks.Action{{Name: "a", Code: `exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://x/u', JSON.stringify(event.user));
};`}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, _, err := hooks.ParseEvent(data)
		if err != nil {
			return
		}
		if _, err := flow.PostLogin(t.Context(), ev); err != nil {
			t.Errorf("PostLogin on a parsed event: %v", err)
		}
	})
}

// TestUserGroups: a directory's groups reach an Action as event.user.groups (as at Auth0 for
// AD/LDAP users); a user without groups has no groups property.
func TestUserGroups(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{})
	flow, err := e.Flow(nil, []hooks.Action{{Name: "groups", Code: `exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://x/groups', event.user.groups === undefined ? 'none' : event.user.groups);
};`}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"ldap user", `{"user":{"user_id":"ad|employees|1","groups":["admins","engineering"]}}`, `[admins engineering]`},
		{"database user", `{"user":{"user_id":"auth0|1"}}`, `none`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, _, err := hooks.ParseEvent([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			out, err := flow.PostLogin(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(out.AccessClaims["https://x/groups"]); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

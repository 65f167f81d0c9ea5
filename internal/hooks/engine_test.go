package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/hooks"
)

func event() hooks.Event {
	return hooks.Event{Protocol: hooks.ProtocolPassword, Scopes: []string{"read:sample"},
		User:   hooks.User{UserID: "auth0|1", Email: "alice@example.com", AppMetadata: map[string]any{"plan": "gold"}},
		Client: hooks.Client{ClientID: "app1", Name: "App"}}
}

func TestPostLogin(t *testing.T) {
	cases := []struct {
		name    string
		rules   []hooks.Rule
		actions []hooks.Action
		check   func(t *testing.T, o hooks.Outcome, err error)
	}{
		{
			name: "later action sees earlier metadata, claims and scopes collected",
			actions: []hooks.Action{
				{Name: "one", Code: `exports.onExecutePostLogin = async (event, api) => {
  api.user.setAppMetadata('seen', event.user.app_metadata.plan);
  api.accessToken.addScope('extra'); api.accessToken.removeScope('read:sample');
};`},
				{Name: "two", Code: `exports.onExecutePostLogin = async (event, api) => {
  await Promise.resolve(1);
  api.accessToken.setCustomClaim('https://x/seen', event.user.app_metadata.seen + ':' + event.secrets.K);
};`, Secrets: map[string]string{"K": "v"}},
			},
			check: func(t *testing.T, o hooks.Outcome, err error) {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if got := o.AccessClaims["https://x/seen"]; got != "gold:v" {
					t.Errorf("claim: got %v, want gold:v", got)
				}
				if diff := cmp.Diff([]string{"extra"}, o.Scopes); diff != "" || !o.ScopesChanged {
					t.Errorf("scopes (changed %v): (-want +got)\n%s", o.ScopesChanged, diff)
				}
				if got := o.AppMetadata["seen"]; got != "gold" {
					t.Errorf("app_metadata.seen: got %v, want gold", got)
				}
				if len(o.Executions) != 2 || o.Executions[1].Name != "two" || o.Executions[1].Error != "" {
					t.Errorf("executions: got %+v, want one and two without error", o.Executions)
				}
			},
		},
		{
			name:    "deny stops the flow",
			actions: []hooks.Action{{Name: "deny", Code: `exports.onExecutePostLogin = async (e, api) => { api.access.deny('nope'); };`}, {Name: "never", Code: `exports.onExecutePostLogin = async (e, api) => { throw new Error('ran'); };`}},
			check: func(t *testing.T, o hooks.Outcome, err error) {
				var d *hooks.DeniedError
				if !errors.As(err, &d) || d.Reason != "nope" {
					t.Errorf("got %v, want DeniedError nope", err)
				}
				if len(o.Executions) != 1 {
					t.Errorf("executions: got %d, want 1", len(o.Executions))
				}
			},
		},
		{
			name: "api methods replaced by one action are whole in the next",
			actions: []hooks.Action{{Name: "tamper", Code: `exports.onExecutePostLogin = async (e, api) => {
  'use strict';
  api.access.deny = () => {};
  api.accessToken.setCustomClaim = () => {};
};`}, {Name: "next", Code: `exports.onExecutePostLogin = async (e, api) => {
  api.accessToken.setCustomClaim('https://x/next', true);
  api.access.deny('denied by next');
};`}},
			check: func(t *testing.T, o hooks.Outcome, err error) {
				var d *hooks.DeniedError
				if !errors.As(err, &d) || d.Reason != "denied by next" || o.AccessClaims["https://x/next"] != true {
					t.Errorf("got %v, %v; want the claim set and the login denied by the second action", o.AccessClaims, err)
				}
			},
		},
		{
			name:    "infinite loop times out",
			actions: []hooks.Action{{Name: "loop", Code: `exports.onExecutePostLogin = async () => { for (;;) {} };`}},
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				if !errors.Is(err, hooks.ErrTimeout) {
					t.Errorf("got %v, want ErrTimeout", err)
				}
			},
		},
		{
			name:    "rejected promise is an execution error",
			actions: []hooks.Action{{Name: "boom", Code: `exports.onExecutePostLogin = async () => { await null; throw new TypeError('bad'); };`}},
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				var ee *hooks.ExecutionError
				if !errors.As(err, &ee) || ee.Err.Error() != "TypeError: bad" {
					t.Errorf("got %v, want ExecutionError TypeError: bad", err)
				}
			},
		},
		{
			name:    "require is refused",
			actions: []hooks.Action{{Name: "req", Code: `const fs = require('fs'); exports.onExecutePostLogin = async () => {};`}},
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				var ee *hooks.ExecutionError
				if !errors.As(err, &ee) {
					t.Errorf("got %v, want ExecutionError", err)
				}
			},
		},
		{
			name:    "string bomb refused",
			actions: []hooks.Action{{Name: "bomb", Code: `exports.onExecutePostLogin = async () => { 'x'.repeat(1e9); };`}},
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				var ee *hooks.ExecutionError
				if !errors.As(err, &ee) || ee.Err.Error() != "RangeError: Invalid string length" {
					t.Errorf("got %v, want RangeError", err)
				}
			},
		},
		{
			name: "rules run first and pass claims along",
			rules: []hooks.Rule{
				{Name: "r1", Script: `function (user, context, callback) { context.accessToken['https://r/1'] = context.protocol; callback(null, user, context); }`},
				{Name: "r2", Script: `function (user, context, callback) { context.idToken['https://r/2'] = context.accessToken['https://r/1'] + '!'; context.accessToken.scope = ['a', 'b']; callback(null, user, context); }`},
			},
			actions: []hooks.Action{{Name: "a", Code: `exports.onExecutePostLogin = async (e, api) => { api.accessToken.addScope('c'); };`}},
			check: func(t *testing.T, o hooks.Outcome, err error) {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if o.AccessClaims["https://r/1"] != "oauth2-password" || o.IDClaims["https://r/2"] != "oauth2-password!" {
					t.Errorf("claims: got %v / %v", o.AccessClaims, o.IDClaims)
				}
				if diff := cmp.Diff([]string{"a", "b", "c"}, o.Scopes); diff != "" {
					t.Errorf("scopes: (-want +got)\n%s", diff)
				}
			},
		},
		{
			name:  "rule unauthorized",
			rules: []hooks.Rule{{Name: "r", Script: `function (user, context, callback) { Promise.resolve().then(() => callback(new UnauthorizedError('go away'))); }`}},
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				var u *hooks.UnauthorizedError
				if !errors.As(err, &u) || u.Message != "go away" {
					t.Errorf("got %v, want UnauthorizedError go away", err)
				}
			},
		},
		{
			name:  "rule redirect",
			rules: []hooks.Rule{{Name: "r", Script: `function (user, context, callback) { context.redirect = {url: 'https://x'}; callback(null, user, context); }`}},
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				var r *hooks.RedirectError
				if !errors.As(err, &r) || r.URL != "https://x" {
					t.Errorf("got %v, want RedirectError https://x", err)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := hooks.NewEngine(hooks.Options{Timeout: 200 * time.Millisecond})
			f, err := e.Flow(tc.rules, tc.actions)
			if err != nil {
				t.Fatalf("Flow: %v", err)
			}
			o, err := f.PostLogin(t.Context(), event())
			tc.check(t, o, err)
			// A failure leaves nothing behind: the next execution still runs its promise jobs.
			ok, _ := e.Flow(nil, []hooks.Action{{Name: "ok", Code: `exports.onExecutePostLogin = async () => { await null; };`}})
			if _, err := ok.PostLogin(context.Background(), event()); err != nil {
				t.Errorf("next execution: got %v, want nil", err)
			}
		})
	}
}

func TestCompileErrorPosition(t *testing.T) {
	cases := []struct {
		name      string
		code      string
		rule      bool
		line, col int
	}{
		{name: "action line 2", code: "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim('a' 'b');\n};", line: 2, col: 38},
		{name: "action line 1", code: "exports.x = = 1;", line: 1, col: 13},
		{name: "rule", code: "function (user, context, callback) {\n callback(null user);\n}", rule: true, line: 2, col: 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := hooks.NewEngine(hooks.Options{})
			var err error
			if tc.rule {
				err = e.CompileRule("r", tc.code)
			} else {
				err = e.CompileAction("a", tc.code)
			}
			var ce *hooks.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want CompileError", err)
			}
			if ce.Line != tc.line || ce.Column != tc.col {
				t.Errorf("position: got %d:%d (%s), want %d:%d", ce.Line, ce.Column, ce.Message, tc.line, tc.col)
			}
		})
	}
}

func TestConcurrentLogins(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{Timeout: time.Second})
	f, err := e.Flow(nil, []hooks.Action{{Name: "who", Code: `exports.onExecutePostLogin = async (event, api) => {
  await null;
  api.accessToken.setCustomClaim('https://x/who', event.user.user_id);
  if (event.user.user_id === 'deny') api.access.deny('no');
};`}})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			ev := event()
			ev.User.UserID = fmt.Sprintf("user-%d", i)
			if i%4 == 0 {
				ev.User.UserID = "deny"
			}
			o, err := f.PostLogin(t.Context(), ev)
			switch {
			case ev.User.UserID == "deny" && err == nil:
				errs <- fmt.Errorf("%s: got nil, want a denial", ev.User.UserID)
			case ev.User.UserID != "deny" && (err != nil || o.AccessClaims["https://x/who"] != ev.User.UserID):
				errs <- fmt.Errorf("%s: got claim %v, %v, want its own id", ev.User.UserID, o.AccessClaims["https://x/who"], err)
			default:
				errs <- nil
			}
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestActionAPIEdges(t *testing.T) {
	cases := []struct {
		name  string
		ev    func(*hooks.Event)
		code  string
		check func(t *testing.T, o hooks.Outcome, err error)
	}{
		{
			name: "multifactor.enable sets the flag and provider",
			code: `api.multifactor.enable('duo', {allowRememberBrowser: false});`,
			check: func(t *testing.T, o hooks.Outcome, err error) {
				if err != nil || !o.MFA || o.MFAProvider != "duo" {
					t.Errorf("got MFA %v provider %q err %v, want true duo nil", o.MFA, o.MFAProvider, err)
				}
			},
		},
		{
			name: "refreshToken.revoke outside a refresh throws",
			code: `api.refreshToken.revoke('x');`,
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				var ee *hooks.ExecutionError
				if !errors.As(err, &ee) {
					t.Errorf("got %v, want ExecutionError", err)
				}
			},
		},
		{
			name: "refreshToken.revoke on a refresh",
			ev: func(ev *hooks.Event) {
				ev.Protocol = hooks.ProtocolRefresh
				ev.RefreshToken = &hooks.RefreshToken{ID: "rtf_1"}
			},
			code: `if (event.refresh_token.id === 'rtf_1') api.refreshToken.revoke('bye');`,
			check: func(t *testing.T, _ hooks.Outcome, err error) {
				var re *hooks.RefreshRevokedError
				if !errors.As(err, &re) || re.Reason != "bye" {
					t.Errorf("got %v, want RefreshRevokedError bye", err)
				}
			},
		},
		{
			name: "metadata set to null deletes the key",
			code: `api.user.setAppMetadata('plan', null); api.user.setUserMetadata('lang', 'fr');`,
			check: func(t *testing.T, o hooks.Outcome, err error) {
				if err != nil || len(o.AppMetadata) != 0 || o.UserMetadata["lang"] != "fr" {
					t.Errorf("got app %v user %v err %v, want {} and lang fr", o.AppMetadata, o.UserMetadata, err)
				}
			},
		},
		{
			name: "event mutations do not reach the caller",
			code: `event.user.app_metadata.plan = 'hacked';`,
			check: func(t *testing.T, o hooks.Outcome, err error) {
				if err != nil || o.AppMetadata != nil {
					t.Errorf("got app %v err %v, want nil metadata (unchanged)", o.AppMetadata, err)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := hooks.NewEngine(hooks.Options{})
			f, err := e.Flow(nil, []hooks.Action{{Name: "a", Code: "exports.onExecutePostLogin = async (event, api) => {\n" + tc.code + "\n};"}})
			if err != nil {
				t.Fatal(err)
			}
			ev := event()
			if tc.ev != nil {
				tc.ev(&ev)
			}
			o, err := f.PostLogin(t.Context(), ev)
			tc.check(t, o, err)
			if ev.User.AppMetadata["plan"] != "gold" {
				t.Errorf("caller's app_metadata: got %v, want plan gold untouched", ev.User.AppMetadata)
			}
		})
	}
}

// TestRuleGlobalsDoNotSurvive runs, many times over, a Rule that replaces the UnauthorizedError
// class and the auth0 object the engine gives Rules, then a Rule that relies on both: each
// execution has its own realm, so the second always sees the engine's.
func TestRuleGlobalsDoNotSurvive(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{})
	tamper, err := e.Flow([]hooks.Rule{{Name: "tamper", Script: `function (user, context, callback) {
  UnauthorizedError = function () { this.name = 'Error'; this.message = 'tampered'; };
  auth0.users.updateAppMetadata = function () { return Promise.reject(new Error('tampered')); };
  callback(null, user, context);
}`}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rely, err := e.Flow([]hooks.Rule{{Name: "rely", Script: `function (user, context, callback) {
  auth0.users.updateAppMetadata(user.user_id, {plan: 'gold'})
    .then(function () { callback(new UnauthorizedError('blocked')); })
    .catch(function (err) { callback(err); });
}`}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := tamper.PostLogin(t.Context(), event()); err != nil {
			t.Fatalf("round %d: tampering rule: %v", i, err)
		}
		o, err := rely.PostLogin(t.Context(), event())
		var ue *hooks.UnauthorizedError
		if !errors.As(err, &ue) || ue.Message != "blocked" || o.AppMetadata["plan"] != "gold" {
			t.Fatalf("round %d: got %v (app_metadata %v), want UnauthorizedError blocked after the metadata update", i, err, o.AppMetadata)
		}
	}
}

package hooks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sesameauth/sesame/internal/hooks"
)

func TestRunDBScript(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		code    string
		args    []any
		want    hooks.DBResult
		wantErr string
	}{
		{
			name: "profile",
			code: `function login(email, password, callback) {
  callback(null, {user_id: 'u1', email: email, nickname: configuration.NICK});
}`,
			args: []any{"a@example.com", "pw"},
			want: hooks.DBResult{Args: 2, Value: map[string]any{"user_id": "u1", "email": "a@example.com", "nickname": "nick"}},
		},
		{
			name: "bcrypt callback and versioned require",
			code: `function login(email, password, callback) {
  var bcrypt = require('bcrypt@0.8.5');
  bcrypt.compare(password, configuration.HASH, function (err, ok) {
    if (err) return callback(err);
    if (!ok) return callback(new WrongUsernameOrPasswordError(email));
    callback(null, {id: 7});
  });
}`,
			args: []any{"a@example.com", "s3cret"},
			want: hooks.DBResult{Args: 2, Value: map[string]any{"id": int64(7)}},
		},
		{
			name: "bcrypt wrong password names the user (fp)",
			code: `function login(email, password, callback) {
  const bcrypt = require('bcryptjs');
  bcrypt.compare(password, configuration.HASH).then(function (ok) {
    callback(ok ? null : new WrongUsernameOrPasswordError(email, 'nope'));
  });
}`,
			args: []any{"a@example.com", "wrong"},
			want: hooks.DBResult{Args: 1, Err: &hooks.ScriptError{Name: "WrongUsernameOrPasswordError", Message: "nope", User: "a@example.com"}},
		},
		{
			name: "callback() is wrong credentials with no user (fu)",
			code: `function login(email, password, callback) { return callback(); }`,
			args: []any{"a@example.com", "x"},
			want: hooks.DBResult{Args: 0},
		},
		{
			name: "validation error",
			code: `async function create(user, callback) { callback(new ValidationError('user_exists', 'taken')); }`,
			args: []any{map[string]any{"email": "a@example.com"}},
			want: hooks.DBResult{Args: 1, Err: &hooks.ScriptError{Name: "ValidationError", Message: "taken", Code: "user_exists"}},
		},
		{
			name: "crypto and Buffer",
			code: `function login(email, password, callback) {
  var crypto = require('crypto');
  var salt = Buffer.from('c2FsdA==', 'base64');
  var h = crypto.createHash('sha256').update(password).digest('hex');
  var m = crypto.createHmac('sha256', salt).update(Buffer.from(password, 'ucs2')).digest('base64');
  var k = crypto.pbkdf2Sync(password, salt, 1000, 32, 'sha256');
  crypto.pbkdf2(password, salt, 1000, 16, function (err, k2) {
    callback(null, {user_id: h.slice(0, 8), hmac: m.length, k: k.length, k2: k2.toString('hex').length,
      eq: crypto.timingSafeEqual(Buffer.from('ab'), Buffer.from('ab')), salt: salt.toString(),
      cat: Buffer.concat([salt, Buffer.from('!')]).toString('utf8'), rnd: crypto.randomBytes(8).length});
  });
}`,
			args: []any{"a@example.com", "pw"},
			want: hooks.DBResult{Args: 2, Value: map[string]any{"user_id": "30c952fa", "hmac": int64(44), "k": int64(32), "k2": int64(32),
				"eq": true, "salt": "salt", "cat": "salt!", "rnd": int64(8)}},
		},
		{
			name:    "throw",
			code:    `function login(email, password, callback) { throw new Error('db down'); }`,
			args:    []any{"a", "b"},
			wantErr: "db down",
		},
		{
			name:    "never calls back",
			code:    `function login(email, password, callback) { var x = 1; }`,
			args:    []any{"a", "b"},
			wantErr: "without calling callback",
		},
		{
			name:    "unknown module at run time",
			code:    `function login(email, password, callback) { var m = require('mysql'); callback(null, {}); }`,
			args:    []any{"a", "b"},
			wantErr: "Cannot find module 'mysql'",
		},
		{
			name:    "pg without database access",
			code:    `function login(email, password, callback) { require('pg').connect('postgres://x', function (err, client, done) { client.query('select 1', [], function (err) { callback(err); }); }); }`,
			args:    []any{"a", "b"},
			want:    hooks.DBResult{Args: 1, Err: &hooks.ScriptError{Name: "GoError", Message: "pg: no database access is configured"}},
			wantErr: "",
		},
		{
			name:    "request without allowed hosts",
			code:    `function login(email, password, callback) { request.get({url: 'https://legacy.example/x', auth: {username: email, password: password}}, function (err, res, body) { callback(err); }); }`,
			args:    []any{"a", "b"},
			want:    hooks.DBResult{Args: 1, Err: &hooks.ScriptError{Name: "GoError", Message: `request: host "legacy.example" is not allowed: no host is allowed for scripts`}},
			wantErr: "",
		},
	}
	e := hooks.NewEngine(hooks.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.RunDBScript(t.Context(), hooks.DBScript{Name: "test/login", Code: tc.code, Args: tc.args,
				Configuration: map[string]string{"NICK": "nick", "HASH": string(hash)}})
			if tc.wantErr != "" {
				var ee *hooks.ExecutionError
				if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want an ExecutionError containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunDBScriptDeadline(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := e.RunDBScript(context.Background(), hooks.DBScript{Name: "loop/login",
		Code: `function login(email, password, callback) { while (true) {} }`, Args: []any{"a", "b"}})
	if !errors.Is(err, hooks.ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestCheckDBScript(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{})
	tests := []struct {
		name, code, wantErr string
	}{
		{"known modules", `function login(e, p, cb) { var b = require('bcrypt@0.8.5'), pg = require("pg"), c = require('crypto'); cb(); }`, ""},
		{"unknown module", `function login(e, p, cb) { var m = require('mysql'); var t = require('tedious@1.11.0'); cb(); }`, "require of mysql, tedious@1.11.0: not available"},
		{"syntax error", "function login(e, p, cb) {\n  cb(;\n}", "test:2:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.CheckDBScript("test", tc.code)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

package hooks

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

// Custom-database scripts (Auth0's "Database Action Scripts": login, get_user, create, verify,
// change_password, delete, change_email) run here, unchanged from what an Auth0 tenant runs:
// a function declaration whose last parameter is a Node-style callback. They share the
// sandbox of Rules and Actions (a fresh runtime per execution, the deadline, the memory guard,
// the fetch allowlist, no file system) and get what Auth0's custom-database sandbox gives:
// the `configuration` global, the error classes WrongUsernameOrPasswordError, ValidationError
// and UnauthorizedError, Buffer, and require() of the modules in DBModules.
//
// Every module call that does I/O (a query, an HTTP request, a bcrypt comparison) runs
// synchronously on the VM's goroutine and calls its callback, or settles its promise, before
// it returns, for the reason fetchFn gives. So when the script's function returns to Go every
// callback that will ever run has run: a script that has not called back by then never will,
// and fails at once rather than at the deadline.

// DBModules are the names require() knows in a custom-database script; a version suffix
// (require('bcrypt@0.8.5')) is ignored. CheckDBScript refuses any other name.
var DBModules = []string{"bcrypt", "bcryptjs", "crypto", "pg", "request", "axios"}

// DBScriptNames are the scripts of a custom database, under the keys of Auth0's
// options.customScripts.
var DBScriptNames = []string{"login", "get_user", "create", "verify", "change_password", "delete", "change_email"}

// SQL is the database access behind require('pg'). This package has none of its own: the
// caller supplies one (a pool per connection string). conn is the connection string the
// script gave (a URL or key=value DSN, as node-postgres takes).
type SQL interface {
	Query(ctx context.Context, conn, query string, args []any) (*SQLResult, error)
}

// SQLResult is what one query returned, in node-postgres terms.
type SQLResult struct {
	Command  string
	RowCount int64
	Fields   []string
	Rows     [][]any
}

// DBScript is one run of a custom-database script.
type DBScript struct {
	// Name names the script in errors and logs (e.g. "legacy-db/login").
	Name string
	Code string
	// Args are the script's arguments before the callback (login: email, password).
	Args []any
	// Configuration is the connection's options.configuration, the script's `configuration`.
	Configuration map[string]string
	// SQL backs require('pg'); nil makes every query fail.
	SQL SQL
}

// DBResult is how a script called back.
type DBResult struct {
	// Err is the callback's first argument when it was not null or undefined.
	Err *ScriptError
	// Value is the callback's second argument as plain Go data (a profile), nil when absent.
	Value any
	// Args is how many arguments the callback got (callback() is 0: wrong credentials in
	// Auth0's older templates; get_user's callback(null) is 1: no such user).
	Args int
}

// ScriptError is an error a script passed to its callback (not one it threw).
type ScriptError struct {
	// Name is the error's class: WrongUsernameOrPasswordError, ValidationError,
	// UnauthorizedError, Error, or whatever the script made.
	Name    string
	Message string
	// User is WrongUsernameOrPasswordError's first argument (the email or user id), "" when
	// falsy: Auth0 logs the failed login as fp (user known) when it is set, fu otherwise.
	User string
	// Code is ValidationError's first argument (e.g. "user_exists").
	Code string
}

func (e *ScriptError) Error() string { return e.Name + ": " + e.Message }

// dbPrelude defines the error classes of Auth0's custom-database sandbox (UnauthorizedError
// comes from the common prelude) and Buffer, a Uint8Array with Node's encodings done in Go.
const dbPrelude = `(function (g, enc, dec) {
  class WrongUsernameOrPasswordError extends Error {
    constructor(userOrEmail, message) {
      super(message || 'Wrong email or password.');
      this.name = 'WrongUsernameOrPasswordError';
      this.userOrEmail = userOrEmail;
    }
  }
  class ValidationError extends Error {
    constructor(code, message) {
      super(message);
      this.name = 'ValidationError';
      this.code = code;
    }
  }
  class Buffer extends Uint8Array {
    static from(v, encoding) {
      if (typeof v === 'number') throw new TypeError('The first argument must not be of type number');
      if (v instanceof ArrayBuffer) return new Buffer(v.slice(0));
      if (typeof v === 'string') return new Buffer(dec(v, encoding || 'utf8'));
      const b = new Buffer(v.length);
      for (let i = 0; i < v.length; i++) b[i] = v[i];
      return b;
    }
    static alloc(n, fill) { const b = new Buffer(n); if (fill) b.fill(fill); return b; }
    static isBuffer(v) { return v instanceof Buffer; }
    static byteLength(s, encoding) { return typeof s === 'string' ? dec(s, encoding || 'utf8').byteLength : s.length; }
    static concat(list, total) {
      let n = 0;
      for (const b of list) n += b.length;
      if (total !== undefined) n = total;
      const out = new Buffer(n);
      let off = 0;
      for (const b of list) { if (off >= n) break; out.set(b.subarray(0, n - off), off); off += b.length; }
      return out;
    }
    toString(encoding, start, end) { return enc(this.subarray(start || 0, end === undefined ? this.length : end), encoding || 'utf8'); }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(o) { if (o.length !== this.length) return false; for (let i = 0; i < o.length; i++) if (o[i] !== this[i]) return false; return true; }
    slice(s, e) { return this.subarray(s, e); }
    write(s, off) { const b = Buffer.from(s); this.set(b.subarray(0, this.length - (off || 0)), off || 0); return b.length; }
  }
  g.WrongUsernameOrPasswordError = WrongUsernameOrPasswordError;
  g.ValidationError = ValidationError;
  g.Buffer = Buffer;
})`

var dbPreludeProgram = sync.OnceValue(func() *goja.Program { return goja.MustCompile("dbprelude.js", dbPrelude, true) })

// requireRE finds require('name') calls with a literal name, which CheckDBScript checks.
var requireRE = regexp.MustCompile(`\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)`)

// moduleName strips a version suffix: "bcrypt@0.8.5" is "bcrypt" (a scoped "@x/y@1" keeps
// its leading @).
func moduleName(spec string) string {
	if i := strings.LastIndex(spec, "@"); i > 0 {
		return spec[:i]
	}
	return spec
}

// CheckDBScript checks that code compiles as a custom-database script (a function taking a
// callback last) and requires only modules of DBModules; the error names the line or module.
func (e *Engine) CheckDBScript(name, code string) error {
	if _, err := e.compile(name, code, rulePrefix, ruleSuffix); err != nil {
		return err
	}
	var unknown []string
	for _, m := range requireRE.FindAllStringSubmatch(code, -1) {
		if n := moduleName(m[1]); !slices.Contains(DBModules, n) && !slices.Contains(unknown, m[1]) {
			unknown = append(unknown, m[1])
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s: require of %s: not available (custom database scripts can require %s)",
			name, strings.Join(unknown, ", "), strings.Join(DBModules, ", "))
	}
	return nil
}

// RunDBScript runs one custom-database script to its callback. A script that throws, times
// out, runs out of memory or returns without calling back fails with an *ExecutionError;
// an error it passes to the callback is DBResult.Err.
func (e *Engine) RunDBScript(ctx context.Context, s DBScript) (DBResult, error) {
	prog, err := e.compile(s.Name, s.Code, rulePrefix, ruleSuffix)
	if err != nil {
		return DBResult{}, err
	}
	var res DBResult
	err = e.execute(ctx, s.Name, func(rt *jsRuntime) error {
		r, err := rt.runDBScript(prog, s)
		res = r
		return err
	})
	return res, err
}

func (rt *jsRuntime) runDBScript(prog *goja.Program, s DBScript) (DBResult, error) {
	vm := rt.vm
	rt.sql = s.SQL
	if err := rt.installDB(s.Configuration); err != nil {
		return DBResult{}, err
	}
	fv, err := vm.RunProgram(prog)
	if err != nil {
		return DBResult{}, rt.jsErr(err)
	}
	script, ok := goja.AssertFunction(fv)
	if !ok {
		return DBResult{}, errors.New("the script is not a function")
	}
	var (
		called bool
		res    DBResult
	)
	callback := rt.fn(func(c goja.FunctionCall) goja.Value {
		if called {
			return goja.Undefined()
		}
		called = true
		res.Args = len(c.Arguments)
		if first := c.Argument(0); !goja.IsUndefined(first) && !goja.IsNull(first) {
			res.Err = scriptError(vm, first)
		}
		res.Value = export(c.Argument(1))
		return goja.Undefined()
	})
	args := make([]goja.Value, 0, len(s.Args)+1)
	for _, a := range s.Args {
		v, err := rt.value(a)
		if err != nil {
			return DBResult{}, err
		}
		args = append(args, v)
	}
	args = append(args, callback)
	out, err := script(goja.Undefined(), args...)
	if err != nil {
		return DBResult{}, rt.jsErr(err)
	}
	// An async function that threw has rejected its promise instead.
	if err := rt.settle(out); err != nil && !called {
		return DBResult{}, err
	}
	if !called {
		return DBResult{}, errors.New("the script returned without calling callback (and nothing it started can call it later)")
	}
	return res, nil
}

// scriptError reads the first argument of a callback: an Error of some class, or any value.
func scriptError(vm *goja.Runtime, v goja.Value) *ScriptError {
	o, ok := v.(*goja.Object)
	if !ok {
		return &ScriptError{Name: "Error", Message: v.String()}
	}
	str := func(k string) string {
		x := o.Get(k)
		if x == nil || goja.IsUndefined(x) || goja.IsNull(x) {
			return ""
		}
		return x.String()
	}
	e := &ScriptError{Name: str("name"), Message: str("message")}
	if e.Name == "" {
		e.Name = "Error"
	}
	if e.Message == "" && e.Name == "Error" {
		e.Message = exceptionMessage(vm, v)
	}
	switch e.Name {
	case "WrongUsernameOrPasswordError":
		if u := o.Get("userOrEmail"); u != nil && u.ToBoolean() {
			e.User = u.String()
		}
	case "ValidationError":
		e.Code = str("code")
	}
	return e
}

// installDB gives the runtime the globals of the custom-database sandbox.
func (rt *jsRuntime) installDB(configuration map[string]string) error {
	vm := rt.vm
	fv, err := vm.RunProgram(dbPreludeProgram())
	if err != nil {
		return fmt.Errorf("hooks: db prelude: %w", err)
	}
	install, _ := goja.AssertFunction(fv)
	if _, err := install(goja.Undefined(), vm.GlobalObject(), rt.fn(rt.bufEncode), rt.fn(rt.bufDecode)); err != nil {
		return fmt.Errorf("hooks: db prelude: %w", rt.jsErr(err))
	}
	conf := vm.NewObject()
	for k, v := range configuration {
		_ = conf.Set(k, v)
	}
	_ = vm.Set("configuration", conf)
	rt.modules = map[string]goja.Value{}
	rt.require = rt.fn(func(c goja.FunctionCall) goja.Value {
		spec := c.Argument(0).String()
		return rt.module(moduleName(spec), spec)
	})
	_ = vm.Set("require", rt.require)
	_ = vm.Set("console", rt.console)
	// Auth0's sandbox also has some modules as globals, which its older templates use
	// without requiring them (bcrypt.compareSync, request(...)).
	for _, m := range []string{"bcrypt", "crypto", "request"} {
		_ = vm.Set(m, rt.module(m, m))
	}
	return nil
}

// module returns the module name, made once per runtime.
func (rt *jsRuntime) module(name, spec string) goja.Value {
	if m, ok := rt.modules[name]; ok {
		return m
	}
	var m goja.Value
	switch name {
	case "bcrypt", "bcryptjs":
		m = rt.bcryptModule()
	case "crypto":
		m = rt.cryptoModule()
	case "pg":
		m = rt.pgModule()
	case "request":
		m = rt.requestModule()
	case "axios":
		m = rt.axiosModule()
	default:
		//lint:ignore ST1005 the text is Node's own, which scripts written for Auth0 may match on.
		panic(rt.vm.NewGoError(fmt.Errorf("Cannot find module '%s': custom database scripts can require %s", spec, strings.Join(DBModules, ", "))))
	}
	rt.modules[name] = m
	return m
}

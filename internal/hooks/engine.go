package hooks

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// Defaults of Options.
const (
	DefaultTimeout          = 5 * time.Second
	DefaultMaxCallStackSize = 1000
)

// Options tunes an Engine; zero fields take the defaults.
type Options struct {
	// Timeout is the deadline of one Rule or Action execution.
	Timeout time.Duration
	// MaxCallStackSize caps JavaScript recursion.
	MaxCallStackSize int
	// MemoryLimit is how far, in bytes, the process's live heap may grow while one execution
	// runs before the memory guard interrupts it with ErrMemoryLimit (default
	// DefaultMemoryLimit; negative: no guard). See memGuard for how it is measured.
	MemoryLimit int64
	// Fetch is the network access of the global fetch(); nil rejects every call. This package
	// has none of its own: the caller supplies it with its allowlist of hosts.
	Fetch Fetcher
}

// Engine compiles and runs Rules and Actions. It is safe for concurrent use; one Engine serves
// the whole process. Compiled programs are shared by every login; runtimes are not: each
// execution gets a realm of its own (see newRuntime), so nothing one execution leaves behind
// (a global, a prototype property, a replaced built-in) reaches the next.
type Engine struct {
	timeout time.Duration
	stack   int
	// progs caches compiled programs by the SHA-256 of their wrapped source: a program is
	// compiled once per code version, whichever flow uses it.
	progs sync.Map // [32]byte → *goja.Program
	mem   *memGuard
	fetch Fetcher
}

// NewEngine returns an Engine.
func NewEngine(o Options) *Engine {
	e := &Engine{timeout: o.Timeout, stack: o.MaxCallStackSize, mem: newMemGuard(o.MemoryLimit), fetch: o.Fetch}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if e.stack <= 0 {
		e.stack = DefaultMaxCallStackSize
	}
	return e
}

// The wrappers keep the code's first line on line 1, so positions map back by shifting only
// columns of line 1.
const (
	actionPrefix = "(function (exports, module, require, console) {"
	actionSuffix = "\n})"
	rulePrefix   = "("
	ruleSuffix   = "\n)"
)

// Action is one deployed post-login Action.
type Action struct {
	Name    string
	Code    string
	Secrets map[string]string
}

// Rule is one enabled Rule.
type Rule struct {
	Name   string
	Script string
	// Configuration is the tenant's rules configuration (Auth0's rules-configs), the global
	// `configuration` object the script reads; nil is an empty one.
	Configuration map[string]string
}

// CompileAction checks that code compiles as an Action module, caching the program.
func (e *Engine) CompileAction(name, code string) error {
	_, err := e.compile(name, code, actionPrefix, actionSuffix)
	return err
}

// CompileRule checks that script compiles as a Rule function expression, caching the program.
func (e *Engine) CompileRule(name, script string) error {
	_, err := e.compile(name, script, rulePrefix, ruleSuffix)
	return err
}

func (e *Engine) compile(name, code, prefix, suffix string) (*goja.Program, error) {
	src := prefix + code + suffix
	key := sha256.Sum256([]byte(src))
	if p, ok := e.progs.Load(key); ok {
		return p.(*goja.Program), nil
	}
	// Parsing here rather than in goja.Compile keeps the syntax error's position.
	ast, err := parser.ParseFile(nil, name, src, 0)
	if err != nil {
		return nil, compileError(name, len(prefix), err)
	}
	p, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, compileError(name, len(prefix), err)
	}
	e.progs.Store(key, p)
	return p, nil
}

// compileError maps goja's parse and compile errors to a CompileError at the source's position.
func compileError(name string, shift int, err error) error {
	ce := &CompileError{Name: name, Message: err.Error()}
	var list parser.ErrorList
	var syn *goja.CompilerSyntaxError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		ce.Line, ce.Column, ce.Message = list[0].Position.Line, list[0].Position.Column, list[0].Message
	case errors.As(err, &syn) && syn.File != nil:
		pos := syn.File.Position(syn.Offset)
		ce.Line, ce.Column, ce.Message = pos.Line, pos.Column, syn.Message
	}
	if ce.Line == 1 {
		ce.Column = max(1, ce.Column-shift)
	}
	return ce
}

// Flow is a compiled post-login flow: enabled Rules, then bound Actions, in order.
type Flow struct {
	e       *Engine
	rules   []compiledRule
	actions []compiledAction
}

type compiledRule struct {
	Rule
	prog *goja.Program
}

type compiledAction struct {
	Action
	prog *goja.Program
}

var _ Runner = (*Flow)(nil)

// Flow compiles (or finds in the cache) every Rule and Action and returns them as a Runner.
func (e *Engine) Flow(rules []Rule, actions []Action) (*Flow, error) {
	f := &Flow{e: e}
	for _, r := range rules {
		p, err := e.compile(r.Name, r.Script, rulePrefix, ruleSuffix)
		if err != nil {
			return nil, err
		}
		f.rules = append(f.rules, compiledRule{r, p})
	}
	for _, a := range actions {
		p, err := e.compile(a.Name, a.Code, actionPrefix, actionSuffix)
		if err != nil {
			return nil, err
		}
		f.actions = append(f.actions, compiledAction{a, p})
	}
	return f, nil
}

// Empty reports whether the flow has nothing to run.
func (f *Flow) Empty() bool { return f == nil || len(f.rules)+len(f.actions) == 0 }

// PostLogin runs the Rules, then the Actions, each seeing the effects of those before it. It
// stops at the first one that denies, redirects, revokes or fails; the Outcome returned with
// such an error still lists the executions so far.
func (f *Flow) PostLogin(ctx context.Context, ev Event) (Outcome, error) {
	st := newState(ev)
	if f == nil {
		return st.out, nil
	}
	for _, r := range f.rules {
		if err := f.run(ctx, st, r.Name, "rule", func(rt *jsRuntime) error { return rt.runRule(st, r.prog, r.Configuration) }); err != nil {
			return st.outcome(), err
		}
	}
	for _, a := range f.actions {
		if err := f.run(ctx, st, a.Name, "action", func(rt *jsRuntime) error { return rt.runAction(st, a.Action, a.prog) }); err != nil {
			return st.outcome(), err
		}
	}
	return st.outcome(), nil
}

// run executes one Rule or Action on a runtime of its own under the deadline and records it.
func (f *Flow) run(ctx context.Context, st *state, name, kind string, body func(*jsRuntime) error) (err error) {
	start := time.Now()
	defer func() {
		ex := Execution{Name: name, Kind: kind, Duration: time.Since(start)}
		if err != nil {
			ex.Error = err.Error()
		}
		st.out.Executions = append(st.out.Executions, ex)
	}()
	return f.e.execute(ctx, name, body)
}

// execute runs body on a fresh runtime of its own under the engine's deadline (or ctx's,
// if sooner) and memory guard, and turns what went wrong into the package's typed errors.
// Rules, Actions and custom-database scripts all run through it.
func (e *Engine) execute(ctx context.Context, name string, body func(*jsRuntime) error) error {
	if err := ctx.Err(); err != nil {
		return &ExecutionError{Name: name, Err: err}
	}
	// A fresh runtime per execution, never a pooled one: a realm that served an earlier
	// login carries whatever that login's code left in it, and no reset can be shown to
	// undo every such trace (globals, intrinsics, the objects handed in).
	rt := e.newRuntime()
	deadline := e.timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < deadline {
		deadline = time.Until(d)
	}
	// ectx is what fetch() runs under: the deadline and the memory guard cancel it as well as
	// interrupting the VM, which cannot interrupt Go code blocked on the network.
	ectx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rt.ctx = ectx
	// The runtime is dropped afterwards, so an interrupt that lands after the code finished
	// has nothing to spoil.
	timer := time.AfterFunc(deadline, func() {
		rt.vm.Interrupt(ErrTimeout)
		cancel(ErrTimeout)
	})
	watch := e.mem.start(func() {
		rt.vm.Interrupt(ErrMemoryLimit)
		cancel(ErrMemoryLimit)
	})
	err := rt.guard(func() error { return body(rt) })
	killed := e.mem.end(watch)
	rt.ctx = nil
	timer.Stop()
	if killed {
		// Even if the code got to its end before the interrupt reached it (say, swallowing
		// the error of a cancelled fetch), its login does not stand.
		return &ExecutionError{Name: name, Err: ErrMemoryLimit}
	}
	if err == nil {
		return nil
	}
	var (
		denied *DeniedError
		unauth *UnauthorizedError
		redir  *RedirectError
		revoke *RefreshRevokedError
		ie     *goja.InterruptedError
	)
	switch {
	case errors.As(err, &denied), errors.As(err, &unauth), errors.As(err, &redir), errors.As(err, &revoke):
		return err
	case errors.As(err, &ie):
		if ie.Value() == ErrMemoryLimit {
			return &ExecutionError{Name: name, Err: ErrMemoryLimit}
		}
		return &ExecutionError{Name: name, Err: ErrTimeout}
	}
	return &ExecutionError{Name: name, Err: err}
}

// guard turns a Go panic inside the runtime into an error: hooks never crash the server.
func (rt *jsRuntime) guard(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("hooks: panic: %v", v)
		}
	}()
	return fn()
}

// jsRuntime is the goja runtime of one execution, with the globals the engine gives it.
type jsRuntime struct {
	vm      *goja.Runtime
	require goja.Value
	console goja.Value
	// st is the state of the execution the api objects' methods act on.
	st *state
	// ctx is the execution's context (nil once it ended).
	ctx     context.Context
	fetcher Fetcher
	// sql backs require('pg') and modules caches what require made, in a custom-database
	// script (dbscript.go).
	sql     SQL
	modules map[string]goja.Value
}

func (e *Engine) newRuntime() *jsRuntime {
	vm := goja.New()
	vm.SetMaxCallStackSize(e.stack)
	vm.SetFieldNameMapper(goja.TagFieldNameMapper("json", true))
	rt := &jsRuntime{vm: vm, fetcher: e.fetch}
	if _, err := vm.RunProgram(preludeProgram()); err != nil {
		panic(fmt.Sprintf("hooks: prelude: %v", err)) // the prelude is ours and constant
	}
	installLimits(vm)
	// Writable and configurable, not enumerable, as in Node: the realm ends with the
	// execution, so code that replaces fetch affects only itself.
	_ = vm.GlobalObject().DefineDataProperty("fetch", vm.ToValue(rt.fetchFn), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	rt.require = vm.ToValue(func(call goja.FunctionCall) goja.Value {
		//lint:ignore ST1005 the text is Node's own, which scripts written for Auth0 may match on.
		panic(vm.NewGoError(fmt.Errorf("Cannot find module '%s': npm modules are not available in Sesame", call.Argument(0).String())))
	})
	console := vm.NewObject()
	noop := func(goja.FunctionCall) goja.Value { return goja.Undefined() }
	for _, m := range []string{"log", "info", "warn", "error", "debug"} {
		_ = console.Set(m, noop)
	}
	rt.console = console
	return rt
}

// exceptionMessage is the message of a thrown JavaScript value.
func exceptionMessage(vm *goja.Runtime, v goja.Value) string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		if m := o.Get("message"); m != nil && !goja.IsUndefined(m) {
			name := "Error"
			if n := o.Get("name"); n != nil && !goja.IsUndefined(n) {
				name = n.String()
			}
			return name + ": " + m.String()
		}
	}
	return strings.TrimSpace(v.String())
}

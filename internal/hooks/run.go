package hooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
)

// redirectMessage is what redirect helpers throw: this flow has no browser to send.
const redirectMessage = "Redirects are not supported in this flow."

// value converts a Go JSON-ready value into a fresh JavaScript value. The objects are plain
// JavaScript objects built anew, detached from Go memory, so code mutating event.user cannot
// reach the caller's maps. (Building them directly costs a fraction of JSON.parse, which in
// goja goes through encoding/json's token reader.)
func (rt *jsRuntime) value(v any) (goja.Value, error) {
	return rt.toJS(v, 0)
}

// maxDepth bounds nesting; deeper values (only possible from metadata) are refused.
const maxDepth = 64

func (rt *jsRuntime) toJS(v any, depth int) (goja.Value, error) {
	if depth > maxDepth {
		return nil, errors.New("hooks: event nested too deeply")
	}
	vm := rt.vm
	switch t := v.(type) {
	case nil:
		return goja.Null(), nil
	case string, bool, int, int64, float64, json.Number:
		return vm.ToValue(t), nil
	case map[string]any:
		o := vm.NewObject()
		for k, x := range t {
			jv, err := rt.toJS(x, depth+1)
			if err != nil {
				return nil, err
			}
			_ = o.Set(k, jv)
		}
		return o, nil
	case map[string]string:
		o := vm.NewObject()
		for k, x := range t {
			_ = o.Set(k, x)
		}
		return o, nil
	case []any:
		items := make([]any, len(t))
		for i, x := range t {
			jv, err := rt.toJS(x, depth+1)
			if err != nil {
				return nil, err
			}
			items[i] = jv
		}
		return vm.NewArray(items...), nil
	case []string:
		items := make([]any, len(t))
		for i, x := range t {
			items[i] = x
		}
		return vm.NewArray(items...), nil
	}
	// Anything else (numbers of other widths, structs) takes the JSON road.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	return parse(goja.Undefined(), vm.ToValue(string(b)))
}

// export turns a JavaScript value into plain Go data (nil for undefined and null).
func export(v goja.Value) any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return v.Export()
}

// jsErr makes a thrown value readable; interrupts pass through untouched.
func (rt *jsRuntime) jsErr(err error) error {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return errors.New(exceptionMessage(rt.vm, ex.Value()))
	}
	return err
}

// settle waits for what the handler returned: a rejected promise is the handler's exception.
// Promise jobs have run by now (goja drains them when the call returns to Go), so a promise
// still pending waits on something that will never come (there are no timers).
func (rt *jsRuntime) settle(res goja.Value) error {
	if res == nil {
		return nil
	}
	p, ok := res.Export().(*goja.Promise)
	if !ok {
		return nil
	}
	switch p.State() {
	case goja.PromiseStateRejected:
		return errors.New(exceptionMessage(rt.vm, p.Result()))
	case goja.PromiseStatePending:
		return errors.New("the returned promise never settled (there are no timers)")
	}
	return nil
}

func (rt *jsRuntime) fn(f func(goja.FunctionCall) goja.Value) goja.Value { return rt.vm.ToValue(f) }

// obj builds an object of methods.
func (rt *jsRuntime) obj(methods map[string]func(goja.FunctionCall) goja.Value) *goja.Object {
	o := rt.vm.NewObject()
	for k, f := range methods {
		_ = o.Set(k, rt.fn(f))
	}
	return o
}

func (rt *jsRuntime) throw(msg string) {
	panic(rt.vm.NewGoError(errors.New(msg)))
}

// runAction runs one Action's handler for the flow's trigger: onExecutePostLogin, or
// onExecuteCredentialsExchange when st is a credentials exchange.
func (rt *jsRuntime) runAction(st *state, a Action, prog *goja.Program) error {
	vm := rt.vm
	modv, err := vm.RunProgram(prog)
	if err != nil {
		return rt.jsErr(err)
	}
	modFn, ok := goja.AssertFunction(modv)
	if !ok {
		return errors.New("the action did not compile to a module")
	}
	module, exports := vm.NewObject(), vm.NewObject()
	_ = module.Set("exports", exports)
	if _, err := modFn(goja.Undefined(), exports, module, rt.require, rt.console); err != nil {
		return rt.jsErr(err)
	}
	export, event, api := "onExecutePostLogin", st.eventObject, rt.actionAPI
	if st.cc != nil {
		export, event, api = "onExecuteCredentialsExchange", st.credentialsObject, rt.credentialsAPI
	}
	handler, ok := goja.AssertFunction(module.Get("exports").ToObject(vm).Get(export))
	if !ok {
		return errors.New("the action does not export " + export)
	}
	ev, err := rt.value(event(a.Secrets))
	if err != nil {
		return err
	}
	rt.st = st
	defer func() { rt.st = nil }()
	res, err := handler(goja.Undefined(), ev, api())
	if err != nil {
		return rt.jsErr(err)
	}
	if err := rt.settle(res); err != nil {
		return err
	}
	return st.pending()
}

// actionAPI is the api object of Auth0's post-login trigger; its methods act on the state of
// the execution (rt.st). It is not frozen: the runtime, and the object with it, end with the
// execution, so code that replaces a method affects only itself.
func (rt *jsRuntime) actionAPI() *goja.Object {
	vm := rt.vm
	api := vm.NewObject()
	ret := func(goja.FunctionCall) goja.Value { return api }
	claim := func(id bool) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			m := rt.st.access
			if id {
				m = rt.st.id
			}
			m[c.Argument(0).String()] = export(c.Argument(1))
			return api
		}
	}
	_ = api.Set("access", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"deny": func(c goja.FunctionCall) goja.Value {
			rt.st.denied = &DeniedError{Reason: c.Argument(0).String()}
			return api
		},
	}))
	_ = api.Set("accessToken", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"setCustomClaim": claim(false),
		"addScope": func(c goja.FunctionCall) goja.Value {
			rt.st.addScope(c.Argument(0).String())
			return api
		},
		"removeScope": func(c goja.FunctionCall) goja.Value {
			rt.st.removeScope(c.Argument(0).String())
			return api
		},
	}))
	_ = api.Set("idToken", rt.obj(map[string]func(goja.FunctionCall) goja.Value{"setCustomClaim": claim(true)}))
	mfa := func(c goja.FunctionCall) goja.Value {
		rt.st.out.MFA = true
		if p := export(c.Argument(0)); p != nil {
			if s, ok := p.(string); ok {
				rt.st.out.MFAProvider = s
			}
		}
		return api
	}
	_ = api.Set("multifactor", rt.obj(map[string]func(goja.FunctionCall) goja.Value{"enable": mfa}))
	_ = api.Set("authentication", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"challengeWith": func(goja.FunctionCall) goja.Value { rt.st.out.MFA = true; return api },
		"challengeWithAny": func(goja.FunctionCall) goja.Value {
			rt.st.out.MFA = true
			return api
		},
		"recordMethod": ret,
	}))
	_ = api.Set("user", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"setAppMetadata": func(c goja.FunctionCall) goja.Value {
			setMeta(&rt.st.appMeta, c.Argument(0).String(), export(c.Argument(1)))
			rt.st.appSet = true
			return api
		},
		"setUserMetadata": func(c goja.FunctionCall) goja.Value {
			setMeta(&rt.st.userMeta, c.Argument(0).String(), export(c.Argument(1)))
			rt.st.userSet = true
			return api
		},
	}))
	_ = api.Set("refreshToken", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"revoke": func(c goja.FunctionCall) goja.Value {
			if rt.st.ev.RefreshToken == nil {
				rt.throw("api.refreshToken.revoke is only available when a refresh token is exchanged")
			}
			rt.st.revoked = &RefreshRevokedError{Reason: c.Argument(0).String()}
			return api
		},
	}))
	_ = api.Set("redirect", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"canRedirect": func(goja.FunctionCall) goja.Value { return vm.ToValue(false) },
		"sendUserTo": func(c goja.FunctionCall) goja.Value {
			rt.st.redirect = &RedirectError{URL: c.Argument(0).String()}
			return api
		},
		"encodeToken":   func(goja.FunctionCall) goja.Value { rt.throw(redirectMessage); return nil },
		"validateToken": func(goja.FunctionCall) goja.Value { rt.throw(redirectMessage); return nil },
	}))
	return api
}

// runRule runs one Rule: function (user, context, callback).
func (rt *jsRuntime) runRule(st *state, prog *goja.Program, configuration map[string]string) error {
	vm := rt.vm
	fv, err := vm.RunProgram(prog)
	if err != nil {
		return rt.jsErr(err)
	}
	rule, ok := goja.AssertFunction(fv)
	if !ok {
		return errors.New("the rule is not a function (user, context, callback)")
	}
	user, err := rt.value(st.userObject())
	if err != nil {
		return err
	}
	ctxv, err := rt.value(st.ruleContext())
	if err != nil {
		return err
	}
	var called bool
	var cbErr, cbCtx goja.Value
	callback := rt.fn(func(c goja.FunctionCall) goja.Value {
		if !called {
			called, cbErr, cbCtx = true, c.Argument(0), c.Argument(2)
		}
		return goja.Undefined()
	})
	resolved := func(goja.FunctionCall) goja.Value {
		p, resolve, _ := vm.NewPromise()
		_ = resolve(goja.Undefined())
		return vm.ToValue(p)
	}
	users := rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"updateAppMetadata": func(c goja.FunctionCall) goja.Value {
			st.appMeta, st.appSet = plainMap(export(c.Argument(1))), true
			return resolved(c)
		},
		"updateUserMetadata": func(c goja.FunctionCall) goja.Value {
			st.userMeta, st.userSet = plainMap(export(c.Argument(1))), true
			return resolved(c)
		},
	})
	auth0 := vm.NewObject()
	_ = auth0.Set("users", users)
	_ = vm.Set("auth0", auth0)
	conf := vm.NewObject()
	for k, v := range configuration {
		_ = conf.Set(k, v)
	}
	_ = vm.Set("configuration", conf)
	if _, err := rule(goja.Undefined(), user, ctxv, callback); err != nil {
		return rt.jsErr(err)
	}
	if !called {
		return errors.New("the rule did not call callback")
	}
	if !goja.IsUndefined(cbErr) && !goja.IsNull(cbErr) {
		msg := cbErr.String()
		if o, ok := cbErr.(*goja.Object); ok {
			if m := o.Get("message"); m != nil && !goja.IsUndefined(m) {
				msg = m.String()
			}
			if o.Get("name").String() == "UnauthorizedError" {
				return &UnauthorizedError{Message: msg}
			}
		}
		return &DeniedError{Reason: msg}
	}
	if cbCtx == nil || goja.IsUndefined(cbCtx) || goja.IsNull(cbCtx) {
		cbCtx = ctxv
	}
	return st.applyRuleContext(cbCtx.ToObject(vm))
}

// ruleContext is a Rule's context object, carrying the claims earlier Rules set.
func (s *state) ruleContext() map[string]any {
	ev := s.ev
	methods := []any{}
	for _, m := range ev.AuthMethods {
		methods = append(methods, map[string]any{"name": m.Name, "timestamp": isoTime(m.Timestamp)})
	}
	return map[string]any{
		"tenant": ev.TenantID, "clientID": ev.Client.ClientID, "clientName": ev.Client.Name,
		"clientMetadata": nonNilS(ev.Client.Metadata), "connection": ev.Connection.Name,
		"connectionID": ev.Connection.ID, "connectionStrategy": ev.Connection.Strategy,
		"connectionMetadata": nonNilS(ev.Connection.Metadata), "protocol": ev.Protocol,
		"request": map[string]any{"ip": ev.Request.IP, "hostname": ev.Request.Hostname,
			"userAgent": ev.Request.UserAgent, "body": nonNilS(ev.Request.Body), "query": map[string]any{},
			"geoip": map[string]any{}},
		"stats":          map[string]any{"loginsCount": ev.User.LoginsCount},
		"sso":            map[string]any{"with_auth0": false, "with_dbconn": false},
		"authentication": map[string]any{"methods": methods},
		"authorization":  map[string]any{"roles": nonNilL(ev.Roles)},
		"accessToken":    s.access,
		"idToken":        s.id,
		"sessionID":      "",
	}
}

// applyRuleContext takes a Rule's effects from its context: the claims of
// context.accessToken and context.idToken (context.accessToken.scope replaces the scopes),
// context.multifactor and context.redirect.
func (s *state) applyRuleContext(ctx *goja.Object) error {
	if r := export(ctx.Get("redirect")); r != nil {
		url := ""
		if m, ok := r.(map[string]any); ok {
			url, _ = m["url"].(string)
		}
		return &RedirectError{URL: url}
	}
	if m := export(ctx.Get("multifactor")); m != nil {
		s.out.MFA = true
		if mm, ok := m.(map[string]any); ok {
			s.out.MFAProvider, _ = mm["provider"].(string)
		}
	}
	access := plainMap(export(ctx.Get("accessToken")))
	if sc, ok := access["scope"]; ok {
		delete(access, "scope")
		s.out.ScopesChanged = true
		s.scopes = scopeList(sc)
	}
	s.access = access
	s.id = plainMap(export(ctx.Get("idToken")))
	return nil
}

// scopeList reads context.accessToken.scope, an array or a space-separated string.
func scopeList(v any) []string {
	out := []string{}
	switch t := v.(type) {
	case string:
		out = append(out, strings.Fields(t)...)
	case []any:
		for _, x := range t {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func plainMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok && m != nil {
		return m
	}
	return map[string]any{}
}

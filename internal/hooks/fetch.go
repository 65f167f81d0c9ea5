package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/dop251/goja"
)

// MaxFetchBody caps the body of a fetch() response; a Fetcher refuses larger ones.
const MaxFetchBody = 1 << 20

// Fetcher is the network access of the global fetch(). This package has none (it is a leaf
// and imports no net/http): the composition root supplies one. A Fetcher must
//   - send requests only to the hosts of its allowlist, refusing others with an error wrapping
//     ErrFetchNotAllowed, and follow redirects only to allowed hosts;
//   - speak http and https only;
//   - stop when ctx ends (the execution's deadline, or the memory guard);
//   - refuse a response body over MaxFetchBody.
type Fetcher interface {
	Fetch(ctx context.Context, req FetchRequest) (*FetchResponse, error)
}

// FetchRequest is one fetch(url, {method, headers, body}) call.
type FetchRequest struct {
	Method string
	URL    string
	// Header names are as the code wrote them.
	Header [][2]string
	Body   string
}

// FetchResponse is what came back.
type FetchResponse struct {
	// URL is the final URL, after redirects.
	URL        string
	Redirected bool
	Status     int
	StatusText string
	// Header is keyed by the lower-case header name.
	Header map[string][]string
	Body   []byte
}

// ErrFetchNotAllowed is a fetch to a host outside the allowlist.
var ErrFetchNotAllowed = errors.New("not allowed")

// fetchFn is the global fetch(resource, options).
//
// The request runs synchronously on the VM's goroutine, and fetch returns a Promise already
// settled. goja is not goroutine-safe, so a request on another goroutine would have to hand
// its result back to this one anyway, and with no event loop (the VM runs only while the
// handler is being called) nothing could take it: code would block the same goroutine either
// way. The wait is bounded by the execution's context, which the deadline and the memory guard
// cancel. The difference code can see is that two fetches started together run one after the
// other.
func (rt *jsRuntime) fetchFn(call goja.FunctionCall) goja.Value {
	vm := rt.vm
	p, resolve, reject := vm.NewPromise()
	res, err := rt.doFetch(call)
	if err != nil {
		_ = reject(vm.NewTypeError(err.Error()))
	} else {
		_ = resolve(res)
	}
	return vm.ToValue(p)
}

func (rt *jsRuntime) doFetch(call goja.FunctionCall) (goja.Value, error) {
	vm := rt.vm
	req := FetchRequest{Method: "GET", URL: call.Argument(0).String()}
	if o, ok := call.Argument(0).(*goja.Object); ok {
		// A Request-like object or a URL: its url or href.
		for _, k := range []string{"url", "href"} {
			if v := o.Get(k); v != nil && !goja.IsUndefined(v) {
				req.URL = v.String()
				break
			}
		}
	}
	u, err := url.Parse(req.URL)
	switch {
	case err != nil || u.Scheme == "":
		return nil, fmt.Errorf("fetch: invalid URL %q", req.URL)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("fetch: scheme %q is not supported (http and https only)", u.Scheme)
	case u.Host == "":
		return nil, fmt.Errorf("fetch: invalid URL %q", req.URL)
	}
	if o, ok := call.Argument(1).(*goja.Object); ok {
		if v := o.Get("method"); v != nil && !goja.IsUndefined(v) {
			req.Method = strings.ToUpper(v.String())
		}
		if v := o.Get("body"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
			if _, isObj := v.(*goja.Object); isObj {
				return nil, errors.New("fetch: body must be a string (use JSON.stringify)")
			}
			req.Body = v.String()
		}
		if h, ok := o.Get("headers").(*goja.Object); ok {
			req.Header = headerPairs(vm, h)
		}
	}
	switch req.Method {
	case "CONNECT", "TRACE", "TRACK": // forbidden methods, as in browsers and Node
		return nil, fmt.Errorf("fetch: method %s is not allowed", req.Method)
	}
	if rt.fetcher == nil {
		return nil, fmt.Errorf("fetch: host %q is not allowed: no host is allowed for Actions", u.Host)
	}
	ctx := rt.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	resp, err := rt.fetcher.Fetch(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx) // the deadline or the memory limit, not "context canceled"
		}
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if len(resp.Body) > MaxFetchBody {
		return nil, fmt.Errorf("fetch: response body over %d bytes", MaxFetchBody)
	}
	return rt.response(resp), nil
}

// headerPairs reads fetch's headers option: a plain object or an array of [name, value].
func headerPairs(vm *goja.Runtime, h *goja.Object) [][2]string {
	var out [][2]string
	if arr, ok := h.Export().([]any); ok {
		for _, item := range arr {
			if kv, ok := item.([]any); ok && len(kv) == 2 {
				out = append(out, [2]string{fmt.Sprint(kv[0]), fmt.Sprint(kv[1])})
			}
		}
		return out
	}
	for _, k := range h.Keys() {
		out = append(out, [2]string{k, h.Get(k).String()})
	}
	return out
}

// response builds the Response-like object: ok, status, statusText, url, redirected,
// headers.get/has, and text() and json() (once, like a body stream).
func (rt *jsRuntime) response(r *FetchResponse) *goja.Object {
	vm := rt.vm
	o := vm.NewObject()
	_ = o.Set("ok", r.Status >= 200 && r.Status <= 299)
	_ = o.Set("status", r.Status)
	_ = o.Set("statusText", r.StatusText)
	_ = o.Set("url", r.URL)
	_ = o.Set("redirected", r.Redirected)
	_ = o.Set("bodyUsed", false)
	headers := rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"get": func(c goja.FunctionCall) goja.Value {
			v, ok := r.Header[strings.ToLower(c.Argument(0).String())]
			if !ok {
				return goja.Null()
			}
			return vm.ToValue(strings.Join(v, ", "))
		},
		"has": func(c goja.FunctionCall) goja.Value {
			_, ok := r.Header[strings.ToLower(c.Argument(0).String())]
			return vm.ToValue(ok)
		},
	})
	_ = o.Set("headers", headers)
	used := false
	body := func(parse bool) func(goja.FunctionCall) goja.Value {
		return func(goja.FunctionCall) goja.Value {
			p, resolve, reject := vm.NewPromise()
			if used {
				_ = reject(vm.NewTypeError("Body is unusable: Body has already been read"))
				return vm.ToValue(p)
			}
			used = true
			_ = o.Set("bodyUsed", true)
			text := vm.ToValue(string(r.Body))
			if !parse {
				_ = resolve(text)
				return vm.ToValue(p)
			}
			jsonParse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
			v, err := jsonParse(goja.Undefined(), text)
			var ex *goja.Exception
			switch {
			case errors.As(err, &ex):
				_ = reject(ex.Value())
			case err != nil:
				_ = reject(vm.NewGoError(err))
			default:
				_ = resolve(v)
			}
			return vm.ToValue(p)
		}
	}
	_ = o.Set("text", body(false))
	_ = o.Set("json", body(true))
	return o
}

package hooks

import (
	"context"
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // Node's crypto offers it; legacy password stores use it.
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // as above
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/dop251/goja"
	"golang.org/x/crypto/bcrypt"
)

// Bounds on the CPU one module call may spend in Go, where neither the deadline nor the memory
// guard can stop it (they act between JavaScript instructions).
const (
	// MaxBcryptCost is the highest bcrypt cost hashed or compared (cost 16 is ~5 s).
	MaxBcryptCost = 15
	// MaxPBKDF2Iterations bounds crypto.pbkdf2.
	MaxPBKDF2Iterations = 5_000_000
	// MaxRandomBytes bounds crypto.randomBytes and a derived key's length.
	MaxRandomBytes = 1 << 16
)

// callbackOr finishes a module call Node-style: with a callback (the argument cb), it calls
// cb(err) or cb(null, values...) and returns undefined; without one it returns a Promise
// settled with the first value or the error.
func (rt *jsRuntime) callbackOr(cb goja.Value, values []goja.Value, err error) goja.Value {
	vm := rt.vm
	if f, ok := goja.AssertFunction(cb); ok {
		var args []goja.Value
		if err != nil {
			args = []goja.Value{rt.errValue(err)}
		} else {
			args = append([]goja.Value{goja.Null()}, values...)
		}
		if _, cerr := f(goja.Undefined(), args...); cerr != nil {
			panic(cerr) // what the callback threw goes on up the script
		}
		return goja.Undefined()
	}
	p, resolve, reject := vm.NewPromise()
	if err != nil {
		_ = reject(rt.errValue(err))
	} else {
		v := goja.Undefined()
		if len(values) > 0 {
			v = values[0]
		}
		_ = resolve(v)
	}
	return vm.ToValue(p)
}

// errValue is err as a JavaScript Error (its message is err's text).
func (rt *jsRuntime) errValue(err error) goja.Value {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return ex.Value()
	}
	return rt.vm.NewGoError(err)
}

// lastFunc returns the last argument when it is a function (the callback), else undefined.
func lastFunc(c goja.FunctionCall) goja.Value {
	if n := len(c.Arguments); n > 0 {
		if _, ok := goja.AssertFunction(c.Arguments[n-1]); ok {
			return c.Arguments[n-1]
		}
	}
	return goja.Undefined()
}

// --- Buffer -------------------------------------------------------------------------------

// bytesOf reads a string (UTF-8), Buffer, typed array or ArrayBuffer as bytes.
func bytesOf(v goja.Value) []byte {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	switch t := v.Export().(type) {
	case []byte:
		return t
	case goja.ArrayBuffer:
		return t.Bytes()
	case string:
		return []byte(t)
	}
	return []byte(v.String())
}

// newBuffer makes a Buffer holding a copy of b.
func (rt *jsRuntime) newBuffer(b []byte) goja.Value {
	vm := rt.vm
	ctor, ok := goja.AssertConstructor(vm.Get("Buffer"))
	if !ok {
		panic(vm.NewTypeError("Buffer is not a constructor"))
	}
	o, err := ctor(nil, vm.ToValue(vm.NewArrayBuffer(append([]byte(nil), b...))))
	if err != nil {
		panic(err)
	}
	return o
}

// bufEncode is Buffer's toString(encoding), called by the prelude with a Uint8Array.
func (rt *jsRuntime) bufEncode(c goja.FunctionCall) goja.Value {
	b := bytesOf(c.Argument(0))
	var s string
	switch enc := strings.ToLower(c.Argument(1).String()); enc {
	case "utf8", "utf-8":
		s = strings.ToValidUTF8(string(b), "\uFFFD")
	case "hex":
		s = hex.EncodeToString(b)
	case "base64":
		s = base64.StdEncoding.EncodeToString(b)
	case "base64url":
		s = base64.RawURLEncoding.EncodeToString(b)
	case "binary", "latin1", "ascii":
		r := make([]rune, len(b))
		for i, x := range b {
			if enc == "ascii" {
				x &= 0x7f
			}
			r[i] = rune(x)
		}
		s = string(r)
	case "ucs2", "ucs-2", "utf16le", "utf-16le":
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		return rt.vm.ToValue(goja.StringFromUTF16(u))
	default:
		panic(rt.vm.NewTypeError("Unknown encoding: " + enc))
	}
	return rt.vm.ToValue(s)
}

// bufDecode is Buffer.from(string, encoding): an ArrayBuffer of the bytes.
func (rt *jsRuntime) bufDecode(c goja.FunctionCall) goja.Value {
	vm := rt.vm
	s := c.Argument(0).String()
	var b []byte
	var err error
	switch enc := strings.ToLower(c.Argument(1).String()); enc {
	case "utf8", "utf-8":
		b = []byte(s)
	case "hex":
		b, err = hex.DecodeString(s)
	case "base64", "base64url":
		// Node accepts both alphabets, with or without padding, in either encoding.
		t := strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(s), "=")
		b, err = base64.RawStdEncoding.DecodeString(t)
	case "binary", "latin1", "ascii":
		for _, r := range s {
			b = append(b, byte(r))
		}
	case "ucs2", "ucs-2", "utf16le", "utf-16le":
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
	default:
		panic(vm.NewTypeError("Unknown encoding: " + enc))
	}
	if err != nil {
		panic(vm.NewTypeError("invalid " + c.Argument(1).String() + " string"))
	}
	return vm.ToValue(vm.NewArrayBuffer(b))
}

// --- bcrypt (bcrypt and bcryptjs) -----------------------------------------------------------

func (rt *jsRuntime) bcryptModule() goja.Value {
	vm := rt.vm
	compare := func(c goja.FunctionCall) (bool, error) {
		h := []byte(c.Argument(1).String())
		cost, err := bcrypt.Cost(h)
		if err != nil {
			// node bcrypt answers false for a string that is no bcrypt hash.
			return false, nil
		}
		if cost > MaxBcryptCost {
			return false, fmt.Errorf("bcrypt: cost %d is over the limit of %d", cost, MaxBcryptCost)
		}
		return bcrypt.CompareHashAndPassword(h, []byte(c.Argument(0).String())) == nil, nil
	}
	// rounds reads a cost (a number) or a salt from genSalt ("$2b$10$...").
	rounds := func(v goja.Value) (int, error) {
		n := bcrypt.DefaultCost
		if s, ok := v.Export().(string); ok {
			parts := strings.Split(s, "$")
			if len(parts) < 3 {
				return 0, errors.New("bcrypt: invalid salt")
			}
			var err error
			if n, err = strconv.Atoi(parts[2]); err != nil {
				return 0, errors.New("bcrypt: invalid salt")
			}
		} else if defined(v) {
			if _, isFn := goja.AssertFunction(v); !isFn {
				n = int(v.ToInteger())
			}
		}
		if n < bcrypt.MinCost || n > MaxBcryptCost {
			return 0, fmt.Errorf("bcrypt: cost must be between %d and %d", bcrypt.MinCost, MaxBcryptCost)
		}
		return n, nil
	}
	hashIt := func(c goja.FunctionCall) (string, error) {
		n, err := rounds(c.Argument(1))
		if err != nil {
			return "", err
		}
		h, err := bcrypt.GenerateFromPassword([]byte(c.Argument(0).String()), n)
		return string(h), err
	}
	// genSalt's salt only carries the cost: x/crypto/bcrypt draws the salt itself.
	salt := func(c goja.FunctionCall) (string, error) {
		n, err := rounds(c.Argument(0))
		if err != nil {
			return "", err
		}
		r := make([]byte, 16)
		_, _ = rand.Read(r)
		enc := base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)
		return fmt.Sprintf("$2b$%02d$%s", n, enc.EncodeToString(r)), nil
	}
	sync := func(f func(goja.FunctionCall) (any, error)) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			v, err := f(c)
			if err != nil {
				panic(vm.NewGoError(err))
			}
			return vm.ToValue(v)
		}
	}
	async := func(f func(goja.FunctionCall) (any, error)) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			v, err := f(c)
			return rt.callbackOr(lastFunc(c), []goja.Value{vm.ToValue(v)}, err)
		}
	}
	anyOf := func(f any) func(goja.FunctionCall) (any, error) {
		switch t := f.(type) {
		case func(goja.FunctionCall) (bool, error):
			return func(c goja.FunctionCall) (any, error) { return t(c) }
		case func(goja.FunctionCall) (string, error):
			return func(c goja.FunctionCall) (any, error) { return t(c) }
		}
		panic("unreachable")
	}
	return rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"compare":     async(anyOf(compare)),
		"compareSync": sync(anyOf(compare)),
		"hash":        async(anyOf(hashIt)),
		"hashSync":    sync(anyOf(hashIt)),
		"genSalt":     async(anyOf(salt)),
		"genSaltSync": sync(anyOf(salt)),
		"getRounds": func(c goja.FunctionCall) goja.Value {
			n, err := bcrypt.Cost([]byte(c.Argument(0).String()))
			if err != nil {
				panic(vm.NewGoError(err))
			}
			return vm.ToValue(n)
		},
	})
}

// --- crypto ---------------------------------------------------------------------------------

func hashFunc(name string) func() hash.Hash {
	switch strings.ToLower(strings.ReplaceAll(name, "-", "")) {
	case "md5":
		return md5.New
	case "sha1":
		return sha1.New
	case "sha256":
		return sha256.New
	case "sha224":
		return sha256.New224
	case "sha384":
		return sha512.New384
	case "sha512":
		return sha512.New
	}
	return nil
}

// digestOut is digest(encoding): a string in that encoding, or a Buffer without one.
func (rt *jsRuntime) digestOut(sum []byte, enc goja.Value) goja.Value {
	if !defined(enc) {
		return rt.newBuffer(sum)
	}
	return rt.bufEncode(goja.FunctionCall{Arguments: []goja.Value{rt.vm.ToValue(rt.vm.NewArrayBuffer(sum)), enc}})
}

// dataOf reads update(data, inputEncoding)'s data.
func (rt *jsRuntime) dataOf(data, enc goja.Value) []byte {
	if s, ok := data.Export().(string); ok && defined(enc) {
		return bytesOf(rt.bufDecode(goja.FunctionCall{Arguments: []goja.Value{rt.vm.ToValue(s), enc}}))
	}
	return bytesOf(data)
}

func (rt *jsRuntime) hasher(h hash.Hash) *goja.Object {
	vm := rt.vm
	o := vm.NewObject()
	done := false
	_ = o.Set("update", func(c goja.FunctionCall) goja.Value {
		if done {
			panic(vm.NewGoError(errors.New("digest already called")))
		}
		h.Write(rt.dataOf(c.Argument(0), c.Argument(1)))
		return o
	})
	_ = o.Set("digest", func(c goja.FunctionCall) goja.Value {
		if done {
			panic(vm.NewGoError(errors.New("digest already called")))
		}
		done = true
		return rt.digestOut(h.Sum(nil), c.Argument(0))
	})
	return o
}

func (rt *jsRuntime) cryptoModule() goja.Value {
	vm := rt.vm
	alg := func(v goja.Value) func() hash.Hash {
		f := hashFunc(v.String())
		if f == nil {
			panic(vm.NewGoError(fmt.Errorf("digest method not supported: %s", v.String())))
		}
		return f
	}
	pbkdf := func(c goja.FunctionCall) ([]byte, error) {
		iter, keyLen := c.Argument(2).ToInteger(), c.Argument(3).ToInteger()
		digest := "sha1" // Node's default before it required the argument
		if d := c.Argument(4); defined(d) {
			if _, isFn := goja.AssertFunction(d); !isFn {
				digest = d.String()
			}
		}
		h := hashFunc(digest)
		switch {
		case h == nil:
			return nil, fmt.Errorf("invalid digest: %s", digest)
		case iter < 1 || iter > MaxPBKDF2Iterations:
			return nil, fmt.Errorf("pbkdf2: iterations must be between 1 and %d", MaxPBKDF2Iterations)
		case keyLen < 0 || keyLen > MaxRandomBytes:
			return nil, fmt.Errorf("pbkdf2: key length must be between 0 and %d", MaxRandomBytes)
		}
		return pbkdf2.Key(h, string(bytesOf(c.Argument(0))), bytesOf(c.Argument(1)), int(iter), int(keyLen))
	}
	random := func(c goja.FunctionCall) []byte {
		n := c.Argument(0).ToInteger()
		if n < 0 || n > MaxRandomBytes {
			panic(vm.NewGoError(fmt.Errorf("randomBytes: size must be between 0 and %d", MaxRandomBytes)))
		}
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	return rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"createHash": func(c goja.FunctionCall) goja.Value { return rt.hasher(alg(c.Argument(0))()) },
		"createHmac": func(c goja.FunctionCall) goja.Value {
			return rt.hasher(hmac.New(alg(c.Argument(0)), bytesOf(c.Argument(1))))
		},
		"randomBytes": func(c goja.FunctionCall) goja.Value {
			b := rt.newBuffer(random(c))
			if cb := lastFunc(c); defined(cb) {
				return rt.callbackOr(cb, []goja.Value{b}, nil)
			}
			return b
		},
		"randomUUID": func(goja.FunctionCall) goja.Value {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
			return vm.ToValue(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
		},
		"pbkdf2": func(c goja.FunctionCall) goja.Value {
			k, err := pbkdf(c)
			var v []goja.Value
			if err == nil {
				v = []goja.Value{rt.newBuffer(k)}
			}
			return rt.callbackOr(lastFunc(c), v, err)
		},
		"pbkdf2Sync": func(c goja.FunctionCall) goja.Value {
			k, err := pbkdf(c)
			if err != nil {
				panic(vm.NewGoError(err))
			}
			return rt.newBuffer(k)
		},
		"timingSafeEqual": func(c goja.FunctionCall) goja.Value {
			a, b := bytesOf(c.Argument(0)), bytesOf(c.Argument(1))
			if len(a) != len(b) {
				panic(vm.NewTypeError("Input buffers must have the same byte length"))
			}
			return vm.ToValue(subtle.ConstantTimeCompare(a, b) == 1)
		},
	})
}

// --- request and axios (HTTP through the fetch allowlist) ------------------------------------

// httpCall is one request of the request or axios module.
type httpCall struct {
	req  FetchRequest
	json bool // parse the response body as JSON
}

// requestOptions reads request's options (a URL string or {url|uri, method, headers, auth,
// json, body, form, qs}).
func (rt *jsRuntime) requestOptions(v goja.Value, method string) (httpCall, error) {
	vm := rt.vm
	hc := httpCall{req: FetchRequest{Method: method}}
	o, ok := v.(*goja.Object)
	if !ok {
		hc.req.URL = v.String()
		return hc, nil
	}
	get := func(k string) goja.Value {
		x := o.Get(k)
		if x == nil || goja.IsUndefined(x) || goja.IsNull(x) {
			return nil
		}
		return x
	}
	for _, k := range []string{"url", "uri"} {
		if x := get(k); x != nil {
			hc.req.URL = x.String()
			break
		}
	}
	if x := get("method"); x != nil {
		hc.req.Method = strings.ToUpper(x.String())
	}
	if h, ok := get("headers").(*goja.Object); ok {
		hc.req.Header = headerPairs(vm, h)
	}
	if qs, ok := get("qs").(*goja.Object); ok {
		u, err := url.Parse(hc.req.URL)
		if err != nil {
			return hc, fmt.Errorf("request: invalid URL %q", hc.req.URL)
		}
		q := u.Query()
		for _, k := range qs.Keys() {
			q.Set(k, qs.Get(k).String())
		}
		u.RawQuery = q.Encode()
		hc.req.URL = u.String()
	}
	if a, ok := get("auth").(*goja.Object); ok {
		user, pass := "", ""
		for _, k := range []string{"user", "username"} {
			if x := a.Get(k); defined(x) && !goja.IsNull(x) {
				user = x.String()
			}
		}
		for _, k := range []string{"pass", "password"} {
			if x := a.Get(k); defined(x) && !goja.IsNull(x) {
				pass = x.String()
			}
		}
		if x := a.Get("bearer"); defined(x) && !goja.IsNull(x) {
			hc.req.Header = append(hc.req.Header, [2]string{"Authorization", "Bearer " + x.String()})
		} else {
			hc.req.Header = append(hc.req.Header, [2]string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))})
		}
	}
	if j := get("json"); j != nil {
		hc.json = true
		if jo, isObj := j.(*goja.Object); isObj {
			b, err := json.Marshal(jo.Export())
			if err != nil {
				return hc, fmt.Errorf("request: json: %w", err)
			}
			hc.req.Body = string(b)
			hc.req.Header = append(hc.req.Header, [2]string{"Content-Type", "application/json"})
		} else if !j.ToBoolean() {
			hc.json = false
		}
		hc.req.Header = append(hc.req.Header, [2]string{"Accept", "application/json"})
	}
	if f, ok := get("form").(*goja.Object); ok {
		vals := url.Values{}
		for _, k := range f.Keys() {
			vals.Set(k, f.Get(k).String())
		}
		hc.req.Body = vals.Encode()
		hc.req.Header = append(hc.req.Header, [2]string{"Content-Type", "application/x-www-form-urlencoded"})
	}
	if b := get("body"); b != nil {
		if bo, isObj := b.(*goja.Object); isObj && hc.json {
			raw, err := json.Marshal(bo.Export())
			if err != nil {
				return hc, fmt.Errorf("request: body: %w", err)
			}
			hc.req.Body = string(raw)
		} else {
			hc.req.Body = string(bytesOf(b))
		}
	}
	return hc, nil
}

// send runs an HTTP call through the engine's Fetcher (its allowlist), under the execution's
// context, as fetch() does.
func (rt *jsRuntime) send(hc httpCall) (*FetchResponse, error) {
	u, err := url.Parse(hc.req.URL)
	switch {
	case err != nil || u.Host == "":
		return nil, fmt.Errorf("invalid URL %q", hc.req.URL)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not supported (http and https only)", u.Scheme)
	case rt.fetcher == nil:
		return nil, fmt.Errorf("host %q is not allowed: no host is allowed for scripts", u.Host)
	}
	ctx := rt.ctx
	resp, err := rt.fetcher.Fetch(ctx, hc.req)
	if err != nil {
		if ctx != nil && ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return nil, err
	}
	if len(resp.Body) > MaxFetchBody {
		return nil, fmt.Errorf("response body over %d bytes", MaxFetchBody)
	}
	return resp, nil
}

// body is a response body as the script sees it: parsed JSON when asked for (the text when it
// is not JSON), else the text.
func (rt *jsRuntime) body(resp *FetchResponse, asJSON bool) goja.Value {
	vm := rt.vm
	if asJSON {
		var v any
		if err := json.Unmarshal(resp.Body, &v); err == nil {
			if jv, err := rt.value(v); err == nil {
				return jv
			}
		}
	}
	return vm.ToValue(string(resp.Body))
}

func (rt *jsRuntime) headersObject(resp *FetchResponse) *goja.Object {
	h := rt.vm.NewObject()
	for k, v := range resp.Header {
		_ = h.Set(k, strings.Join(v, ", "))
	}
	return h
}

// requestModule is the request library: request(options, callback) and its method helpers,
// calling back (err, response, body).
func (rt *jsRuntime) requestModule() goja.Value {
	vm := rt.vm
	do := func(method string) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			opts := c.Argument(0)
			// request(url, options, callback)
			if _, isStr := opts.Export().(string); isStr {
				if o, ok := c.Argument(1).(*goja.Object); ok {
					if _, isFn := goja.AssertFunction(o); !isFn {
						_ = o.Set("url", opts)
						opts = o
					}
				}
			}
			cb := lastFunc(c)
			hc, err := rt.requestOptions(opts, method)
			var resp *FetchResponse
			if err == nil {
				resp, err = rt.send(hc)
			}
			f, ok := goja.AssertFunction(cb)
			if !ok {
				return goja.Undefined()
			}
			if err != nil {
				if _, cerr := f(goja.Undefined(), rt.errValue(fmt.Errorf("request: %w", err))); cerr != nil {
					panic(cerr)
				}
				return goja.Undefined()
			}
			body := rt.body(resp, hc.json)
			r := vm.NewObject()
			_ = r.Set("statusCode", resp.Status)
			_ = r.Set("statusMessage", strings.TrimSpace(strings.TrimPrefix(resp.StatusText, strconv.Itoa(resp.Status))))
			_ = r.Set("headers", rt.headersObject(resp))
			_ = r.Set("body", body)
			if _, cerr := f(goja.Undefined(), goja.Null(), r, body); cerr != nil {
				panic(cerr)
			}
			return goja.Undefined()
		}
	}
	m := vm.ToValue(do("GET")).(*goja.Object)
	for name, method := range map[string]string{"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH",
		"del": "DELETE", "delete": "DELETE", "head": "HEAD"} {
		_ = m.Set(name, do(method))
	}
	return m
}

// axiosModule is axios: axios(config), axios.get(url, config), axios.post(url, data, config)...
// returning a Promise of {status, statusText, headers, data}, rejected for a status outside
// 2xx with the response on error.response, as axios does.
func (rt *jsRuntime) axiosModule() goja.Value {
	vm := rt.vm
	run := func(cfg *goja.Object) goja.Value {
		if d := cfg.Get("data"); defined(d) && !goja.IsNull(d) {
			if _, isObj := d.(*goja.Object); isObj {
				_ = cfg.Set("json", d)
			} else {
				_ = cfg.Set("body", d)
			}
		}
		hc, err := rt.requestOptions(cfg, "GET")
		hc.json = true
		var resp *FetchResponse
		if err == nil {
			resp, err = rt.send(hc)
		}
		if err != nil {
			return rt.callbackOr(goja.Undefined(), nil, fmt.Errorf("axios: %w", err))
		}
		r := vm.NewObject()
		_ = r.Set("status", resp.Status)
		_ = r.Set("statusText", resp.StatusText)
		_ = r.Set("headers", rt.headersObject(resp))
		_ = r.Set("data", rt.body(resp, true))
		if resp.Status < 200 || resp.Status > 299 {
			e := vm.NewGoError(fmt.Errorf("Request failed with status code %d", resp.Status))
			_ = e.Set("response", r)
			p, _, reject := vm.NewPromise()
			_ = reject(e)
			return vm.ToValue(p)
		}
		return rt.callbackOr(goja.Undefined(), []goja.Value{r}, nil)
	}
	config := func(v goja.Value) *goja.Object {
		if o, ok := v.(*goja.Object); ok {
			return o
		}
		return vm.NewObject()
	}
	m := vm.ToValue(func(c goja.FunctionCall) goja.Value {
		cfg := config(c.Argument(0))
		if s, ok := c.Argument(0).Export().(string); ok {
			cfg = config(c.Argument(1))
			_ = cfg.Set("url", s)
		}
		return run(cfg)
	}).(*goja.Object)
	for _, method := range []string{"get", "delete", "head"} {
		_ = m.Set(method, func(c goja.FunctionCall) goja.Value {
			cfg := config(c.Argument(1))
			_ = cfg.Set("url", c.Argument(0))
			_ = cfg.Set("method", strings.ToUpper(method))
			return run(cfg)
		})
	}
	for _, method := range []string{"post", "put", "patch"} {
		_ = m.Set(method, func(c goja.FunctionCall) goja.Value {
			cfg := config(c.Argument(2))
			_ = cfg.Set("url", c.Argument(0))
			_ = cfg.Set("data", c.Argument(1))
			_ = cfg.Set("method", strings.ToUpper(method))
			return run(cfg)
		})
	}
	return m
}

// --- pg (node-postgres) ---------------------------------------------------------------------

// connString reads what node-postgres takes as a connection: a string, or a config object
// ({connectionString} or {user, password, host, port, database, ssl}).
func connString(v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok {
		return v.String()
	}
	get := func(k string) string {
		x := o.Get(k)
		if x == nil || goja.IsUndefined(x) || goja.IsNull(x) {
			return ""
		}
		return x.String()
	}
	if s := get("connectionString"); s != "" {
		return s
	}
	u := url.URL{Scheme: "postgres", Host: get("host"), Path: "/" + get("database")}
	if u.Host == "" {
		u.Host = "localhost"
	}
	if p := get("port"); p != "" {
		u.Host += ":" + p
	}
	if user := get("user"); user != "" {
		if pw := get("password"); pw != "" {
			u.User = url.UserPassword(user, pw)
		} else {
			u.User = url.User(user)
		}
	}
	if ssl := o.Get("ssl"); defined(ssl) && ssl.ToBoolean() {
		u.RawQuery = "sslmode=require"
	}
	return u.String()
}

// pgArgs turns query values into what the SQL backend encodes: whole numbers as int64 (node
// sends numbers as text, which Postgres reads as any numeric type), Buffers as bytes.
func pgArgs(v goja.Value) []any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	items, ok := v.Export().([]any)
	if !ok {
		return nil
	}
	for i, x := range items {
		switch t := x.(type) {
		case float64:
			if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
				items[i] = int64(t)
			}
		case map[string]any, []any:
			b, _ := json.Marshal(t)
			items[i] = string(b)
		}
	}
	return items
}

// pgValue converts one column value into what node-postgres would give.
func (rt *jsRuntime) pgValue(x any) goja.Value {
	vm := rt.vm
	switch t := x.(type) {
	case nil:
		return goja.Null()
	case time.Time:
		d, _ := vm.New(vm.Get("Date"), vm.ToValue(t.UnixMilli()))
		return d
	case []byte:
		return rt.newBuffer(t)
	case [16]byte: // uuid
		return vm.ToValue(fmt.Sprintf("%x-%x-%x-%x-%x", t[0:4], t[4:6], t[6:8], t[8:10], t[10:]))
	case string, bool, int32, int16, int64, float32, float64:
		return vm.ToValue(t)
	case fmt.Stringer:
		return vm.ToValue(t.String())
	}
	if v, err := rt.value(x); err == nil {
		return v
	}
	return vm.ToValue(fmt.Sprint(x))
}

// pgQuery runs client.query(text | {text, values}, values?, callback?).
func (rt *jsRuntime) pgQuery(conn string, c goja.FunctionCall) goja.Value {
	vm := rt.vm
	text, vals := c.Argument(0), c.Argument(1)
	if o, ok := text.(*goja.Object); ok {
		if v := o.Get("values"); defined(v) {
			vals = v
		}
		text = o.Get("text")
	}
	if _, isFn := goja.AssertFunction(vals); isFn {
		vals = goja.Undefined()
	}
	cb := lastFunc(c)
	if rt.sql == nil {
		return rt.callbackOr(cb, nil, errors.New("pg: no database access is configured"))
	}
	res, err := rt.sql.Query(rt.ctx, conn, text.String(), pgArgs(vals))
	if err != nil {
		if rt.ctx != nil && rt.ctx.Err() != nil {
			err = context.Cause(rt.ctx)
		}
		return rt.callbackOr(cb, nil, err)
	}
	rows := make([]any, len(res.Rows))
	for i, r := range res.Rows {
		o := vm.NewObject()
		for j, f := range res.Fields {
			if j < len(r) {
				_ = o.Set(f, rt.pgValue(r[j]))
			}
		}
		rows[i] = o
	}
	fields := make([]any, len(res.Fields))
	for i, f := range res.Fields {
		fo := vm.NewObject()
		_ = fo.Set("name", f)
		fields[i] = fo
	}
	out := vm.NewObject()
	_ = out.Set("rows", vm.NewArray(rows...))
	_ = out.Set("rowCount", res.RowCount)
	_ = out.Set("command", res.Command)
	_ = out.Set("fields", vm.NewArray(fields...))
	return rt.callbackOr(cb, []goja.Value{out}, nil)
}

// pgClient is a client of one connection string. Queries go to the backend's pool, so
// connect, release and end only settle their callback or promise.
func (rt *jsRuntime) pgClient(conn string) *goja.Object {
	vm := rt.vm
	var client *goja.Object
	settle := func(c goja.FunctionCall) goja.Value { return rt.callbackOr(lastFunc(c), nil, nil) }
	client = rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"query": func(c goja.FunctionCall) goja.Value { return rt.pgQuery(conn, c) },
		"connect": func(c goja.FunctionCall) goja.Value {
			return rt.callbackOr(lastFunc(c), []goja.Value{client}, nil)
		},
		"release": func(goja.FunctionCall) goja.Value { return goja.Undefined() },
		"end":     settle,
		"on":      func(goja.FunctionCall) goja.Value { return client },
	})
	_ = vm
	return client
}

func (rt *jsRuntime) pgModule() goja.Value {
	vm := rt.vm
	m := vm.NewObject()
	// pg.connect(conString, function (err, client, done) {...}): the API of node-postgres
	// before 7, which Auth0's PostgreSQL templates use.
	_ = m.Set("connect", func(c goja.FunctionCall) goja.Value {
		client := rt.pgClient(connString(c.Argument(0)))
		done := rt.fn(func(goja.FunctionCall) goja.Value { return goja.Undefined() })
		return rt.callbackOr(lastFunc(c), []goja.Value{client, done}, nil)
	})
	ctor := func(c goja.ConstructorCall) *goja.Object {
		conn := ""
		if len(c.Arguments) > 0 {
			conn = connString(c.Arguments[0])
		}
		o := rt.pgClient(conn)
		// A Pool's connect gives a client to release; the pool's query is the client's.
		return o
	}
	_ = m.Set("Client", ctor)
	_ = m.Set("Pool", ctor)
	return m
}

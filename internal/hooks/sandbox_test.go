package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/hooks/hookstest"
)

func heapObjects() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestMemoryGuard(t *testing.T) {
	const limit = 32 << 20
	// A long deadline, so that only the memory guard can stop these.
	e := hooks.NewEngine(hooks.Options{Timeout: time.Minute, MemoryLimit: limit})
	cases := map[string]string{
		"array of objects": `const a = []; for (;;) a.push({x: 'y'.repeat(1000)});`,
		"growing string":   `let s = 'x'; const keep = []; for (;;) { s = s + s.slice(0, 1000) + Math.random(); keep.push(s.slice(-2000)); }`,
		"map":              `const m = new Map(); for (let i = 0; ; i++) m.set(i, [i, String(i), {i}]);`,
		"nested objects":   `let o = {}; for (let i = 0; ; i++) { o = {next: o, pad: new Array(64).fill(i)}; }`,
		"in a rule":        ``,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			var f *hooks.Flow
			var err error
			if body == "" {
				f, err = e.Flow([]hooks.Rule{{Name: "r", Script: `function (user, context, callback) {
  const a = []; while (true) a.push([user.user_id, context.clientID, {n: a.length}]);
}`}}, nil)
			} else {
				f, err = e.Flow(nil, []hooks.Action{{Name: "hog", Code: "exports.onExecutePostLogin = async (event, api) => {\n" + body + "\n};"}})
			}
			if err != nil {
				t.Fatal(err)
			}
			base := heapObjects()
			stop := hookstest.HeapPeak()
			_, err = f.PostLogin(context.Background(), event())
			peak := stop()
			if !errors.Is(err, hooks.ErrMemoryLimit) {
				t.Fatalf("got %v, want ErrMemoryLimit", err)
			}
			if !strings.Contains(err.Error(), "memory") {
				t.Errorf("error %q does not say memory", err)
			}
			// The budget counts live heap; the GC lets the heap reach about twice the live
			// set before marking, plus what is allocated between samples.
			if grew := int64(peak) - int64(base); grew > 8*limit {
				t.Errorf("heap grew by %d MiB, want it bounded near the %d MiB budget", grew>>20, limit>>20)
			}
			t.Logf("heap peak %d MiB over a %d MiB base", (int64(peak)-int64(base))>>20, base>>20)
		})
	}
	t.Run("engine still serves", func(t *testing.T) {
		f, err := e.Flow(nil, []hooks.Action{{Name: "ok", Code: `exports.onExecutePostLogin = async (event, api) => {
  const tmp = []; for (let i = 0; i < 1000; i++) tmp.push({i});
  api.accessToken.setCustomClaim('https://x/n', tmp.length);
};`}})
		if err != nil {
			t.Fatal(err)
		}
		o, err := f.PostLogin(context.Background(), event())
		if err != nil || o.AccessClaims["https://x/n"] != int64(1000) {
			t.Errorf("got %v, %v; want the claim 1000", o.AccessClaims, err)
		}
	})
}

// TestMemoryGuardGarbage checks that allocating and dropping far more than the budget is not
// mistaken for a runaway: the guard counts live heap, not allocations.
func TestMemoryGuardGarbage(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{Timeout: time.Minute, MemoryLimit: 16 << 20})
	f, err := e.Flow(nil, []hooks.Action{{Name: "churn", Code: `exports.onExecutePostLogin = async (event, api) => {
  let n = 0;
  for (let i = 0; i < 50000; i++) { const o = {x: 'y'.repeat(1000)}; n += o.x.length; }
  api.accessToken.setCustomClaim('https://x/n', n);
};`}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.PostLogin(context.Background(), event())
	if err != nil {
		t.Fatalf("got %v, want no error", err)
	}
	if got := o.AccessClaims["https://x/n"]; got != int64(50000*1000) {
		t.Errorf("claim: got %v, want %d", got, 50000*1000)
	}
}

// TestMemoryGuardConcurrent runs a runaway beside ordinary logins: the runaway fails with the
// memory cause and logins that do not overlap its growth succeed.
func TestMemoryGuardConcurrent(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{Timeout: time.Minute, MemoryLimit: 32 << 20})
	hog, err := e.Flow(nil, []hooks.Action{{Name: "hog", Code: `exports.onExecutePostLogin = async (event, api) => {
  const a = []; for (;;) a.push({x: 'y'.repeat(1000)});
};`}})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := e.Flow(nil, []hooks.Action{{Name: "ok", Code: `exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://x/ok', true);
};`}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := hog.PostLogin(context.Background(), event()); done <- err }()
	var succeeded int
	for {
		select {
		case err := <-done:
			if !errors.Is(err, hooks.ErrMemoryLimit) {
				t.Errorf("runaway: got %v, want ErrMemoryLimit", err)
			}
			if succeeded == 0 {
				t.Errorf("no ordinary login succeeded beside the runaway")
			}
			o, err := ok.PostLogin(context.Background(), event())
			if err != nil || o.AccessClaims["https://x/ok"] != true {
				t.Errorf("after the runaway: got %v, %v; want the claim", o.AccessClaims, err)
			}
			return
		default:
		}
		if _, err := ok.PostLogin(context.Background(), event()); err == nil {
			succeeded++
		}
	}
}

// fakeFetcher answers from a table by URL and records what it was asked.
type fakeFetcher struct {
	allow string
	got   []hooks.FetchRequest
}

func (f *fakeFetcher) Fetch(ctx context.Context, r hooks.FetchRequest) (*hooks.FetchResponse, error) {
	f.got = append(f.got, r)
	if !strings.HasPrefix(r.URL, "https://"+f.allow+"/") {
		return nil, fmt.Errorf("host of %s is %w", r.URL, hooks.ErrFetchNotAllowed)
	}
	switch {
	case strings.HasSuffix(r.URL, "/wait"):
		<-ctx.Done()
		return nil, ctx.Err()
	case strings.HasSuffix(r.URL, "/missing"):
		return &hooks.FetchResponse{URL: r.URL, Status: 404, StatusText: "Not Found", Body: []byte("no")}, nil
	}
	return &hooks.FetchResponse{URL: r.URL, Status: 200, StatusText: "OK",
		Header: map[string][]string{"content-type": {"application/json"}, "x-multi": {"a", "b"}},
		Body:   []byte(`{"plan":"gold","n":3}`)}, nil
}

func TestFetch(t *testing.T) {
	ff := &fakeFetcher{allow: "api.example.com"}
	e := hooks.NewEngine(hooks.Options{Timeout: 500 * time.Millisecond, Fetch: ff})
	none := hooks.NewEngine(hooks.Options{})
	run := func(e *hooks.Engine, body string) (hooks.Outcome, error) {
		f, err := e.Flow(nil, []hooks.Action{{Name: "fetcher", Code: "exports.onExecutePostLogin = async (event, api) => {\n" + body + "\n};"}})
		if err != nil {
			t.Fatal(err)
		}
		return f.PostLogin(context.Background(), event())
	}
	t.Run("json, headers and options", func(t *testing.T) {
		o, err := run(e, `const r = await fetch('https://api.example.com/plan', {method: 'post', headers: {'X-Key': event.secrets.K || 'k'}, body: JSON.stringify({id: event.user.user_id})});
const data = await r.json();
api.accessToken.setCustomClaim('https://x/r', [r.ok, r.status, r.statusText, r.headers.get('Content-Type'), r.headers.get('x-multi'), r.headers.get('nope'), data.plan, data.n, r.bodyUsed]);
let again;
try { await r.text(); } catch (e) { again = e.name; }
api.accessToken.setCustomClaim('https://x/again', again);`)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{true, int64(200), "OK", "application/json", "a, b", nil, "gold", int64(3), true}
		if got := fmt.Sprint(o.AccessClaims["https://x/r"]); got != fmt.Sprint(want) {
			t.Errorf("claim: got %s, want %v", got, want)
		}
		if got := o.AccessClaims["https://x/again"]; got != "TypeError" {
			t.Errorf("second read: got %v, want TypeError", got)
		}
		last := ff.got[len(ff.got)-1]
		if last.Method != "POST" || last.Body != `{"id":"auth0|1"}` || fmt.Sprint(last.Header) != "[[X-Key k]]" {
			t.Errorf("request: got %+v", last)
		}
	})
	t.Run("not ok status and text", func(t *testing.T) {
		o, err := run(e, `const r = await fetch('https://api.example.com/missing');
api.accessToken.setCustomClaim('https://x/r', [r.ok, r.status, await r.text()].join());`)
		if err != nil || o.AccessClaims["https://x/r"] != "false,404,no" {
			t.Errorf("got %v, %v; want false,404,no", o.AccessClaims, err)
		}
	})
	for name, tc := range map[string]struct {
		e        *hooks.Engine
		url      string
		wantText string
	}{
		"host outside the allowlist": {e, "https://evil.example.net/x", "is not allowed"},
		"no fetcher":                 {none, "https://api.example.com/x", "is not allowed"},
		"other scheme":               {e, "file:///etc/passwd", "http and https only"},
		"relative URL":               {e, "/x", "invalid URL"},
	} {
		t.Run(name, func(t *testing.T) {
			o, err := run(tc.e, fmt.Sprintf(`try { await fetch(%q); } catch (e) {
  api.accessToken.setCustomClaim('https://x/err', e.name + ': ' + e.message);
}`, tc.url))
			got, _ := o.AccessClaims["https://x/err"].(string)
			if err != nil || !strings.HasPrefix(got, "TypeError: ") || !strings.Contains(got, tc.wantText) {
				t.Errorf("got %q, %v; want a TypeError containing %q", got, err, tc.wantText)
			}
		})
	}
	t.Run("forbidden method", func(t *testing.T) {
		n := len(ff.got)
		o, err := run(e, `try { await fetch('https://api.example.com/x', {method: 'connect'}); } catch (e) {
  api.accessToken.setCustomClaim('https://x/err', e.name + ': ' + e.message);
}`)
		if got := o.AccessClaims["https://x/err"]; err != nil || got != "TypeError: fetch: method CONNECT is not allowed" || len(ff.got) != n {
			t.Errorf("got %v, %v (%d requests); want a TypeError and no request", got, err, len(ff.got)-n)
		}
	})
	t.Run("uncaught rejection fails the execution", func(t *testing.T) {
		_, err := run(e, `await fetch('https://evil.example.net/x');`)
		var ee *hooks.ExecutionError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), "TypeError: fetch:") || !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("got %v, want an ExecutionError with the TypeError", err)
		}
	})
	t.Run("deadline ends a hanging request", func(t *testing.T) {
		_, err := run(e, `await fetch('https://api.example.com/wait');`)
		if !errors.Is(err, hooks.ErrTimeout) {
			t.Errorf("got %v, want the request cancelled by the deadline", err)
		}
	})
	t.Run("a swallowed deadline still fails", func(t *testing.T) {
		o, err := run(e, `let msg; try { await fetch('https://api.example.com/wait'); } catch (e) { msg = e.message; }
api.accessToken.setCustomClaim('https://x/msg', msg);`)
		// Either the interrupt reaches the next instruction, or the code ends first: then the
		// message names the deadline, not "context canceled".
		if err == nil && o.AccessClaims["https://x/msg"] != "fetch: hooks: execution deadline exceeded" {
			t.Errorf("got %v, %v; want the deadline", o.AccessClaims, err)
		}
		if err != nil && !errors.Is(err, hooks.ErrTimeout) {
			t.Errorf("got %v, want ErrTimeout", err)
		}
	})
	t.Run("a replaced fetch ends with its execution", func(t *testing.T) {
		if _, err := run(e, `'use strict'; fetch = () => 'replaced';`); err != nil {
			t.Fatal(err)
		}
		o, err := run(e, `api.accessToken.setCustomClaim('https://x/r', fetch('https://api.example.com/plan') instanceof Promise);`)
		if err != nil || o.AccessClaims["https://x/r"] != true {
			t.Errorf("got %v, %v; want the engine's fetch in the next execution", o.AccessClaims, err)
		}
	})
}

// TestBuiltinLimits covers the built-ins that would allocate or loop without bound inside one
// call, where neither the deadline nor the memory guard can reach: each throws RangeError at
// once instead.
func TestBuiltinLimits(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{Timeout: time.Minute})
	big := `const big = 'x'.repeat(1e6);`
	for code, want := range map[string]string{
		`new Array(1e8).fill(0)`:                            "RangeError: Invalid array length",
		`const a = []; a.length = 1e8; a.indexOf(1)`:        "RangeError: Invalid array length",
		`[...new Array(1e7)]`:                               "RangeError: Invalid array length",
		`Array.from({length: 3e7})`:                         "RangeError: Invalid array length",
		`Array.prototype.slice.call({length: 1e8})`:         "RangeError: Invalid array length",
		`Math.max.apply(null, {length: 1e7})`:               "RangeError: Invalid array length",
		`new Uint8Array(1e9)`:                               "RangeError: Array buffer allocation failed",
		`new ArrayBuffer(1e9)`:                              "RangeError: Array buffer allocation failed",
		`'x'.repeat(1e5).replace(/x/g, 'y'.repeat(1000))`:   "RangeError: Invalid string length",
		big + `new Array(1e4).fill(big).join('')`:           "RangeError: Invalid string length",
		big + `JSON.stringify(new Array(1e4).fill(big))`:    "RangeError: Invalid string length",
		big + `big.concat(big, big)`:                        "RangeError: Invalid string length",
		`'ab'.padEnd(1e8)`:                                  "RangeError: Invalid string length",
		`String.fromCharCode(...new Array(1e7))`:            "RangeError: Invalid array length",
		`const a = []; a[1e8] = 1; a.sort()`:                "RangeError: Invalid array length",
		`const a = []; a[1e8] = 1; for (const x of a) {}`:   "RangeError: Invalid array length",
		`new Array(1e7).join('xxxxxxxxxx')`:                 "RangeError: Invalid array length",
		`let a = [1]; for (;;) a = a.concat(a, a, a, a, a)`: "", // the guard or the cap, whichever first
	} {
		t.Run(code, func(t *testing.T) {
			f, err := e.Flow(nil, []hooks.Action{{Name: "big", Code: "exports.onExecutePostLogin = async (event, api) => {\n" + code + "\n};"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.PostLogin(context.Background(), event())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want %q", err, want)
			}
		})
	}
	// The wrapped built-ins behave as the originals for ordinary sizes.
	f, err := e.Flow(nil, []hooks.Action{{Name: "ordinary", Code: `exports.onExecutePostLogin = async (event, api) => {
  class X extends Uint8Array {}
  const x = new X(4);
  let noNew;
  try { Uint8Array(3); } catch (e) { noNew = e.name; }
  api.accessToken.setCustomClaim('https://x/r', [
    x instanceof Uint8Array, x instanceof X, new Uint8Array(2).constructor === Uint8Array,
    new Uint8Array([1, 2]).buffer instanceof ArrayBuffer, Uint8Array.from([1, 2, 3]).length, Uint8Array.name,
    Uint8Array.BYTES_PER_ELEMENT, Object.prototype.toString.call(new Uint8Array(1)), noNew,
    [1, 2].join(), [1, [2, 3]].toString(), [null, undefined, 'a'].join('-'), JSON.stringify({a: [1, 'b']}),
    JSON.stringify({a: 1, b: 2}, (k, v) => k === 'b' ? undefined : v), JSON.stringify({a: 1, b: 2}, ['b']),
    'aXbX'.replace(/X/g, '$&!'), 'aXbX'.replaceAll('X', (m) => m.toLowerCase()), 'a'.concat('b', 1),
    [].concat([1], [2], 3).length, Array.from('ab').length, Array.from(new Set([1, 1, 2])).length,
    Math.max.apply(null, [1, 5, 2]), Array.prototype[Symbol.iterator] === Array.prototype.values,
    [...'ab'].length, [3, 1, 2].sort().join(''), [1, 2, 3].map((n) => n * 2).join(), Array.prototype.join.length,
  ].join('|'));
};`}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.PostLogin(context.Background(), event())
	want := `true|true|true|true|3|Uint8Array|1|[object Uint8Array]|TypeError|1,2|1,2,3|--a|{"a":[1,"b"]}|{"a":1}|{"b":2}|aX!bX!|axbx|ab1|3|2|2|5|true|2|123|2,4,6|1`
	if got := o.AccessClaims["https://x/r"]; err != nil || got != want {
		t.Errorf("got %v, %v\nwant %s", got, err, want)
	}
}

// TestBuiltinLimitsHoldAgainstTampering covers two ways around the size checks that the code
// itself could open: an array-like marked Symbol.isConcatSpreadable (concat spreads it like an
// array), and a replaced global RegExp (the replace check must still see a global pattern).
func TestBuiltinLimitsHoldAgainstTampering(t *testing.T) {
	e := hooks.NewEngine(hooks.Options{Timeout: time.Minute})
	f, err := e.Flow(nil, []hooks.Action{{Name: "tamper", Code: `exports.onExecutePostLogin = async (event, api) => {
  const got = [];
  for (const attempt of [
    () => [].concat({length: 1e8, [Symbol.isConcatSpreadable]: true}),
    () => { globalThis.RegExp = function () {}; return 'x'.repeat(2e4).replace(/x/g, 'y'.repeat(100)); },
  ]) {
    try { attempt(); got.push('no error'); } catch (e) { got.push(e.name + ': ' + e.message); }
  }
  api.accessToken.setCustomClaim('https://x/r', got.join('|'));
};`}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.PostLogin(context.Background(), event())
	want := "RangeError: Invalid array length|RangeError: Invalid string length"
	if got := o.AccessClaims["https://x/r"]; err != nil || got != want {
		t.Errorf("got %v, %v; want %s", got, err, want)
	}
}

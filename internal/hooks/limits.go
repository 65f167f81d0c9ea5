package hooks

import (
	"fmt"
	"sync"

	"github.com/dop251/goja"
)

// Size limits of single built-in calls (see prelude).
const (
	// MaxStringLength bounds the strings that repeat, padStart, padEnd, join, concat, replace,
	// replaceAll and JSON.stringify may build in one call.
	MaxStringLength = 1 << 20
	// MaxArrayLength bounds the arrays (and array-likes) the built-in Array methods, Array.from,
	// apply and the typed-array constructors work on: 1 Mi elements.
	MaxArrayLength = 1 << 20
	// MaxBufferBytes bounds an ArrayBuffer or typed array.
	MaxBufferBytes = 16 << 20
)

// prelude defines UnauthorizedError for Rules and puts size limits on the built-ins that can
// allocate, or loop, without bound inside one call. goja checks for interrupts only between
// JavaScript instructions, so neither the deadline nor the memory guard can stop a built-in
// written in Go once it runs: new Array(1e8).fill(0) allocates gigabytes and runs for a minute
// in a single call, and [...new Array(1e8)] or a join of a million references to a 1 MiB
// string likewise. The wrappers check sizes first and throw RangeError, as engines do past
// their own limits, so that every remaining unbounded path goes through JavaScript
// instructions (interruptible) or through allocations the guard sees grow.
//
// Limits no legitimate post-login code comes near. The wrappers replace the built-ins in
// place (same names, lengths and property attributes), so code sees the usual objects;
// callbacks, iteration order and side effects are those of the originals.
var prelude = fmt.Sprintf(`
class UnauthorizedError extends Error {
  constructor(message) { super(message); this.name = 'UnauthorizedError'; }
}
(function () {
  const STR = %d, ARR = %d, BYTES = %d;
  const apply = Reflect.apply, construct = Reflect.construct, getDesc = Object.getOwnPropertyDescriptor;
  const defineProperty = Object.defineProperty, isArray = Array.isArray, StringFn = String;
  const len = (v) => { const n = Math.floor(Number(v)); return n > 0 ? n : 0; };
  const strTooLong = () => { throw new RangeError('Invalid string length'); };
  const arrTooLong = () => { throw new RangeError('Invalid array length'); };
  const lengthOf = (o) => (o === null || o === undefined) ? 0 : len(o.length);
  // wrap replaces obj[name] by a function that runs check(this, args) first.
  const wrap = (obj, name, check) => {
    const d = getDesc(obj, name);
    if (!d || typeof d.value !== 'function') return;
    const orig = d.value;
    const key = typeof name === 'symbol' ? '[' + name.description + ']' : name;
    const fn = ({ [key](...args) { check(this, args); return apply(orig, this, args); } })[key];
    defineProperty(fn, 'length', { value: orig.length });
    d.value = fn;
    defineProperty(obj, name, d);
    return fn;
  };

  // Strings.
  const S = String.prototype;
  const strCheck = (size) => (self, a) => { if (size(StringFn(self), a) > STR) strTooLong(); };
  wrap(S, 'repeat', strCheck((s, a) => s.length * Number(a[0])));
  wrap(S, 'padStart', strCheck((s, a) => Number(a[0])));
  wrap(S, 'padEnd', strCheck((s, a) => Number(a[0])));
  wrap(S, 'concat', strCheck((s, a) => a.reduce((n, x) => n + StringFn(x).length, s.length)));
  // The output of replace is bounded by the input, plus the replacement once per match
  // (every position, for a global pattern), plus what its $ patterns copy: at most the
  // whole input each (the prefix and suffix patterns copy up to all of it).
  const replaceSize = (all) => (s, a) => {
    if (typeof a[1] === 'function') return 0;
    const r = StringFn(a[1]);
    const global = all || (a[0] instanceof RegExp && a[0].global);
    const count = global ? s.length + 1 : 1;
    const refs = r.split('$').length - 1;
    return s.length + count * (r.length + refs * s.length);
  };
  wrap(S, 'replace', strCheck(replaceSize(false)));
  wrap(S, 'replaceAll', strCheck(replaceSize(true)));

  // Arrays: every built-in method refuses an array (or array-like this) over ARR elements,
  // since each may loop over the whole length in Go, holes included.
  const A = Array.prototype;
  const arrCheck = (self) => { if (lengthOf(self) > ARR) arrTooLong(); };
  const origJoin = A.join;
  for (const name of Object.getOwnPropertyNames(A)) {
    if (name === 'constructor' || name === 'length' || name === 'push' || name === 'pop' || name === 'at') continue;
    if (name === 'join') continue;
    if (name === 'concat') {
      wrap(A, name, (self, a) => {
        arrCheck(self);
        if (a.reduce((n, x) => n + (isArray(x) ? lengthOf(x) : 1), lengthOf(self)) > ARR) arrTooLong();
      });
      continue;
    }
    const fn = wrap(A, name, arrCheck);
    if (name === 'values') defineProperty(A, Symbol.iterator, { value: fn, writable: true, configurable: true });
  }
  // join counts what it builds: the parts are made into strings here, once each and in
  // order, as join would, and the built-in joins them.
  defineProperty(A, 'join', { value: ({ join(sep) {
    arrCheck(this);
    const n = lengthOf(this), s = sep === undefined ? ',' : StringFn(sep), parts = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = this[i], p = v === null || v === undefined ? '' : StringFn(v);
      total += p.length + s.length;
      if (total > STR) strTooLong();
      parts.push(p);
    }
    return apply(origJoin, parts, [s]);
  } }).join, writable: true, configurable: true });
  defineProperty(A.join, 'length', { value: 1 });
  wrap(Array, 'from', (self, a) => {
    const items = a[0];
    if (items !== null && items !== undefined && typeof items !== 'string' && typeof Object(items)[Symbol.iterator] !== 'function') arrCheck(items);
  });
  const argsCheck = (i) => (self, a) => { if (a[i] !== null && typeof a[i] === 'object' && lengthOf(a[i]) > ARR) arrTooLong(); };
  wrap(Function.prototype, 'apply', argsCheck(1));
  wrap(Reflect, 'apply', argsCheck(2));
  wrap(Reflect, 'construct', argsCheck(1));

  // Buffers and typed arrays: a size check in front of the constructor. The wrapper shares
  // the original's prototype, so instanceof, constructor, statics and subclassing behave as
  // before (goja's instanceof does not take a Proxy, hence a plain function).
  const bufferCtor = (name, bytes) => {
    const C = globalThis[name];
    if (typeof C !== 'function') return;
    const W = function (...a) {
      if (new.target === undefined) throw new TypeError("Constructor " + name + " requires 'new'");
      if (bytes(a) > BYTES) throw new RangeError('Array buffer allocation failed');
      return construct(C, a, new.target === W ? C : new.target);
    };
    for (const k of Reflect.ownKeys(C)) {
      if (k !== 'prototype') defineProperty(W, k, getDesc(C, k));
    }
    Object.setPrototypeOf(W, Object.getPrototypeOf(C));
    defineProperty(W, 'prototype', { value: C.prototype, writable: false, enumerable: false, configurable: false });
    defineProperty(C.prototype, 'constructor', { value: W, writable: true, enumerable: false, configurable: true });
    defineProperty(globalThis, name, { value: W, writable: true, enumerable: false, configurable: true });
  };
  bufferCtor('ArrayBuffer', (a) => len(a[0]));
  for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
    'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
    const per = globalThis[name] ? globalThis[name].BYTES_PER_ELEMENT : 1;
    bufferCtor(name, (a) => typeof a[0] === 'object' && a[0] !== null ? lengthOf(a[0]) * per : len(a[0]) * per);
  }

  // JSON.stringify counts what it writes through a replacer (wrapping the code's own).
  const origStringify = JSON.stringify;
  defineProperty(JSON, 'stringify', { value: ({ stringify(value, replacer, space) {
    if (isArray(replacer)) return apply(origStringify, JSON, [value, replacer, space]);
    const gap = typeof space === 'number' ? Math.min(10, len(space)) : typeof space === 'string' ? Math.min(10, space.length) : 0;
    let total = 0;
    const counting = function (k, v) {
      if (typeof replacer === 'function') v = apply(replacer, this, [k, v]);
      total += StringFn(k).length + 8 + gap;
      if (typeof v === 'string') total += v.length;
      if (total > STR) strTooLong();
      return v;
    };
    return apply(origStringify, JSON, [value, counting, space]);
  } }).stringify, writable: true, configurable: true });
  defineProperty(JSON.stringify, 'length', { value: 3 });
})();
`, MaxStringLength, MaxArrayLength, MaxBufferBytes)

// preludeProgram is the prelude compiled once for every runtime of the process.
var preludeProgram = sync.OnceValue(func() *goja.Program { return goja.MustCompile("prelude.js", prelude, true) })

package hooks

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/dop251/goja"
)

// Size limits of single built-in calls (see installLimits).
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

// prelude defines UnauthorizedError for Rules. It is the only JavaScript a runtime runs before
// the code: the size limits are put in place from Go (installLimits), which costs a fraction of
// doing it in JavaScript.
const prelude = `class UnauthorizedError extends Error {
  constructor(message) { super(message); this.name = 'UnauthorizedError'; }
}`

// preludeProgram is the prelude compiled once for every runtime of the process.
var preludeProgram = sync.OnceValue(func() *goja.Program { return goja.MustCompile("prelude.js", prelude, true) })

// bufferCtors makes the replacements of the ArrayBuffer and typed-array constructors: plain
// JavaScript functions, because only a JavaScript function tells a call from a new (goja's
// constructors written in Go see both alike) and because goja's instanceof does not take a
// Proxy. Each calls make(i, new.target, args), which checks the size and constructs the
// original i. It is compiled once, and a runtime runs it once for all the constructors.
var bufferCtors = sync.OnceValue(func() *goja.Program {
	return goja.MustCompile("limits.js", `(function (names, make) {
  const out = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    out[i] = function (...args) {
      if (new.target === undefined) throw new TypeError("Constructor " + name + " requires 'new'");
      return make(i, new.target, args);
    };
  }
  return out;
})`, true)
})

// bufferNames are the constructors whose allocation installLimits bounds.
var bufferNames = []string{"ArrayBuffer", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
	"Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"}

// installLimits puts size limits on the built-ins of vm that can allocate, or loop, without
// bound inside one call. goja checks for interrupts only between JavaScript instructions, so
// neither the deadline nor the memory guard can stop a built-in written in Go once it runs:
// new Array(1e8).fill(0) allocates gigabytes and runs for a minute in a single call, and
// [...new Array(1e8)] or a join of a million references to a 1 MiB string likewise. The
// wrappers check sizes first and throw RangeError, as engines do past their own limits, so
// that every remaining unbounded path goes through JavaScript instructions (interruptible) or
// through allocations the guard sees grow.
//
// Limits no legitimate post-login code comes near. The wrappers replace the built-ins in place
// (same names, lengths and property attributes), so code sees the usual objects; callbacks,
// iteration order and side effects are those of the originals. They are Go functions made for
// each runtime (a runtime is its own realm: its built-ins are its own objects), which is what
// keeps a fresh runtime per execution affordable: see BenchmarkNewRuntime.
func installLimits(vm *goja.Runtime) {
	l := &limiter{vm: vm}
	l.strings()
	l.arrays()
	l.buffers()
	l.json()
}

// limiter installs the wrappers of one runtime.
type limiter struct {
	vm *goja.Runtime
}

// rangeError throws new RangeError(msg), as the engine's own limits do.
func (l *limiter) rangeError(msg string) {
	vm := l.vm
	if ctor, ok := goja.AssertConstructor(vm.Get("RangeError")); ok {
		if e, err := ctor(nil, vm.ToValue(msg)); err == nil {
			panic(e)
		}
	}
	panic(vm.NewTypeError(msg)) // RangeError was replaced by something that is no constructor
}

func (l *limiter) strTooLong() { l.rangeError("Invalid string length") }
func (l *limiter) arrTooLong() { l.rangeError("Invalid array length") }

// count is ToLength, roughly: a non-negative integer, 0 for what is not a positive number.
func count(v goja.Value) float64 {
	n := math.Floor(v.ToFloat())
	if n > 0 {
		return n
	}
	return 0
}

// lengthOf is the length property of an array or array-like, 0 for undefined and null.
func (l *limiter) lengthOf(v goja.Value) float64 {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	// An object without a length (an ArrayBuffer given to a typed-array constructor, which
	// allocates nothing new) has none to check.
	n := v.ToObject(l.vm).Get("length")
	if n == nil {
		return 0
	}
	return count(n)
}

// arrCheck refuses an array or array-like over MaxArrayLength elements.
func (l *limiter) arrCheck(v goja.Value) {
	if l.lengthOf(v) > MaxArrayLength {
		l.arrTooLong()
	}
}

// call calls a built-in from a wrapper; what it throws goes on to the caller.
func call(f goja.Callable, this goja.Value, args []goja.Value) goja.Value {
	v, err := f(this, args...)
	if err != nil {
		panic(err)
	}
	return v
}

// method makes a native function with the given name and length.
func (l *limiter) method(name string, length goja.Value, f func(goja.FunctionCall) goja.Value) *goja.Object {
	fn := l.vm.ToValue(f).(*goja.Object)
	_ = fn.DefineDataProperty("length", length, goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = fn.DefineDataProperty("name", l.vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return fn
}

// wrap replaces the method obj[name] by a function that runs check(this, args) first, and
// returns it (nil if obj has no such method). Built-in methods are writable, configurable and
// not enumerable; so is the wrapper.
func (l *limiter) wrap(obj *goja.Object, name string, check func(this goja.Value, args []goja.Value)) *goja.Object {
	v := obj.Get(name)
	orig, ok := goja.AssertFunction(v)
	if !ok {
		return nil
	}
	fn := l.method(name, v.(*goja.Object).Get("length"), func(c goja.FunctionCall) goja.Value {
		check(c.This, c.Arguments)
		return call(orig, c.This, c.Arguments)
	})
	_ = obj.DefineDataProperty(name, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return fn
}

// object is the global namespace or constructor name (the runtime is new: these are the
// built-ins).
func (l *limiter) object(name string) *goja.Object {
	o, _ := l.vm.Get(name).(*goja.Object)
	return o
}

// defined reports whether v is a value other than undefined.
func defined(v goja.Value) bool { return v != nil && !goja.IsUndefined(v) }

// arg is args[i], undefined past the end.
func arg(args []goja.Value, i int) goja.Value {
	if i < len(args) {
		return args[i]
	}
	return goja.Undefined()
}

// str is String(this) for the size checks of String.prototype methods; ok is false for
// undefined and null, on which the built-in throws its own TypeError.
func str(this goja.Value) (s goja.String, ok bool) {
	if this == nil || goja.IsUndefined(this) || goja.IsNull(this) {
		return nil, false
	}
	return toStr(this), true
}

// toStr is ToString(v) as a string value (goja's ToString leaves numbers and booleans as they
// are); an object's toString runs once.
func toStr(v goja.Value) goja.String {
	p := v.ToString()
	if s, ok := p.(goja.String); ok {
		return s
	}
	return goja.StringFromUTF16(utf16.Encode([]rune(p.String())))
}

func strLen(v goja.Value) float64 { return float64(toStr(v).Length()) }

// strings bounds what String.prototype's builders make.
func (l *limiter) strings() {
	S := l.object("String").Get("prototype").(*goja.Object)
	check := func(size func(s goja.String, args []goja.Value) float64) func(goja.Value, []goja.Value) {
		return func(this goja.Value, args []goja.Value) {
			if s, ok := str(this); ok && size(s, args) > MaxStringLength {
				l.strTooLong()
			}
		}
	}
	l.wrap(S, "repeat", check(func(s goja.String, a []goja.Value) float64 {
		return float64(s.Length()) * arg(a, 0).ToFloat()
	}))
	pad := check(func(_ goja.String, a []goja.Value) float64 { return arg(a, 0).ToFloat() })
	l.wrap(S, "padStart", pad)
	l.wrap(S, "padEnd", pad)
	l.wrap(S, "concat", check(func(s goja.String, a []goja.Value) float64 {
		n := float64(s.Length())
		for _, x := range a {
			n += strLen(x)
		}
		return n
	}))
	// The output of replace is bounded by the input, plus the replacement once per match
	// (every position, for a global pattern), plus what its $ patterns copy: at most the whole
	// input each (the prefix and suffix patterns copy up to all of it).
	replaceSize := func(all bool) func(goja.String, []goja.Value) float64 {
		return func(s goja.String, a []goja.Value) float64 {
			if _, fn := goja.AssertFunction(arg(a, 1)); fn {
				return 0
			}
			r := toStr(arg(a, 1))
			global := all
			if p, ok := arg(a, 0).(*goja.Object); ok && !global {
				// What RegExp.prototype[Symbol.replace] reads to decide.
				global = strings.ContainsRune(p.Get("flags").String(), 'g')
			}
			n := float64(s.Length())
			matches := 1.0
			if global {
				matches = n + 1
			}
			refs := float64(strings.Count(r.String(), "$"))
			return n + matches*(float64(r.Length())+refs*n)
		}
	}
	l.wrap(S, "replace", check(replaceSize(false)))
	l.wrap(S, "replaceAll", check(replaceSize(true)))
}

// arrays bounds the Array built-ins: every method refuses an array (or array-like this) over
// MaxArrayLength elements, since each may loop over the whole length in Go, holes included;
// push, pop and at touch one element.
func (l *limiter) arrays() {
	vm := l.vm
	Array := l.object("Array")
	A := Array.Get("prototype").(*goja.Object)
	check := func(this goja.Value, _ []goja.Value) { l.arrCheck(this) }
	for _, name := range A.GetOwnPropertyNames() {
		switch name {
		case "constructor", "length", "push", "pop", "at", "join", "concat":
			continue
		}
		fn := l.wrap(A, name, check)
		if name == "values" && fn != nil {
			_ = A.DefineDataPropertySymbol(goja.SymIterator, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		}
	}
	// concat spreads the arrays among its arguments (and whatever is marked
	// Symbol.isConcatSpreadable) and adds the rest as one element each.
	l.wrap(A, "concat", func(this goja.Value, args []goja.Value) {
		l.arrCheck(this)
		n := l.lengthOf(this)
		for _, x := range args {
			n++
			if o, ok := x.(*goja.Object); ok {
				spread := o.GetSymbol(goja.SymIsConcatSpreadable)
				if goja.IsUndefined(spread) && o.ClassName() == "Array" || spread != nil && spread.ToBoolean() {
					n += l.lengthOf(o) - 1
				}
			}
		}
		if n > MaxArrayLength {
			l.arrTooLong()
		}
	})
	// join counts what it builds: the parts are made into strings here, once each and in
	// order, as join would, and the built-in joins them.
	join, _ := goja.AssertFunction(A.Get("join"))
	_ = A.DefineDataProperty("join", l.method("join", vm.ToValue(1), func(c goja.FunctionCall) goja.Value {
		l.arrCheck(c.This)
		n := int(l.lengthOf(c.This))
		sep := goja.Value(vm.ToValue(","))
		if s := c.Argument(0); !goja.IsUndefined(s) {
			sep = toStr(s)
		}
		sepLen := strLen(sep)
		o := c.This.ToObject(vm)
		parts := make([]any, n)
		total := 0.0
		for i := range n {
			v := o.Get(strconv.Itoa(i))
			p := goja.Value(vm.ToValue(""))
			if v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
				p = toStr(v)
			}
			if total += strLen(p) + sepLen; total > MaxStringLength {
				l.strTooLong()
			}
			parts[i] = p
		}
		return call(join, vm.NewArray(parts...), []goja.Value{sep})
	}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	l.wrap(Array, "from", func(_ goja.Value, args []goja.Value) {
		items := arg(args, 0)
		if goja.IsUndefined(items) || goja.IsNull(items) {
			return
		}
		if _, isStr := items.(goja.String); isStr {
			return
		}
		if _, iterable := goja.AssertFunction(items.ToObject(vm).GetSymbol(goja.SymIterator)); !iterable {
			l.arrCheck(items)
		}
	})
	argsCheck := func(i int) func(goja.Value, []goja.Value) {
		return func(_ goja.Value, args []goja.Value) {
			if o, ok := arg(args, i).(*goja.Object); ok {
				l.arrCheck(o)
			}
		}
	}
	l.wrap(l.object("Function").Get("prototype").(*goja.Object), "apply", argsCheck(1))
	Reflect := l.object("Reflect")
	l.wrap(Reflect, "apply", argsCheck(2))
	l.wrap(Reflect, "construct", argsCheck(1))
}

// buffers puts a size check in front of the ArrayBuffer and typed-array constructors. The
// replacement shares the original's prototype and statics, so instanceof, constructor, from,
// of and subclassing behave as before.
func (l *limiter) buffers() {
	vm := l.vm
	type original struct {
		C         *goja.Object
		construct goja.Constructor
		// per is BYTES_PER_ELEMENT; 0 for ArrayBuffer, whose argument is a byte count.
		per float64
	}
	var (
		names = make([]any, 0, len(bufferNames))
		origs = make([]original, 0, len(bufferNames))
	)
	for _, name := range bufferNames {
		C := l.object(name)
		if construct, ok := goja.AssertConstructor(C); ok {
			o := original{C: C, construct: construct}
			if per := C.Get("BYTES_PER_ELEMENT"); defined(per) {
				o.per = per.ToFloat()
			}
			names, origs = append(names, name), append(origs, o)
		}
	}
	W := make([]*goja.Object, len(origs))
	build := func(c goja.FunctionCall) goja.Value {
		o := origs[c.Argument(0).ToInteger()]
		newTarget := c.Argument(1).(*goja.Object)
		a := c.Argument(2).(*goja.Object) // the wrapper's own rest array: no getters, no holes
		args := make([]goja.Value, a.Get("length").ToInteger())
		for i := range args {
			args[i] = a.Get(strconv.Itoa(i))
		}
		size := count(arg(args, 0))
		switch x, isObj := arg(args, 0).(*goja.Object); {
		case o.per == 0:
		case isObj:
			size = l.lengthOf(x) * o.per
		default:
			size *= o.per
		}
		if size > MaxBufferBytes {
			l.rangeError("Array buffer allocation failed")
		}
		if newTarget == W[c.Argument(0).ToInteger()] {
			newTarget = o.C
		}
		obj, err := o.construct(newTarget, args...)
		if err != nil {
			panic(err)
		}
		return obj
	}
	factory, err := vm.RunProgram(bufferCtors())
	if err != nil {
		panic(err)
	}
	mk, _ := goja.AssertFunction(factory)
	made := call(mk, goja.Undefined(), []goja.Value{vm.NewArray(names...), vm.ToValue(build)}).(*goja.Object)
	for i, o := range origs {
		W[i] = made.Get(strconv.Itoa(i)).(*goja.Object)
		l.replaceCtor(names[i].(string), o.C, W[i])
	}
}

// replaceCtor puts W in the place of the global constructor C, with C's prototype and statics:
// length and name (read-only, configurable), BYTES_PER_ELEMENT (fixed), the methods (writable,
// configurable) and the species getter, as the spec defines them.
func (l *limiter) replaceCtor(name string, C, W *goja.Object) {
	vm := l.vm
	for _, k := range C.GetOwnPropertyNames() {
		v := C.Get(k)
		switch k {
		case "prototype", "BYTES_PER_ELEMENT":
			_ = W.DefineDataProperty(k, v, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		case "length", "name":
			_ = W.DefineDataProperty(k, v, goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		default:
			_ = W.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		}
	}
	_ = W.SetPrototype(C.Prototype())
	if defined(C.GetSymbol(goja.SymSpecies)) && !defined(W.GetSymbol(goja.SymSpecies)) {
		// C's own (ArrayBuffer's): the typed arrays inherit theirs from %TypedArray%.
		species := l.method("get [Symbol.species]", vm.ToValue(0), func(c goja.FunctionCall) goja.Value { return c.This })
		_ = W.DefineAccessorPropertySymbol(goja.SymSpecies, species, nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	_ = C.Get("prototype").(*goja.Object).DefineDataProperty("constructor", W, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = vm.GlobalObject().DefineDataProperty(name, W, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// json makes JSON.stringify count what it writes, through a replacer that wraps the code's own.
func (l *limiter) json() {
	vm := l.vm
	JSON := l.object("JSON")
	stringify, _ := goja.AssertFunction(JSON.Get("stringify"))
	_ = JSON.DefineDataProperty("stringify", l.method("stringify", vm.ToValue(3), func(c goja.FunctionCall) goja.Value {
		value, replacer, space := c.Argument(0), c.Argument(1), c.Argument(2)
		if o, ok := replacer.(*goja.Object); ok && o.ClassName() == "Array" {
			return call(stringify, JSON, []goja.Value{value, replacer, space})
		}
		gap := 0.0
		switch s := space.(type) {
		case goja.String:
			gap = min(10, float64(s.Length()))
		case *goja.Object:
		default:
			if k := s.ExportType(); k != nil && (k.Kind() == reflect.Int64 || k.Kind() == reflect.Float64) {
				gap = min(10, count(s))
			}
		}
		user, userFn := goja.AssertFunction(replacer)
		total := 0.0
		counting := vm.ToValue(func(rc goja.FunctionCall) goja.Value {
			k, v := rc.Argument(0), rc.Argument(1)
			if userFn {
				v = call(user, rc.This, []goja.Value{k, v})
			}
			total += strLen(k) + 8 + gap
			if s, ok := v.(goja.String); ok {
				total += float64(s.Length())
			}
			if total > MaxStringLength {
				l.strTooLong()
			}
			return v
		})
		return call(stringify, JSON, []goja.Value{value, counting, space})
	}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// Package hooks runs Auth0 Rules and post-login Actions, written in JavaScript, unchanged, and
// the Actions of the credentials-exchange trigger (client credentials; Flow.CredentialsExchange).
//
// It is a leaf: it imports nothing of ours. The caller (oauthserver) converts its exchange into
// an Event, asks a Runner for the Outcome and applies it; this package knows nothing about HTTP,
// tokens or the store.
//
// The JavaScript engine is goja (ECMAScript 5.1 plus most of ES2015+, async/await included).
// Programs are compiled once per distinct source (the cache is keyed by its SHA-256); each
// execution runs in a fresh runtime, its own realm, which ends with it, so no global,
// prototype property or replaced built-in outlives the execution that made it. Promise jobs are drained by goja when control
// returns to Go, so async/await and Promise chains work; there are no timers (setTimeout is
// absent), so an action that waits on a timer or on something that never settles fails.
//
// Sandbox: a runtime has no file system or process access (goja offers none, and require of
// any module throws). Every execution has a deadline (Options.Timeout, default 5 s) enforced
// with Runtime.Interrupt, so an infinite loop ends with ErrTimeout, and the call stack is
// capped (Options.MaxCallStackSize).
//
// Memory: goja cannot account for a runtime's allocations, so a memory guard (memguard.go)
// watches the process heap through runtime/metrics while executions run and interrupts, with
// ErrMemoryLimit, every execution during which the live heap grew by more than
// Options.MemoryLimit (default 64 MiB). The runtime is dropped with the execution, so what
// the code built is freed. goja checks for interrupts only between JavaScript instructions, so
// the built-ins that could allocate or loop without bound inside one Go call (Array methods on
// huge lengths, join, concat, replace, JSON.stringify, apply, typed arrays and ArrayBuffer) are
// replaced, in every new runtime, by wrappers that throw RangeError past MaxArrayLength
// elements, MaxStringLength characters or MaxBufferBytes (limits.go). The wrappers are Go
// functions installed from Go (only the typed-array constructors are small JavaScript functions,
// made by one call of a program compiled once), which keeps a fresh runtime per execution at
// about a third of what a JavaScript prelude cost; most of what remains is goja building the
// built-ins the wrappers replace (docs/performance.md). Not covered: CPU spent inside one
// built-in (a regular expression that backtracks catastrophically runs past the deadline), and a
// getter that answers small to the check and large to the built-in. Actions remain trusted,
// administrator-written code, as they are at Auth0; the guards are against mistakes.
//
// Network: the global fetch(url, {method, headers, body}) returns a Promise of a Response-like
// object (ok, status, statusText, url, redirected, headers.get/has, text(), json()). This
// package imports no net/http: the caller gives the engine a Fetcher (Options.Fetch), which
// owns the allowlist of hosts, redirects, the body cap (MaxFetchBody) and honours the
// execution's context, cancelled at the deadline or by the memory guard. Without one, or for a
// host the Fetcher refuses, fetch rejects with a TypeError. The request runs synchronously on
// the VM's goroutine (see fetchFn for why).
//
// Custom-database scripts (dbscript.go, dbmodules.go: Auth0's login, get_user, create...) run
// on the same engine and sandbox, with what Auth0's custom-database sandbox adds: the
// configuration global, the error classes, Buffer, and require of bcrypt, crypto, pg, request
// and axios. Their I/O goes through what the caller gives: the Fetcher for HTTP, an SQL for
// pg (hooks itself still has no network).
//
// Errors are typed: *DeniedError (api.access.deny), *UnauthorizedError (a Rule's
// callback(new UnauthorizedError(…))), *RedirectError (any redirect: this flow cannot
// redirect), *RefreshRevokedError (api.refreshToken.revoke) and *ExecutionError (an exception,
// a timeout, the memory limit, a missing export). Compile failures at configuration time are *CompileError with
// the line and column.
package hooks

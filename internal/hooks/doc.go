// Package hooks runs Auth0 Rules and post-login Actions, written in JavaScript, unchanged.
//
// It is a leaf: it imports nothing of ours. The caller (oauthserver) converts its exchange into
// an Event, asks a Runner for the Outcome and applies it; this package knows nothing about HTTP,
// tokens or the store.
//
// The JavaScript engine is goja (ECMAScript 5.1 plus most of ES2015+, async/await included).
// Programs are compiled once per distinct source (the cache is keyed by its SHA-256) and run
// on pooled runtimes. Promise jobs are drained by goja when control returns to Go, so
// async/await and Promise chains work; there are no timers (setTimeout is absent), so an
// action that waits on a timer or on something that never settles fails.
//
// Sandbox: a runtime has no file system, process or network access (goja offers none, and
// require of any module throws). Every execution has a deadline (Options.Timeout, default
// 5 s) enforced with Runtime.Interrupt, so an infinite loop ends with ErrTimeout; the call
// stack is capped (Options.MaxCallStackSize); String.prototype.repeat, padStart and padEnd
// refuse results over MaxStringLength. goja cannot cap a runtime's heap, so code that builds
// large values by other means is bounded only by the deadline: Actions are trusted,
// administrator-written code, as they are at Auth0.
//
// Errors are typed: *DeniedError (api.access.deny), *UnauthorizedError (a Rule's
// callback(new UnauthorizedError(…))), *RedirectError (any redirect: this flow cannot
// redirect), *RefreshRevokedError (api.refreshToken.revoke) and *ExecutionError (an exception,
// a timeout, a missing export). Compile failures at configuration time are *CompileError with
// the line and column.
package hooks

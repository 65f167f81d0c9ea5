package hooks

import (
	"context"
	"testing"

	"github.com/dop251/goja"
)

// BenchmarkGuardPerExecution is what the memory guard and the fetch context add to every
// execution: registering with the watchdog (one runtime/metrics read) and a cancellable
// context. Compare with BenchmarkTypicalAction.
func BenchmarkGuardPerExecution(b *testing.B) {
	g := newMemGuard(0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ectx, cancel := context.WithCancelCause(ctx)
		w := g.start(func() { cancel(ErrMemoryLimit) })
		g.end(w)
		cancel(nil)
		_ = ectx
	}
}

// BenchmarkNewRuntime is the cost of a fresh runtime (prelude and size limits included), which
// every execution pays: part of BenchmarkTypicalAction. Compare with BenchmarkBareRuntime.
func BenchmarkNewRuntime(b *testing.B) {
	e := NewEngine(Options{})
	b.ReportAllocs()
	for b.Loop() {
		_ = e.newRuntime()
	}
}

// BenchmarkBareRuntime is goja.New() alone, the floor under BenchmarkNewRuntime: run both
// together, the machine's load moves them alike.
func BenchmarkBareRuntime(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = goja.New()
	}
}

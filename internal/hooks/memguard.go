package hooks

import (
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// DefaultMemoryLimit is Options.MemoryLimit's default: how much the process's live heap may
// grow while one execution runs.
const DefaultMemoryLimit = 64 << 20

// ErrMemoryLimit is the cause of an ExecutionError when the memory guard interrupted the code.
var ErrMemoryLimit = errors.New("hooks: memory limit exceeded")

const (
	// memTick is how often the watchdog samples the heap while executions run. A runaway goja
	// loop allocates a few hundred MB/s at most, so it gets a few MiB past the budget between
	// samples.
	memTick = 10 * time.Millisecond
	// forcedGCEvery bounds how often the watchdog forces a collection to learn whether heap
	// growth is live (see memGuard).
	forcedGCEvery = 100 * time.Millisecond
	// memIdleTicks is how long the watchdog outlives the last execution, so that back-to-back
	// logins do not start a goroutine each.
	memIdleTicks = 100
)

// memGuard is the memory guard of an Engine. goja cannot account for a runtime's allocations
// (its maintainers leave that to the Go runtime), so the guard watches the process:
//
//   - Each execution records the live heap (/gc/heap/live:bytes, what the last GC marked) when
//     it starts. While any execution runs, a watchdog goroutine samples runtime/metrics every
//     memTick (a lock-free read of a few counters: no stop-the-world, unlike ReadMemStats).
//   - An execution is over budget when a GC completed after it started has marked more than
//     limit bytes of live heap beyond its baseline. Live heap, not allocated bytes, so that
//     garbage (its own, or other logins') never counts: an action may churn through any amount
//     of short-lived data.
//   - The GC marks the heap each time it doubles (GOGC=100), so a runaway is caught by the
//     collections its own growth triggers. When the heap (live and dead objects) has grown past
//     some execution's baseline by twice the limit and no collection has completed for
//     forcedGCEvery — a live heap larger than that, or GOGC=off — the watchdog forces one, so
//     detection never waits on a heap goal far above the budget. On a server whose live heap
//     is under twice the limit this never happens (the GC's own pacing comes first); above, it
//     costs at most ten collections a second, only while executions run.
//
// Attribution: the heap is the process's, so every execution that was running while it grew
// sees the growth. The watchdog interrupts every execution over budget, not only the one that
// allocated: a login that happened to overlap a runaway for its whole growth may fail with it,
// but the runaway never survives and the rest of the server keeps working. Every runtime is
// dropped when its execution ends, so their memory is freed by the next collection.
type memGuard struct {
	limit uint64

	mu      sync.Mutex
	running map[*memWatch]struct{}
	// watching says the watchdog goroutine is alive.
	watching bool
	// live is a one-sample buffer for baselines, used under mu.
	live [1]metrics.Sample
}

// memWatch is one running execution as the guard sees it.
type memWatch struct {
	base uint64
	// stop interrupts the execution (set to nil once it ended, so that the guard keeps no
	// reference to a runtime it must let go).
	stop func()
	// killed says the guard interrupted it.
	killed bool
}

func newMemGuard(limit int64) *memGuard {
	if limit < 0 {
		return nil
	}
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	g := &memGuard{limit: uint64(limit), running: map[*memWatch]struct{}{}}
	g.live[0].Name = "/gc/heap/live:bytes"
	return g
}

// start registers an execution; stop interrupts it. A nil guard (disabled) returns nil.
func (g *memGuard) start(stop func()) *memWatch {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	metrics.Read(g.live[:])
	w := &memWatch{base: g.live[0].Value.Uint64(), stop: stop}
	g.running[w] = struct{}{}
	if !g.watching {
		g.watching = true
		go g.watch()
	}
	return w
}

// end unregisters an execution and reports whether the guard interrupted it. After end the
// guard no longer touches the execution's runtime.
func (g *memGuard) end(w *memWatch) (killed bool) {
	if w == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.running, w)
	w.stop = nil
	return w.killed
}

// watch is the watchdog loop; it exits after memIdleTicks without executions.
func (g *memGuard) watch() {
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	tick := time.NewTicker(memTick)
	defer tick.Stop()
	var cycles uint64
	lastGC := time.Now()
	idle := 0
	for range tick.C {
		metrics.Read(samples)
		live, heap, n := samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()
		if n != cycles {
			cycles, lastGC = n, time.Now()
		}
		g.mu.Lock()
		if len(g.running) == 0 {
			if idle++; idle >= memIdleTicks {
				g.watching = false
				g.mu.Unlock()
				return
			}
			g.mu.Unlock()
			continue
		}
		idle = 0
		suspect := false
		for w := range g.running {
			switch {
			case w.killed:
			case live > w.base && live-w.base > g.limit:
				w.killed = true
				w.stop()
			case heap > w.base && heap-w.base > 2*g.limit:
				suspect = true
			}
		}
		g.mu.Unlock()
		if suspect && time.Since(lastGC) >= forcedGCEvery {
			// Blocks this goroutine only, until a full cycle has marked the heap; the next
			// sample then has a fresh live figure.
			runtime.GC()
			lastGC = time.Now()
		}
	}
}

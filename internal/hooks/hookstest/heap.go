// Package hookstest holds what the sandbox tests of package hooks and of the token endpoint
// share. It is imported by tests only.
package hookstest

import (
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// heapObjects is the runtime metric of the heap's live and unswept objects: what a runaway
// script grows, without the free spans the runtime keeps.
const heapObjects = "/memory/classes/heap/objects:bytes"

// HeapNow returns the heap's objects in bytes.
func HeapNow() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// HeapPeak samples the heap every millisecond until stop is called, and stop returns the
// largest value seen.
func HeapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if v := HeapNow(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

package sqlstore

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the store's work since it opened, for metrics: connection pools,
// write transactions and (SQLite) group-commit batch sizes. Histograms are cumulative counts
// per upper bound, Prometheus style, so that a collector can hand them on unchanged.
type Stats struct {
	// Dialect is "sqlite" or "postgres".
	Dialect string
	// Write is the writer pool (one connection on SQLite; the whole pool on PostgreSQL), Read
	// the read-only pool (the same pool as Write on PostgreSQL).
	Write, Read sql.DBStats
	// WriteTx is the duration of write transactions in seconds, from the call to the commit
	// (waiting for a group included).
	WriteTx Histogram
	// GroupSize is how many write transactions each group commit held (SQLite only).
	GroupSize Histogram
}

// Histogram is a cumulative histogram: Buckets[i] observations were <= Bounds[i].
type Histogram struct {
	Count   uint64
	Sum     float64
	Bounds  []float64
	Buckets []uint64
}

// Stats reports the store's pool and transaction figures.
func (s *Store) Stats() Stats {
	st := Stats{Dialect: s.d.name, Write: s.write.db.Stats(), Read: s.read.db.Stats(),
		WriteTx: s.stats.writeTx.snapshot(), GroupSize: s.stats.groupSize.snapshot()}
	return st
}

// storeStats counts what Stats reports. Its methods are safe for concurrent use.
type storeStats struct {
	writeTx   atomicHistogram
	groupSize atomicHistogram
}

func newStoreStats() *storeStats {
	return &storeStats{
		writeTx:   newAtomicHistogram(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
		groupSize: newAtomicHistogram(1, 2, 4, 8, 16, 32, 64),
	}
}

// atomicHistogram is a fixed-bucket histogram updated without locks: a store must not pay a
// mutex per transaction for its metrics. Counts are per bucket here, made cumulative on read.
type atomicHistogram struct {
	bounds   []float64
	counts   []atomic.Uint64 // len(bounds)+1: the last is +Inf
	count    atomic.Uint64
	sumMicro atomic.Uint64 // sum in micro-units, so that it adds atomically
}

func newAtomicHistogram(bounds ...float64) atomicHistogram {
	return atomicHistogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *atomicHistogram) observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.count.Add(1)
	h.sumMicro.Add(uint64(v * 1e6))
}

func (h *atomicHistogram) snapshot() Histogram {
	out := Histogram{Bounds: h.bounds, Buckets: make([]uint64, len(h.bounds))}
	var cum uint64
	for i := range h.bounds {
		cum += h.counts[i].Load()
		out.Buckets[i] = cum
	}
	out.Count = h.count.Load()
	out.Sum = float64(h.sumMicro.Load()) / 1e6
	return out
}

// timedTx runs a write transaction through run and records its duration.
func (s *Store) timedTx(ctx context.Context, fn func(q querier) error, run func(context.Context, func(q querier) error) error) error {
	start := time.Now()
	err := run(ctx, fn)
	s.stats.writeTx.observe(time.Since(start).Seconds())
	return err
}

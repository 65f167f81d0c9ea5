package metrics

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// The descriptions of what sourceCollector reports.
var (
	hashInUse    = desc("sesame_password_hash_in_use", "Password hash or verify operations running now.")
	hashCapacity = desc("sesame_password_hash_capacity", "Password hash operations that may run at once (the pool size).")
	hashQueued   = desc("sesame_password_hash_queued", "Password hash operations waiting for a slot now.")
	hashShed     = desc("sesame_password_hash_shed_total", "Password hash operations turned away because no slot freed before the request's deadline.")

	dbOpen     = desc("sesame_db_connections_open", "Open database connections, by pool (write, read) and state (in_use, idle).", "pool", "state")
	dbMaxOpen  = desc("sesame_db_connections_max", "The pool's connection limit (0: none).", "pool")
	dbWaits    = desc("sesame_db_connection_waits_total", "Times a query waited for a free connection.", "pool")
	dbWaitSecs = desc("sesame_db_connection_wait_seconds_total", "Time spent waiting for a free connection.", "pool")
	dbWriteTx  = desc("sesame_store_write_transaction_duration_seconds", "Write transactions, from the call to the commit (a group commit's wait included).", "dialect")
	dbGroup    = desc("sesame_store_group_commit_size", "Write transactions per SQLite group commit.")

	logQueued  = desc("sesame_tenant_log_queue_depth", "Tenant log events waiting, by destination (store, stream).", "queue")
	logDropped = desc("sesame_tenant_log_dropped_total", "Tenant log events lost to a full queue or a failed stream delivery, by destination.", "queue")

	keyAge = desc("sesame_signing_key_age_seconds", "Age of the current signing key per algorithm, since it became current.", "alg")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// sourceCollector reads Sources when scraped, so that the hot paths only bump the counters
// they already keep.
type sourceCollector struct{ src Sources }

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{hashInUse, hashCapacity, hashQueued, hashShed, dbOpen, dbMaxOpen,
		dbWaits, dbWaitSecs, dbWriteTx, dbGroup, logQueued, logDropped, keyAge} {
		ch <- d
	}
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if c.src.Hasher != nil {
		st := c.src.Hasher()
		gauge(hashInUse, float64(st.InUse))
		gauge(hashCapacity, float64(st.Capacity))
		gauge(hashQueued, float64(st.Waiting))
		counter(hashShed, float64(st.Shed))
	}
	if c.src.Store != nil {
		st := c.src.Store()
		pools := []struct {
			name string
			s    sql.DBStats
		}{{"write", st.Write}}
		if st.Dialect == "sqlite" { // PostgreSQL reads and writes share one pool
			pools = append(pools, struct {
				name string
				s    sql.DBStats
			}{"read", st.Read})
		}
		for _, p := range pools {
			gauge(dbOpen, float64(p.s.InUse), p.name, "in_use")
			gauge(dbOpen, float64(p.s.Idle), p.name, "idle")
			gauge(dbMaxOpen, float64(p.s.MaxOpenConnections), p.name)
			counter(dbWaits, float64(p.s.WaitCount), p.name)
			counter(dbWaitSecs, p.s.WaitDuration.Seconds(), p.name)
		}
		ch <- constHistogram(dbWriteTx, st.WriteTx, st.Dialect)
		if st.Dialect == "sqlite" {
			ch <- constHistogram(dbGroup, st.GroupSize)
		}
	}
	for name, q := range map[string]Queue{"store": c.src.LogQueue, "stream": c.src.StreamQueue} {
		if q == nil {
			continue
		}
		gauge(logQueued, float64(q.Queued()), name)
		counter(logDropped, float64(q.Dropped()), name)
	}
	if c.src.Keys != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		keys, err := c.src.Keys(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(keyAge, err)
			return
		}
		now := c.src.Now()
		for _, k := range keys {
			if k.State != store.KeyCurrent {
				continue
			}
			since := k.ActivatedAt
			if since.IsZero() {
				since = k.CreatedAt
			}
			gauge(keyAge, now.Sub(since).Seconds(), k.Alg)
		}
	}
}

func constHistogram(d *prometheus.Desc, h sqlstore.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Buckets[i]
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, labels...)
}

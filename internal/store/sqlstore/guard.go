package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sesameauth/sesame/internal/store"
)

// recordFailure increments a counter in one statement; an expired counter restarts at 1.
// RETURNING gives the count this very increment produced, so concurrent failures each see a
// distinct count (SQLite ≥ 3.35 and PostgreSQL both take the row lock for the upsert).
const recordFailure = `INSERT INTO guard_counters (counter_key, hits, expires_at) VALUES (?, 1, ?)
ON CONFLICT (counter_key) DO UPDATE SET
  hits = CASE WHEN guard_counters.expires_at <= ? THEN 1 ELSE guard_counters.hits + 1 END,
  expires_at = excluded.expires_at
RETURNING hits`

// RecordFailure adds one to the counter key and returns the new count.
func (s *Store) RecordFailure(ctx context.Context, key string, now time.Time, expiry time.Duration) (int, error) {
	var n int
	if err := s.write.QueryRowContext(ctx, s.q(recordFailure), key, now.Add(expiry).UnixNano(), now.UnixNano()).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: recording failure: %w", unavailable(err))
	}
	// Purge expired counters and full buckets now and then, off the caller's error path.
	if rand.N(256) == 0 {
		_, _ = s.write.ExecContext(ctx, s.q(`DELETE FROM guard_counters WHERE expires_at <= ?`), now.UnixNano())
		_, _ = s.write.ExecContext(ctx, s.q(`DELETE FROM guard_buckets WHERE tat <= ?`), now.UnixNano())
	}
	return n, nil
}

// GetCounter returns the count of key at now, 0 when absent or expired.
func (s *Store) GetCounter(ctx context.Context, key string, now time.Time) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, s.q(`SELECT hits FROM guard_counters WHERE counter_key = ? AND expires_at > ?`),
		key, now.UnixNano()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: reading counter: %w", unavailable(err))
	}
	return n, nil
}

// DecrementCounter takes one from the counter key when it is above zero.
func (s *Store) DecrementCounter(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, s.q(`UPDATE guard_counters SET hits = hits - 1 WHERE counter_key = ? AND hits > 0`), key); err != nil {
		return fmt.Errorf("sqlstore: decrementing counter: %w", unavailable(err))
	}
	return nil
}

// ResetCounter deletes the counter key.
func (s *Store) ResetCounter(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, s.q(`DELETE FROM guard_counters WHERE counter_key = ?`), key); err != nil {
		return fmt.Errorf("sqlstore: resetting counter: %w", unavailable(err))
	}
	return nil
}

// ResetCounters deletes the counters whose key starts with prefix. substr compares characters
// in both engines, so no LIKE escaping and no collation order is involved.
func (s *Store) ResetCounters(ctx context.Context, prefix string) (int, error) {
	n, err := affected(s.write.ExecContext(ctx, s.q(`DELETE FROM guard_counters WHERE substr(counter_key, 1, ?) = ?`),
		utf8.RuneCountInString(prefix), prefix))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: resetting counters: %w", unavailable(err))
	}
	return n, nil
}

// ListCounters returns the live counters whose key starts with prefix, matched with substr as
// in ResetCounters. It scans guard_counters rather than the key index (a range on the key
// would depend on PostgreSQL's collation); an admin's look-up can afford that.
func (s *Store) ListCounters(ctx context.Context, prefix string, now time.Time) ([]store.CounterEntry, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT counter_key, hits, expires_at FROM guard_counters
WHERE substr(counter_key, 1, ?) = ? AND expires_at > ? AND hits > 0`),
		utf8.RuneCountInString(prefix), prefix, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing counters: %w", unavailable(err))
	}
	defer rows.Close()
	var out []store.CounterEntry
	for rows.Next() {
		var e store.CounterEntry
		var exp int64
		if err := rows.Scan(&e.Key, &e.Hits, &exp); err != nil {
			return nil, fmt.Errorf("sqlstore: listing counters: %w", unavailable(err))
		}
		e.ExpiresAt = time.Unix(0, exp).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing counters: %w", unavailable(err))
	}
	// Sorted here, not by ORDER BY: counter_key has PostgreSQL's default collation, whose
	// order is not SQLite's byte order.
	slices.SortFunc(out, func(a, b store.CounterEntry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// takeToken is one step of the generic cell rate algorithm: the bucket is its theoretical
// arrival time tat; a take at now is allowed when tat ≤ now + (capacity-1)·interval, and moves
// tat to max(tat, now) + interval. The WHERE makes a refused take change nothing and return no
// row; the upsert's row lock makes concurrent takes serialise on one key.
const takeToken = `INSERT INTO guard_buckets (bucket_key, tat) VALUES (?, ?)
ON CONFLICT (bucket_key) DO UPDATE SET
  tat = CASE WHEN guard_buckets.tat > ? THEN guard_buckets.tat + ? ELSE ? END
WHERE guard_buckets.tat <= ?
RETURNING tat`

// TakeToken takes one token from the bucket key.
func (s *Store) TakeToken(ctx context.Context, key string, capacity int, refillEvery time.Duration, now time.Time) (bool, int, time.Time, error) {
	if capacity < 1 || refillEvery <= 0 {
		return false, 0, time.Time{}, fmt.Errorf("sqlstore: bucket of capacity %d refilling every %v", capacity, refillEvery)
	}
	t, iv := now.UnixNano(), int64(refillEvery)
	limit := t + int64(capacity-1)*iv
	rows, err := s.write.QueryContext(ctx, s.q(takeToken), key, t+iv, t, iv, t+iv, limit)
	if err != nil {
		return false, 0, time.Time{}, fmt.Errorf("sqlstore: taking token: %w", unavailable(err))
	}
	var tat int64
	allowed := rows.Next()
	if allowed {
		err = rows.Scan(&tat)
	}
	err = firstErr(err, rows.Err(), rows.Close())
	if err != nil {
		return false, 0, time.Time{}, fmt.Errorf("sqlstore: taking token: %w", unavailable(err))
	}
	if allowed {
		// Whole tokens left: floor((limit-tat)/iv)+1. limit-tat is at least -iv and Go's
		// division truncates towards zero, so a token partly back would count as left.
		d := limit - tat
		left := d / iv
		if d < 0 && d%iv != 0 {
			left--
		}
		return true, int(left) + 1, time.Unix(0, tat).UTC(), nil
	}
	// Refused: read the bucket as it is to say when one token is back.
	if err := s.write.QueryRowContext(ctx, s.q(`SELECT tat FROM guard_buckets WHERE bucket_key = ?`), key).Scan(&tat); err != nil {
		return false, 0, time.Time{}, fmt.Errorf("sqlstore: reading bucket: %w", unavailable(err))
	}
	return false, 0, time.Unix(0, tat-int64(capacity-1)*iv).UTC(), nil
}

// ReturnToken gives back one token of the bucket key: its arrival time moves back one
// interval. GCRA is additive, so this undoes exactly one take even when other takes came in
// between; a tat at or before now already means a full bucket, so one moved further back
// grants nothing more.
func (s *Store) ReturnToken(ctx context.Context, key string, refillEvery time.Duration) error {
	if refillEvery <= 0 {
		return fmt.Errorf("sqlstore: bucket refilling every %v", refillEvery)
	}
	if _, err := s.write.ExecContext(ctx, s.q(`UPDATE guard_buckets SET tat = tat - ? WHERE bucket_key = ?`), int64(refillEvery), key); err != nil {
		return fmt.Errorf("sqlstore: returning token: %w", unavailable(err))
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// AddBreachedHashes stores SHA-1 hashes, skipping known ones, in one transaction.
func (s *Store) AddBreachedHashes(ctx context.Context, hashes []string) (int, error) {
	n := 0
	err := s.inTx(ctx, func(q querier) error {
		n = 0
		for _, h := range hashes {
			h = strings.ToUpper(h)
			if len(h) != 40 {
				return fmt.Errorf("sqlstore: breached hash %q is not 40 hex digits", h)
			}
			k, err := affected(q.ExecContext(ctx, s.q(`INSERT INTO breached_hashes (prefix, suffix) VALUES (?, ?) ON CONFLICT DO NOTHING`), h[:5], h[5:]))
			if err != nil {
				return fmt.Errorf("sqlstore: storing breached hash: %w", err)
			}
			n += k
		}
		return nil
	})
	return n, err
}

// BreachedSuffixes returns the suffixes stored under prefix, sorted.
func (s *Store) BreachedSuffixes(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT suffix FROM breached_hashes WHERE prefix = ? ORDER BY suffix`), strings.ToUpper(prefix))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading breached hashes: %w", unavailable(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var suf string
		if err := rows.Scan(&suf); err != nil {
			return nil, fmt.Errorf("sqlstore: reading breached hashes: %w", err)
		}
		out = append(out, suf)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading breached hashes: %w", err)
	}
	return out, nil
}

var _ store.Counters = (*Store)(nil)

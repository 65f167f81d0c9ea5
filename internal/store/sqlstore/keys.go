package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// signingKeys relies on the partial unique index signing_keys_one_per_state: at most one
// current and one next key per algorithm, enforced by the database for every node.
var signingKeys = build(&table[store.SigningKey]{
	name: "signing_keys", what: "signing key", key: "kid",
	cols:  []string{"kid", "alg", "state", "private_sealed", "created_at", "activated_at", "publish_until"},
	keyOf: func(k *store.SigningKey) string { return k.KID },
	values: func(_ *encoder, k *store.SigningKey) []any {
		return []any{k.KID, k.Alg, k.State, k.PrivateSealed, timeVal(k.CreatedAt), timeVal(k.ActivatedAt), timeVal(k.PublishUntil)}
	},
	scan: func(k *store.SigningKey) []any {
		return []any{&k.KID, &k.Alg, &k.State, &k.PrivateSealed, timeCol{&k.CreatedAt}, timeCol{&k.ActivatedAt}, timeCol{&k.PublishUntil}}
	},
})

// ListSigningKeys returns every key ordered by CreatedAt (then KID).
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	return listRows(ctx, s, s.read, signingKeys, "ORDER BY created_at, kid")
}

// CreateSigningKey stores a key; ErrConflict when its KID is taken, or when it is current or
// next and its Alg already has a key in that state.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	return insertRow(ctx, s, s.write, signingKeys, &k)
}

// RotateSigningKeys, for alg and in one transaction, retires previous keys whose PublishUntil
// has passed, makes the current key previous (published until publishUntil), promotes the
// next key to current and stores newNext as next. Without a next key to promote it fails with
// ErrNotFound and changes nothing. Concurrent rotations of one alg run one after the other.
func (s *Store) RotateSigningKeys(ctx context.Context, alg string, newNext store.SigningKey, now, publishUntil time.Time) error {
	newNext.Alg, newNext.State = alg, store.KeyNext
	return s.inTx(ctx, func(tx querier) error {
		if s.d.lockKeys != "" {
			if _, err := tx.ExecContext(ctx, s.q(s.d.lockKeys), alg); err != nil {
				return fmt.Errorf("sqlstore: locking %s signing keys: %w", alg, err)
			}
		}
		steps := []struct {
			what  string
			query string
			args  []any
		}{
			{"retiring previous keys", `UPDATE signing_keys SET state = 'retired' WHERE alg = ? AND state = 'previous' AND publish_until <= ?`,
				[]any{alg, now.UnixNano()}},
			{"demoting the current key", `UPDATE signing_keys SET state = 'previous', publish_until = ? WHERE alg = ? AND state = 'current'`,
				[]any{timeVal(publishUntil), alg}},
			{"promoting the next key", `UPDATE signing_keys SET state = 'current', activated_at = ? WHERE alg = ? AND state = 'next'`,
				[]any{timeVal(now), alg}},
		}
		for i, st := range steps {
			n, err := affected(tx.ExecContext(ctx, s.q(st.query), st.args...))
			if err != nil {
				return s.writeErr(st.what, "for alg", alg, err)
			}
			if i == 2 && n == 0 {
				return fmt.Errorf("sqlstore: no next %s key to promote: %w", alg, store.ErrNotFound)
			}
		}
		return insertRow(ctx, s, tx, signingKeys, &newNext)
	})
}

// RevokeSigningKey withdraws a key at once; see store.SigningKeys. The key is read, its alg
// locked and the key read again, so that a rotation or revocation running on another node is
// either wholly before or wholly after this one.
func (s *Store) RevokeSigningKey(ctx context.Context, kid string, newNext *store.SigningKey, now time.Time) (store.SigningKey, error) {
	var before store.SigningKey
	err := s.inTx(ctx, func(tx querier) error {
		k, err := getRow(ctx, s, tx, signingKeys, kid)
		if err != nil {
			return err
		}
		if s.d.lockKeys != "" {
			if _, err := tx.ExecContext(ctx, s.q(s.d.lockKeys), k.Alg); err != nil {
				return fmt.Errorf("sqlstore: locking %s signing keys: %w", k.Alg, err)
			}
			if k, err = getRow(ctx, s, tx, signingKeys, kid); err != nil {
				return err
			}
		}
		before = k
		switch k.State {
		case store.KeyRevoked:
			return fmt.Errorf("sqlstore: signing key %s is already revoked: %w", kid, store.ErrConflict)
		case store.KeyCurrent, store.KeyNext:
			if newNext == nil {
				return fmt.Errorf("sqlstore: revoking the %s %s key needs a new next key: %w", k.State, k.Alg, store.ErrNotFound)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE signing_keys SET state = 'revoked', publish_until = ? WHERE kid = ?`),
			timeVal(now), kid); err != nil {
			return s.writeErr("revoking", "signing key", kid, err)
		}
		if k.State == store.KeyCurrent {
			n, err := affected(tx.ExecContext(ctx, s.q(`UPDATE signing_keys SET state = 'current', activated_at = ? WHERE alg = ? AND state = 'next'`),
				timeVal(now), k.Alg))
			if err != nil {
				return s.writeErr("promoting the next key", "for alg", k.Alg, err)
			}
			if n == 0 {
				return fmt.Errorf("sqlstore: %s is the only %s key, there is no next key to take over: %w", kid, k.Alg, store.ErrNotFound)
			}
		}
		if k.State == store.KeyCurrent || k.State == store.KeyNext {
			next := *newNext
			next.Alg, next.State = k.Alg, store.KeyNext
			return insertRow(ctx, s, tx, signingKeys, &next)
		}
		return nil
	})
	return before, err
}

// useOnce inserts a key, or replaces it only when it has expired: one atomic statement.
const useOnce = `INSERT INTO used_once (use_key, expires_at) VALUES (?, ?)
ON CONFLICT (use_key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_once.expires_at <= ?`

// UseOnce records key until expiresAt; ErrConflict when it was recorded before and has not
// expired. The insert-or-replace-if-expired is one statement, so of concurrent calls exactly
// one succeeds.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt time.Time) error {
	now := time.Now().UnixNano()
	n, err := affected(s.write.ExecContext(ctx, s.q(useOnce),
		key, expiresAt.UnixNano(), now))
	if err != nil {
		return fmt.Errorf("sqlstore: recording single-use key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: single-use key already used: %w", store.ErrConflict)
	}
	// Purge expired entries now and then (about one call in 256), off the caller's error path.
	if rand.N(256) == 0 {
		_, _ = s.write.ExecContext(ctx, s.q(`DELETE FROM used_once WHERE expires_at <= ?`), now)
	}
	return nil
}

// Package tokentest holds an in-memory store.SigningKeys for the token package's tests and for
// packages that need signing keys without a database.
//
// It implements the methods with the semantics store.SigningKeys documents, under one
// mutex; it is a real implementation, not a mock, so tests over it exercise the same rules as
// over sqlstore.
package tokentest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// SigningKeys is an in-memory store.SigningKeys. The zero value is ready to use.
type SigningKeys struct {
	mu   sync.Mutex
	keys []store.SigningKey
	// Lists counts ListSigningKeys calls, so tests can see how often the store is read.
	lists int
}

var _ store.SigningKeys = (*SigningKeys)(nil)

// Lists reports how many times ListSigningKeys was called.
func (s *SigningKeys) Lists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// ListSigningKeys returns every key ordered by CreatedAt.
func (s *SigningKeys) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	out := make([]store.SigningKey, len(s.keys))
	for i, k := range s.keys {
		out[i] = clone(k)
	}
	slices.SortStableFunc(out, func(a, b store.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// CreateSigningKey stores a key; store.ErrConflict when its KID is taken, or when it is current
// or next and its Alg already has a key in that state.
func (s *SigningKeys) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.keys {
		if have.KID == k.KID {
			return fmt.Errorf("signing key %s: %w", k.KID, store.ErrConflict)
		}
		if (k.State == store.KeyCurrent || k.State == store.KeyNext) && have.Alg == k.Alg && have.State == k.State {
			return fmt.Errorf("%s already has a %s key: %w", k.Alg, k.State, store.ErrConflict)
		}
	}
	s.keys = append(s.keys, clone(k))
	return nil
}

// RotateSigningKeys makes, for alg: current → previous (PublishUntil = publishUntil), next →
// current (ActivatedAt = now), newNext → next, and previous past PublishUntil → retired. Without
// a next key to promote it fails with store.ErrNotFound and changes nothing.
func (s *SigningKeys) RotateSigningKeys(ctx context.Context, alg string, newNext store.SigningKey, now, publishUntil time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := -1
	for i, k := range s.keys {
		if k.KID == newNext.KID {
			return fmt.Errorf("signing key %s: %w", newNext.KID, store.ErrConflict)
		}
		if k.Alg == alg && k.State == store.KeyNext {
			next = i
		}
	}
	if next < 0 {
		return fmt.Errorf("no next %s key: %w", alg, store.ErrNotFound)
	}
	for i := range s.keys {
		k := &s.keys[i]
		if k.Alg != alg {
			continue
		}
		switch k.State {
		case store.KeyCurrent:
			k.State, k.PublishUntil = store.KeyPrevious, publishUntil
		case store.KeyPrevious:
			if !now.Before(k.PublishUntil) {
				k.State = store.KeyRetired
			}
		}
	}
	s.keys[next].State, s.keys[next].ActivatedAt = store.KeyCurrent, now
	newNext.Alg, newNext.State = alg, store.KeyNext
	s.keys = append(s.keys, clone(newNext))
	return nil
}

// RevokeSigningKey makes the key revoked (PublishUntil = now); a current key hands over to the
// next key (ActivatedAt = now), and newNext takes a current or next key's place as next. It
// fails with store.ErrNotFound for an unknown kid, a missing newNext or a current key without
// a next key, with store.ErrConflict for a key already revoked or a taken newNext kid, and
// then changes nothing.
func (s *SigningKeys) RevokeSigningKey(ctx context.Context, kid string, newNext *store.SigningKey, now time.Time) (store.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return store.SigningKey{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, next := -1, -1
	for i, k := range s.keys {
		if k.KID == kid {
			at = i
		}
		if newNext != nil && k.KID == newNext.KID {
			return store.SigningKey{}, fmt.Errorf("signing key %s: %w", newNext.KID, store.ErrConflict)
		}
	}
	if at < 0 {
		return store.SigningKey{}, fmt.Errorf("signing key %s: %w", kid, store.ErrNotFound)
	}
	before := clone(s.keys[at])
	for i, k := range s.keys {
		if k.Alg == before.Alg && k.State == store.KeyNext {
			next = i
		}
	}
	replaced := before.State == store.KeyCurrent || before.State == store.KeyNext
	switch {
	case before.State == store.KeyRevoked:
		return before, fmt.Errorf("signing key %s is already revoked: %w", kid, store.ErrConflict)
	case replaced && newNext == nil:
		return before, fmt.Errorf("revoking the %s %s key needs a new next key: %w", before.State, before.Alg, store.ErrNotFound)
	case before.State == store.KeyCurrent && next < 0:
		return before, fmt.Errorf("%s is the only %s key: %w", kid, before.Alg, store.ErrNotFound)
	}
	s.keys[at].State, s.keys[at].PublishUntil = store.KeyRevoked, now
	if before.State == store.KeyCurrent {
		s.keys[next].State, s.keys[next].ActivatedAt = store.KeyCurrent, now
	}
	if replaced {
		n := clone(*newNext)
		n.Alg, n.State = before.Alg, store.KeyNext
		s.keys = append(s.keys, n)
	}
	return before, nil
}

func clone(k store.SigningKey) store.SigningKey {
	k.PrivateSealed = slices.Clone(k.PrivateSealed)
	return k
}

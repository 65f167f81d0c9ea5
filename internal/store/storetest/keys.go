package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func key(kid, alg, state string, created time.Duration) store.SigningKey {
	return store.SigningKey{KID: kid, Alg: alg, State: state, PrivateSealed: []byte("sealed-" + kid), CreatedAt: at(created)}
}

func testSigningKeys(t *testing.T, newStore NewStore) {
	ctx := t.Context
	t.Run("create and list", func(t *testing.T) {
		s := newStore(t)
		cur := key("k2", "RS256", store.KeyCurrent, time.Second)
		cur.ActivatedAt = at(time.Second)
		keys := []store.SigningKey{
			key("k3", "RS256", store.KeyNext, 2*time.Second),
			cur,
			key("k1", "RS256", store.KeyRetired, 0),
			key("k4", "ES256", store.KeyCurrent, 3*time.Second),
		}
		for _, k := range keys {
			must(t, "CreateSigningKey "+k.KID, s.CreateSigningKey(ctx(), k))
		}
		got, err := s.ListSigningKeys(ctx())
		must(t, "ListSigningKeys", err)
		diff(t, "keys in CreatedAt order", got, []store.SigningKey{keys[2], keys[1], keys[0], keys[3]})
	})
	t.Run("create conflicts", func(t *testing.T) {
		tests := []struct {
			name string
			k    store.SigningKey
			want error
		}{
			{"same kid", key("cur", "ES256", store.KeyRetired, 0), store.ErrConflict},
			{"second current of an alg", key("x", "RS256", store.KeyCurrent, 0), store.ErrConflict},
			{"second next of an alg", key("x", "RS256", store.KeyNext, 0), store.ErrConflict},
			{"current of another alg", key("x", "PS256", store.KeyCurrent, 0), nil},
			{"second previous of an alg", key("x", "RS256", store.KeyPrevious, 0), nil},
			{"second retired of an alg", key("x", "RS256", store.KeyRetired, 0), nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				for _, k := range []store.SigningKey{key("cur", "RS256", store.KeyCurrent, 0), key("nxt", "RS256", store.KeyNext, 0),
					key("prev", "RS256", store.KeyPrevious, 0), key("old", "RS256", store.KeyRetired, 0)} {
					must(t, "CreateSigningKey", s.CreateSigningKey(ctx(), k))
				}
				wantErr(t, "CreateSigningKey", s.CreateSigningKey(ctx(), tc.k), tc.want)
			})
		}
	})
	t.Run("rotate", func(t *testing.T) {
		s := newStore(t)
		prevExpired := key("prev-expired", "RS256", store.KeyPrevious, 0)
		prevExpired.PublishUntil = at(time.Hour)
		prevAtNow := key("prev-at-now", "RS256", store.KeyPrevious, time.Second)
		prevAtNow.PublishUntil = at(2 * time.Hour)
		prevLive := key("prev-live", "RS256", store.KeyPrevious, 2*time.Second)
		prevLive.PublishUntil = at(3 * time.Hour)
		cur := key("cur", "RS256", store.KeyCurrent, 3*time.Second)
		cur.ActivatedAt = at(3 * time.Second)
		nxt := key("nxt", "RS256", store.KeyNext, 4*time.Second)
		otherCur := key("es-cur", "ES256", store.KeyCurrent, 5*time.Second)
		otherNext := key("es-next", "ES256", store.KeyNext, 6*time.Second)
		for _, k := range []store.SigningKey{prevExpired, prevAtNow, prevLive, cur, nxt, otherCur, otherNext} {
			must(t, "CreateSigningKey", s.CreateSigningKey(ctx(), k))
		}
		now, until := at(2*time.Hour), at(50*time.Hour)
		newNext := store.SigningKey{KID: "new", PrivateSealed: []byte("sealed-new"), CreatedAt: at(7 * time.Second)}
		must(t, "RotateSigningKeys", s.RotateSigningKeys(ctx(), "RS256", newNext, now, until))

		prevExpired.State, prevAtNow.State = store.KeyRetired, store.KeyRetired
		cur.State, cur.PublishUntil = store.KeyPrevious, until
		nxt.State, nxt.ActivatedAt = store.KeyCurrent, now
		newNext.Alg, newNext.State = "RS256", store.KeyNext
		got, err := s.ListSigningKeys(ctx())
		must(t, "ListSigningKeys", err)
		diff(t, "keys after rotation", got, []store.SigningKey{prevExpired, prevAtNow, prevLive, cur, nxt, otherCur, otherNext, newNext})
	})
	t.Run("rotate refusals change nothing", func(t *testing.T) {
		tests := []struct {
			name    string
			keys    []store.SigningKey
			newNext store.SigningKey
			want    error
		}{
			{"no next key", []store.SigningKey{key("cur", "RS256", store.KeyCurrent, 0), key("es-next", "ES256", store.KeyNext, 0)},
				key("new", "", "", time.Second), store.ErrNotFound},
			{"new key's kid is taken", []store.SigningKey{key("cur", "RS256", store.KeyCurrent, 0), key("nxt", "RS256", store.KeyNext, time.Second)},
				key("cur", "", "", 2*time.Second), store.ErrConflict},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				for _, k := range tc.keys {
					must(t, "CreateSigningKey", s.CreateSigningKey(ctx(), k))
				}
				before, err := s.ListSigningKeys(ctx())
				must(t, "ListSigningKeys", err)
				err = s.RotateSigningKeys(ctx(), "RS256", tc.newNext, at(time.Hour), at(2*time.Hour))
				wantErr(t, "RotateSigningKeys", err, tc.want)
				after, err := s.ListSigningKeys(ctx())
				must(t, "ListSigningKeys", err)
				diff(t, "keys after a refused rotation", after, before)
			})
		}
	})
	t.Run("revoke", func(t *testing.T) {
		// seed: RS256 current, next, previous and retired; ES256 a lone current key.
		seed := func() []store.SigningKey {
			cur := key("cur", "RS256", store.KeyCurrent, time.Second)
			cur.ActivatedAt = at(time.Second)
			prev := key("prev", "RS256", store.KeyPrevious, 0)
			prev.PublishUntil = at(50 * time.Hour)
			return []store.SigningKey{key("old", "RS256", store.KeyRetired, 0), prev, cur,
				key("nxt", "RS256", store.KeyNext, 2*time.Second), key("es", "ES256", store.KeyCurrent, 3*time.Second)}
		}
		newNext := key("new", "", "", 4*time.Second)
		now := at(time.Hour)
		tests := []struct {
			name    string
			kid     string
			newNext *store.SigningKey
			want    error
			// after edits the seeded keys (by kid) into what revocation leaves; nil: unchanged.
			after func(m map[string]*store.SigningKey) []store.SigningKey
		}{
			{"current hands over to next", "cur", &newNext, nil, func(m map[string]*store.SigningKey) []store.SigningKey {
				m["cur"].State, m["cur"].PublishUntil = store.KeyRevoked, now
				m["nxt"].State, m["nxt"].ActivatedAt = store.KeyCurrent, now
				n := newNext
				n.Alg, n.State = "RS256", store.KeyNext
				return []store.SigningKey{n}
			}},
			{"next is replaced", "nxt", &newNext, nil, func(m map[string]*store.SigningKey) []store.SigningKey {
				m["nxt"].State, m["nxt"].PublishUntil = store.KeyRevoked, now
				n := newNext
				n.Alg, n.State = "RS256", store.KeyNext
				return []store.SigningKey{n}
			}},
			{"previous", "prev", nil, nil, func(m map[string]*store.SigningKey) []store.SigningKey {
				m["prev"].State, m["prev"].PublishUntil = store.KeyRevoked, now
				return nil
			}},
			{"retired", "old", nil, nil, func(m map[string]*store.SigningKey) []store.SigningKey {
				m["old"].State, m["old"].PublishUntil = store.KeyRevoked, now
				return nil
			}},
			{"unknown kid", "nope", &newNext, store.ErrNotFound, nil},
			{"the only key of an alg", "es", &newNext, store.ErrNotFound, nil},
			{"current without a new next key", "cur", nil, store.ErrNotFound, nil},
			{"next without a new next key", "nxt", nil, store.ErrNotFound, nil},
			{"new next key's kid is taken", "cur", func() *store.SigningKey { k := key("prev", "", "", 0); return &k }(), store.ErrConflict, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				keys := seed()
				for _, k := range keys {
					must(t, "CreateSigningKey", s.CreateSigningKey(ctx(), k))
				}
				before, err := s.RevokeSigningKey(ctx(), tc.kid, tc.newNext, now)
				wantErr(t, "RevokeSigningKey", err, tc.want)
				want := slices.Clone(keys)
				if tc.after != nil {
					m := map[string]*store.SigningKey{}
					for i := range want {
						m[want[i].KID] = &want[i]
					}
					diff(t, "key returned", before, keys[slices.IndexFunc(keys, func(k store.SigningKey) bool { return k.KID == tc.kid })])
					want = append(want, tc.after(m)...)
				}
				slices.SortStableFunc(want, func(a, b store.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
				got, err := s.ListSigningKeys(ctx())
				must(t, "ListSigningKeys", err)
				diff(t, "keys after RevokeSigningKey", got, want)
				if tc.want == nil {
					_, err := s.RevokeSigningKey(ctx(), tc.kid, tc.newNext, now)
					wantErr(t, "RevokeSigningKey again", err, store.ErrConflict)
				}
			})
		}
	})
	t.Run("concurrent rotations never fork the key set", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateSigningKey", s.CreateSigningKey(ctx(), key("cur", "RS256", store.KeyCurrent, 0)))
		must(t, "CreateSigningKey", s.CreateSigningKey(ctx(), key("nxt", "RS256", store.KeyNext, time.Second)))
		errs := parallel(4, func(i int) error {
			return s.RotateSigningKeys(ctx(), "RS256", key(string(rune('a'+i)), "", "", 2*time.Second), at(time.Hour), at(2*time.Hour))
		})
		for i, err := range errs {
			if err != nil && !errorsIsAny(err, store.ErrConflict, store.ErrNotFound) {
				t.Errorf("rotation %d: got %v, want nil, ErrConflict or ErrNotFound", i, err)
			}
		}
		keys, err := s.ListSigningKeys(ctx())
		must(t, "ListSigningKeys", err)
		count := map[string]int{}
		for _, k := range keys {
			count[k.State]++
		}
		if count[store.KeyCurrent] != 1 || count[store.KeyNext] != 1 {
			t.Errorf("states after concurrent rotations: got %v, want exactly one current and one next", count)
		}
	})
}

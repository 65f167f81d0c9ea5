package sqlstore

import (
	"context"
	"errors"

	"github.com/sesameauth/sesame/internal/store"
)

// errBulkMismatch is returned when families and tokens are not paired one to one.
var errBulkMismatch = errors.New("sqlstore: bulk insert needs one token per family")

// bulkChunk is how many rows one seeding transaction writes: large enough that commits do not
// dominate, small enough that the single SQLite writer is not held for seconds.
const bulkChunk = 5000

// BulkCreateUsers inserts users in few large transactions. It is for seeding (load tests,
// fixtures): it applies no rule beyond the table's unique keys, and a conflict aborts the
// chunk it is in (earlier chunks stay).
func (s *Store) BulkCreateUsers(ctx context.Context, us []store.User) error {
	for start := 0; start < len(us); start += bulkChunk {
		part := us[start:min(start+bulkChunk, len(us))]
		if err := s.inTx(ctx, func(tx querier) error {
			for i := range part {
				if err := insertRow(ctx, s, tx, users, &part[i]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// BulkCreateRefreshFamilies inserts families, each with the token of the same index (its
// FamilyID is set to the family's), in few large transactions. Unlike CreateRefreshFamily it
// does not cap the families per user and client: it is for seeding a store with many tokens.
func (s *Store) BulkCreateRefreshFamilies(ctx context.Context, fs []store.RefreshFamily, ts []store.RefreshToken) error {
	if len(fs) != len(ts) {
		return errBulkMismatch
	}
	for start := 0; start < len(fs); start += bulkChunk {
		end := min(start+bulkChunk, len(fs))
		if err := s.inTx(ctx, func(tx querier) error {
			for i := start; i < end; i++ {
				if err := insertRow(ctx, s, tx, families, &fs[i]); err != nil {
					return err
				}
				t := ts[i]
				t.FamilyID = fs[i].ID
				if err := insertRow(ctx, s, tx, tokens, &t); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

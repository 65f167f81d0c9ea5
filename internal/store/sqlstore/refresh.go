package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

var families = build(&table[store.RefreshFamily]{
	name: "refresh_families", what: "refresh-token family", key: "id",
	cols: []string{"id", "client_id", "user_id", "connection", "audience", "scope", "auth_time", "amr",
		"created_at", "expires_at", "revoked_at"},
	keyOf: func(f *store.RefreshFamily) string { return f.ID },
	values: func(e *encoder, f *store.RefreshFamily) []any {
		return []any{f.ID, f.ClientID, f.UserID, f.Connection, f.Audience, f.Scope, timeVal(f.AuthTime), e.json(f.AMR),
			timeVal(f.CreatedAt), timeVal(f.ExpiresAt), timeVal(f.RevokedAt)}
	},
	scan: func(f *store.RefreshFamily) []any {
		return []any{&f.ID, &f.ClientID, &f.UserID, &f.Connection, &f.Audience, &f.Scope, timeCol{&f.AuthTime}, jsonCol{&f.AMR},
			timeCol{&f.CreatedAt}, timeCol{&f.ExpiresAt}, timeCol{&f.RevokedAt}}
	},
})

var tokens = build(&table[store.RefreshToken]{
	name: "refresh_tokens", what: "refresh token", key: "hash",
	cols:  []string{"hash", "family_id", "created_at", "idle_expires_at", "rotated_at"},
	keyOf: func(t *store.RefreshToken) string { return t.Hash },
	values: func(_ *encoder, t *store.RefreshToken) []any {
		return []any{t.Hash, t.FamilyID, timeVal(t.CreatedAt), timeVal(t.IdleExpiresAt), timeVal(t.RotatedAt)}
	},
	scan: func(t *store.RefreshToken) []any {
		return []any{&t.Hash, &t.FamilyID, timeCol{&t.CreatedAt}, timeCol{&t.IdleExpiresAt}, timeCol{&t.RotatedAt}}
	},
})

// Hot-path statements of the refresh grant; each is one primary-key or index probe.
var (
	getTokenAndFamily = `SELECT ` + families.colList("f.") + `, ` + tokens.colList("t.") + `
FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = ?`
	// rotateToken is the compare-and-set that makes rotation atomic: of concurrent redemptions
	// of one current token exactly one sees a row affected.
	rotateToken  = `UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL`
	tokenRotated = `SELECT rotated_at FROM refresh_tokens WHERE hash = ?`
	touchToken   = `UPDATE refresh_tokens SET idle_expires_at = ? WHERE hash = ?`
	revokeFamily = `UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`
	// capFamilies revokes a user's and client's live families beyond the newest ones but the
	// new family itself; NOLIMIT is the dialect's "no limit".
	capFamilies = `UPDATE refresh_families SET revoked_at = ? WHERE id IN (
  SELECT id FROM refresh_families
  WHERE user_id = ? AND client_id = ? AND id <> ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
  ORDER BY created_at DESC, id DESC LIMIT NOLIMIT OFFSET ?)`
	revokeTokenFamily = `UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, ?)
WHERE id = (SELECT family_id FROM refresh_tokens WHERE hash = ?) RETURNING `
)

func scanTokenAndFamily(ctx context.Context, s *Store, q querier, hash string) (store.RefreshFamily, store.RefreshToken, error) {
	var (
		f store.RefreshFamily
		t store.RefreshToken
	)
	err := q.QueryRowContext(ctx, s.q(getTokenAndFamily), hash).Scan(append(families.scan(&f), tokens.scan(&t)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return f, t, fmt.Errorf("sqlstore: refresh token: %w", store.ErrNotFound)
	}
	if err != nil {
		return f, t, fmt.Errorf("sqlstore: reading refresh token: %w", unavailable(err))
	}
	return f, t, nil
}

// CreateRefreshFamily stores the family and its first token, then revokes the oldest live
// families of the same user and client beyond store.MaxFamiliesPerUserClient, in one
// transaction.
func (s *Store) CreateRefreshFamily(ctx context.Context, f store.RefreshFamily, first store.RefreshToken) error {
	first.FamilyID = f.ID
	return s.inTx(ctx, func(tx querier) error {
		if err := insertRow(ctx, s, tx, families, &f); err != nil {
			return err
		}
		if err := insertRow(ctx, s, tx, tokens, &first); err != nil {
			return err
		}
		// Live means not revoked and not past its absolute expiry when the new family starts.
		// The new family itself is kept: the newest cap-1 others survive.
		_, err := tx.ExecContext(ctx, s.q(strings.Replace(capFamilies, "NOLIMIT", s.d.noLimit, 1)),
			timeVal(f.CreatedAt), f.UserID, f.ClientID, f.ID, timeVal(f.CreatedAt), store.MaxFamiliesPerUserClient-1)
		if err != nil {
			return fmt.Errorf("sqlstore: capping refresh-token families: %w", err)
		}
		return nil
	})
}

// GetRefreshToken returns a token and its family by token hash, whatever their state.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshFamily, store.RefreshToken, error) {
	return scanTokenAndFamily(ctx, s, s.read, hash)
}

// RedeemRefreshToken exchanges a token in one short write transaction; see store.Redemption.
// A rotated token presented outside the leeway is ErrReused even when its family was already
// revoked (by an earlier reuse, typically): every replay is reported as one. It returns the family as it stands after the exchange (also with ErrRevoked, ErrExpired and
// ErrReused, so callers can log whose token it was).
func (s *Store) RedeemRefreshToken(ctx context.Context, r store.Redemption) (store.RefreshFamily, error) {
	var fam store.RefreshFamily
	err := s.inTx(ctx, func(tx querier) error {
		f, t, err := scanTokenAndFamily(ctx, s, tx, r.Hash)
		if err != nil {
			return err
		}
		fam = f
		switch {
		case !f.RevokedAt.IsZero() && r.Replays(t.RotatedAt):
			// A replay of a rotated token is reuse whether or not the family already died,
			// so that every loser of a concurrent race hears the same answer.
			return fmt.Errorf("sqlstore: refresh-token family %s: %w", f.ID, store.ErrReused)
		case !f.RevokedAt.IsZero():
			return fmt.Errorf("sqlstore: refresh-token family %s: %w", f.ID, store.ErrRevoked)
		case reached(f.ExpiresAt, r.Now), reached(t.IdleExpiresAt, r.Now):
			return fmt.Errorf("sqlstore: refresh-token family %s: %w", f.ID, store.ErrExpired)
		case r.Replays(t.RotatedAt):
			// A spent token: outside the leeway, or presented without rotation (the client was
			// switched to non-rotating tokens after this one was rotated).
			return s.revokeReused(ctx, tx, r, &fam)
		}

		if r.Next == nil {
			if !r.IdleExpiresAt.IsZero() {
				if _, err := tx.ExecContext(ctx, s.q(touchToken), timeVal(r.IdleExpiresAt), r.Hash); err != nil {
					return fmt.Errorf("sqlstore: renewing refresh token: %w", err)
				}
			}
			return nil
		}

		n, err := affected(tx.ExecContext(ctx, s.q(rotateToken), timeVal(r.Now), r.Hash))
		if err != nil {
			return fmt.Errorf("sqlstore: rotating refresh token: %w", err)
		}
		if n == 0 {
			// Rotated before, possibly by a concurrent redemption that committed after this
			// transaction's first read: judge the rotation time it left.
			var rotatedAt time.Time
			if err := tx.QueryRowContext(ctx, s.q(tokenRotated), r.Hash).Scan(timeCol{&rotatedAt}); err != nil {
				return fmt.Errorf("sqlstore: re-reading refresh token: %w", err)
			}
			if r.Replays(rotatedAt) {
				return s.revokeReused(ctx, tx, r, &fam)
			}
		}
		next := *r.Next
		next.FamilyID = f.ID
		return insertRow(ctx, s, tx, tokens, &next)
	})
	return fam, err
}

// revokeReused revokes fam for the replay of a spent token (RFC 9700 §4.14.2: reuse of a
// rotated token revokes the whole family) and ends the transaction with ErrReused, committing
// the revocation.
func (s *Store) revokeReused(ctx context.Context, tx querier, r store.Redemption, fam *store.RefreshFamily) error {
	if _, err := tx.ExecContext(ctx, s.q(revokeFamily), timeVal(r.Now), fam.ID); err != nil {
		return fmt.Errorf("sqlstore: revoking refresh-token family: %w", err)
	}
	if fam.RevokedAt.IsZero() {
		fam.RevokedAt = r.Now
	}
	return commitThen{fmt.Errorf("sqlstore: refresh-token family %s: %w", fam.ID, store.ErrReused)}
}

// reached reports whether a deadline is set and now is at or past it.
func reached(deadline, now time.Time) bool { return !deadline.IsZero() && !now.Before(deadline) }

// RevokeRefreshFamily revokes the family of the token with this hash (keeping an earlier
// revocation time) and returns it; ErrNotFound if no token has this hash.
func (s *Store) RevokeRefreshFamily(ctx context.Context, hash string, at time.Time) (store.RefreshFamily, error) {
	var f store.RefreshFamily
	err := s.write.QueryRowContext(ctx, s.q(revokeTokenFamily+families.colList("")),
		timeVal(at), hash).Scan(families.scan(&f)...)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("sqlstore: refresh token: %w", store.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("sqlstore: revoking refresh-token family: %w", err)
	}
	return f, nil
}

// RevokeRefreshFamilies revokes every live family of the user (narrowed to the client and
// audience when they are not empty) and returns how many it revoked.
func (s *Store) RevokeRefreshFamilies(ctx context.Context, userID, clientID, audience string, at time.Time) (int, error) {
	query := `UPDATE refresh_families SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`
	args := []any{timeVal(at), userID}
	if clientID != "" {
		query, args = query+` AND client_id = ?`, append(args, clientID)
	}
	if audience != "" {
		query, args = query+` AND audience = ?`, append(args, audience)
	}
	n, err := affected(s.write.ExecContext(ctx, s.q(query), args...))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoking refresh-token families: %w", err)
	}
	return n, nil
}

// DeleteExpiredRefreshTokens removes the families (and, by cascade, their tokens) that were
// revoked before the given time, whose absolute lifetime ended before it, or none of whose
// tokens is still within its idle lifetime then.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int, error) {
	b := before.UnixNano()
	n, err := affected(s.write.ExecContext(ctx, s.q(`DELETE FROM refresh_families
WHERE revoked_at < ? OR expires_at < ?
   OR NOT EXISTS (SELECT 1 FROM refresh_tokens t
                  WHERE t.family_id = refresh_families.id AND (t.idle_expires_at IS NULL OR t.idle_expires_at >= ?))`),
		b, b, b))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: deleting expired refresh tokens: %w", err)
	}
	return n, nil
}

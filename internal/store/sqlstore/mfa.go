package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

var authenticators = build(&table[store.MFAAuthenticator]{
	name: "mfa_authenticators", what: "MFA authenticator", key: "id",
	cols:  []string{"id", "user_id", "kind", "name", "secret_sealed", "code_hash", "confirmed", "created_at", "last_step"},
	keyOf: func(a *store.MFAAuthenticator) string { return a.ID },
	values: func(_ *encoder, a *store.MFAAuthenticator) []any {
		var step any
		if a.LastStep != 0 {
			step = a.LastStep
		}
		return []any{a.ID, a.UserID, a.Kind, a.Name, a.SecretSealed, a.CodeHash, a.Confirmed, timeVal(a.CreatedAt), step}
	},
	scan: func(a *store.MFAAuthenticator) []any {
		return []any{&a.ID, &a.UserID, &a.Kind, &a.Name, &a.SecretSealed, &a.CodeHash, &a.Confirmed, timeCol{&a.CreatedAt}, int64Col{&a.LastStep}}
	},
})

var mfaTransactions = build(&table[store.MFATransaction]{
	name: "mfa_transactions", what: "MFA transaction", key: "id",
	cols: []string{"id", "user_id", "client_id", "connection", "audience", "scope", "auth_time", "created_at",
		"expires_at", "consumed_at"},
	keyOf: func(t *store.MFATransaction) string { return t.ID },
	values: func(_ *encoder, t *store.MFATransaction) []any {
		return []any{t.ID, t.UserID, t.ClientID, t.Connection, t.Audience, t.Scope, timeVal(t.AuthTime), timeVal(t.CreatedAt),
			t.ExpiresAt.UnixNano(), timeVal(t.ConsumedAt)}
	},
	scan: func(t *store.MFATransaction) []any {
		return []any{&t.ID, &t.UserID, &t.ClientID, &t.Connection, &t.Audience, &t.Scope, timeCol{&t.AuthTime}, timeCol{&t.CreatedAt},
			timeCol{&t.ExpiresAt}, timeCol{&t.ConsumedAt}}
	},
})

var oobChallenges = build(&table[store.OOBChallenge]{
	name: "mfa_oob_challenges", what: "OOB challenge", key: "code_hash",
	cols:  []string{"code_hash", "transaction_id", "authenticator_id", "binding_hash", "expires_at", "used_at"},
	keyOf: func(c *store.OOBChallenge) string { return c.CodeHash },
	values: func(_ *encoder, c *store.OOBChallenge) []any {
		return []any{c.CodeHash, c.TransactionID, c.AuthenticatorID, c.BindingHash, c.ExpiresAt.UnixNano(), timeVal(c.UsedAt)}
	},
	scan: func(c *store.OOBChallenge) []any {
		return []any{&c.CodeHash, &c.TransactionID, &c.AuthenticatorID, &c.BindingHash, timeCol{&c.ExpiresAt}, timeCol{&c.UsedAt}}
	},
})

// int64Col scans a nullable integer column (0 for NULL).
type int64Col struct{ n *int64 }

func (c int64Col) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.n = 0
	case int64:
		*c.n = v
	default:
		return fmt.Errorf("sqlstore: integer column holds %T", src)
	}
	return nil
}

// CreateMFAAuthenticator stores a; ErrConflict when its ID is taken.
func (s *Store) CreateMFAAuthenticator(ctx context.Context, a store.MFAAuthenticator) error {
	return insertRow(ctx, s, s.write, authenticators, &a)
}

// GetMFAAuthenticator returns the authenticator with this ID.
func (s *Store) GetMFAAuthenticator(ctx context.Context, id string) (store.MFAAuthenticator, error) {
	return getRow(ctx, s, s.write, authenticators, id)
}

// ListMFAAuthenticators returns the user's authenticators, oldest first.
func (s *Store) ListMFAAuthenticators(ctx context.Context, userID string) ([]store.MFAAuthenticator, error) {
	return listRows(ctx, s, s.write, authenticators, "WHERE user_id = ? ORDER BY created_at, id", userID)
}

// ConfirmMFAAuthenticator marks the authenticator confirmed.
func (s *Store) ConfirmMFAAuthenticator(ctx context.Context, id string) error {
	return s.setOne(ctx, authenticators.notFound(id), `UPDATE mfa_authenticators SET confirmed = ? WHERE id = ?`, true, id)
}

// DeleteMFAAuthenticator deletes one of the user's authenticators.
func (s *Store) DeleteMFAAuthenticator(ctx context.Context, userID, id string) error {
	return s.setOne(ctx, authenticators.notFound(id), `DELETE FROM mfa_authenticators WHERE id = ? AND user_id = ?`, id, userID)
}

// DeleteMFAAuthenticators deletes every authenticator of the user.
func (s *Store) DeleteMFAAuthenticators(ctx context.Context, userID string) (int, error) {
	n, err := affected(s.write.ExecContext(ctx, s.q(`DELETE FROM mfa_authenticators WHERE user_id = ?`), userID))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: deleting MFA authenticators: %w", unavailable(err))
	}
	return n, nil
}

// AdvanceTOTPStep is a compare-and-set: only a step later than the last one used moves it.
func (s *Store) AdvanceTOTPStep(ctx context.Context, id string, step int64) error {
	n, err := affected(s.write.ExecContext(ctx,
		s.q(`UPDATE mfa_authenticators SET last_step = ? WHERE id = ? AND (last_step IS NULL OR last_step < ?)`), step, id, step))
	if err != nil {
		return fmt.Errorf("sqlstore: advancing TOTP step: %w", unavailable(err))
	}
	if n == 0 {
		return s.conflictOrMissing(ctx, id)
	}
	return nil
}

// ReplaceRecoveryCode swaps the recovery code hash, only if it is still old.
func (s *Store) ReplaceRecoveryCode(ctx context.Context, id, old, next string) error {
	n, err := affected(s.write.ExecContext(ctx,
		s.q(`UPDATE mfa_authenticators SET code_hash = ? WHERE id = ? AND code_hash = ?`), next, id, old))
	if err != nil {
		return fmt.Errorf("sqlstore: replacing recovery code: %w", unavailable(err))
	}
	if n == 0 {
		return s.conflictOrMissing(ctx, id)
	}
	return nil
}

// conflictOrMissing tells a lost compare-and-set (ErrConflict) from a missing authenticator.
func (s *Store) conflictOrMissing(ctx context.Context, id string) error {
	if _, err := getRow(ctx, s, s.write, authenticators, id); err != nil {
		return err
	}
	return fmt.Errorf("sqlstore: MFA authenticator %q: %w", id, store.ErrConflict)
}

// CreateMFATransaction stores a paused login.
func (s *Store) CreateMFATransaction(ctx context.Context, t store.MFATransaction) error {
	return insertRow(ctx, s, s.write, mfaTransactions, &t)
}

// GetMFATransaction returns the paused login with this ID, whatever its state.
func (s *Store) GetMFATransaction(ctx context.Context, id string) (store.MFATransaction, error) {
	return getRow(ctx, s, s.write, mfaTransactions, id)
}

// ConsumeMFATransaction marks the transaction consumed, once.
func (s *Store) ConsumeMFATransaction(ctx context.Context, id string, at time.Time) error {
	n, err := affected(s.write.ExecContext(ctx,
		s.q(`UPDATE mfa_transactions SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL`), at.UnixNano(), id))
	if err != nil {
		return fmt.Errorf("sqlstore: consuming MFA transaction: %w", unavailable(err))
	}
	if n == 0 {
		if _, err := getRow(ctx, s, s.write, mfaTransactions, id); err != nil {
			return err
		}
		return fmt.Errorf("sqlstore: MFA transaction: %w", store.ErrConflict)
	}
	return nil
}

// CreateOOBChallenge stores an out-of-band challenge.
func (s *Store) CreateOOBChallenge(ctx context.Context, c store.OOBChallenge) error {
	return insertRow(ctx, s, s.write, oobChallenges, &c)
}

// GetOOBChallenge returns the challenge whose oob_code hashes to codeHash.
func (s *Store) GetOOBChallenge(ctx context.Context, codeHash string) (store.OOBChallenge, error) {
	return getRow(ctx, s, s.write, oobChallenges, codeHash)
}

// UseOOBChallenge marks the challenge used, once.
func (s *Store) UseOOBChallenge(ctx context.Context, codeHash string, at time.Time) error {
	n, err := affected(s.write.ExecContext(ctx,
		s.q(`UPDATE mfa_oob_challenges SET used_at = ? WHERE code_hash = ? AND used_at IS NULL`), at.UnixNano(), codeHash))
	if err != nil {
		return fmt.Errorf("sqlstore: using OOB challenge: %w", unavailable(err))
	}
	if n == 0 {
		if _, err := getRow(ctx, s, s.write, oobChallenges, codeHash); err != nil {
			return err
		}
		return fmt.Errorf("sqlstore: OOB challenge: %w", store.ErrConflict)
	}
	return nil
}

// DeleteExpiredMFA removes transactions and challenges that expired before t.
func (s *Store) DeleteExpiredMFA(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for _, q := range []string{
		`DELETE FROM mfa_transactions WHERE expires_at < ?`,
		`DELETE FROM mfa_oob_challenges WHERE expires_at < ?`,
	} {
		n, err := affected(s.write.ExecContext(ctx, s.q(q), before.UnixNano()))
		if err != nil {
			return total, fmt.Errorf("sqlstore: deleting expired MFA records: %w", unavailable(err))
		}
		total += n
	}
	return total, nil
}

// setOne runs a statement that must touch one row; none is notFound.
func (s *Store) setOne(ctx context.Context, notFound error, query string, args ...any) error {
	n, err := affected(s.write.ExecContext(ctx, s.q(query), args...))
	if err != nil {
		return fmt.Errorf("sqlstore: %w", unavailable(err))
	}
	if n == 0 {
		return notFound
	}
	return nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// PutPasswordlessCode stores c in place of the recipient's previous code, with no attempts.
func (s *Store) PutPasswordlessCode(ctx context.Context, c store.PasswordlessCode) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO passwordless_codes
(connection, recipient, code_hash, attempts, created_at, expires_at) VALUES (?, ?, ?, 0, ?, ?)
ON CONFLICT (connection, recipient) DO UPDATE SET code_hash = excluded.code_hash, attempts = 0,
created_at = excluded.created_at, expires_at = excluded.expires_at`),
		c.Connection, c.Recipient, c.CodeHash, c.CreatedAt.UnixNano(), c.ExpiresAt.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlstore: storing passwordless code: %w", unavailable(err))
	}
	return nil
}

// TakePasswordlessAttempt counts a try in the same statement that checks the code is live and
// has tries left, so that concurrent tries serialise on the row and never exceed maxAttempts.
func (s *Store) TakePasswordlessAttempt(ctx context.Context, connection, recipient string, now time.Time, maxAttempts int) (store.PasswordlessCode, error) {
	c := store.PasswordlessCode{Connection: connection, Recipient: recipient}
	var created, expires int64
	err := s.write.QueryRowContext(ctx, s.q(`UPDATE passwordless_codes SET attempts = attempts + 1
WHERE connection = ? AND recipient = ? AND expires_at > ? AND attempts < ?
RETURNING code_hash, attempts, created_at, expires_at`), connection, recipient, now.UnixNano(), maxAttempts).
		Scan(&c.CodeHash, &c.Attempts, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("sqlstore: passwordless code: %w", store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlstore: counting passwordless attempt: %w", unavailable(err))
	}
	c.CreatedAt, c.ExpiresAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	return c, nil
}

// UsePasswordlessCode is a compare-and-delete on the code hash: of two tries with the right
// code, one deletes the row and the other finds nothing.
func (s *Store) UsePasswordlessCode(ctx context.Context, connection, recipient, codeHash string) error {
	return s.setOne(ctx, fmt.Errorf("sqlstore: passwordless code: %w", store.ErrNotFound),
		`DELETE FROM passwordless_codes WHERE connection = ? AND recipient = ? AND code_hash = ?`, connection, recipient, codeHash)
}

// DeleteExpiredPasswordlessCodes removes codes that expired before t.
func (s *Store) DeleteExpiredPasswordlessCodes(ctx context.Context, before time.Time) (int, error) {
	n, err := affected(s.write.ExecContext(ctx, s.q(`DELETE FROM passwordless_codes WHERE expires_at < ?`), before.UnixNano()))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: deleting expired passwordless codes: %w", unavailable(err))
	}
	return n, nil
}

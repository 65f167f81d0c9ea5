package store

import (
	"context"
	"time"
)

// PasswordlessCode is the one-time code last sent to one recipient of a passwordless
// connection (strategy email or sms). Only a keyed hash of the code is stored.
type PasswordlessCode struct {
	Connection string
	// Recipient is the normalised email address or E.164 phone number the code went to.
	Recipient string
	// CodeHash is the hex HMAC-SHA256 of the code (see package passwordless).
	CodeHash string
	// Attempts counts the tries at this code so far, right or wrong.
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PasswordlessCodes stores the live one-time codes of passwordless connections, one per
// connection and recipient. A try is counted before the code is compared (TakePasswordlessAttempt),
// so that parallel guesses cannot make more tries than the limit, and a right code is spent
// by a compare-and-delete (UsePasswordlessCode), so that it works once.
type PasswordlessCodes interface {
	// PutPasswordlessCode stores c, replacing the recipient's previous code and its count of
	// attempts: a new code makes the old one useless.
	PutPasswordlessCode(ctx context.Context, c PasswordlessCode) error
	// TakePasswordlessAttempt counts one try at the recipient's code and returns the code with
	// the new count, in one statement. ErrNotFound when there is no code, it expired at now,
	// or maxAttempts tries were already made.
	TakePasswordlessAttempt(ctx context.Context, connection, recipient string, now time.Time, maxAttempts int) (PasswordlessCode, error)
	// UsePasswordlessCode deletes the recipient's code if its hash is still codeHash; ErrNotFound
	// when it is not (spent by a concurrent try, or replaced by a new code).
	UsePasswordlessCode(ctx context.Context, connection, recipient, codeHash string) error
	// DeleteExpiredPasswordlessCodes removes codes that expired before t and returns how many.
	DeleteExpiredPasswordlessCodes(ctx context.Context, before time.Time) (int, error)
}

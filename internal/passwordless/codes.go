package passwordless

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// ErrWrongCode is Verify's answer for a wrong, expired, spent, replaced or exhausted code: the
// client learns only that the code did not work.
var ErrWrongCode = errors.New("passwordless: wrong or expired code")

// Codes issues and verifies one-time codes.
type Codes struct {
	Store store.PasswordlessCodes
	// Key keys the code hashes; every node must have the same (derive it from the KEK).
	Key []byte
	Now func() time.Time
}

// Issue makes a new code for the recipient of the connection, valid for o.TimeStep, and
// stores its hash in place of any earlier code. It returns the code to deliver.
func (c *Codes) Issue(ctx context.Context, connection, recipient string, o Options) (string, error) {
	code, err := newCode(o.Length)
	if err != nil {
		return "", err
	}
	now := c.Now()
	err = c.Store.PutPasswordlessCode(ctx, store.PasswordlessCode{Connection: connection, Recipient: recipient,
		CodeHash: c.hash(connection, recipient, code), CreatedAt: now, ExpiresAt: now.Add(o.TimeStep)})
	if err != nil {
		return "", err
	}
	return code, nil
}

// Verify spends one try at the recipient's code: nil when code is right (the code is then
// used up), ErrWrongCode otherwise. The try is counted before the comparison, so parallel
// guesses get MaxAttempts comparisons in all.
func (c *Codes) Verify(ctx context.Context, connection, recipient, code string) error {
	cur, err := c.Store.TakePasswordlessAttempt(ctx, connection, recipient, c.Now(), MaxAttempts)
	if errors.Is(err, store.ErrNotFound) {
		return ErrWrongCode
	}
	if err != nil {
		return err
	}
	want, err := hex.DecodeString(cur.CodeHash)
	if err != nil {
		return fmt.Errorf("passwordless: stored code hash: %w", err)
	}
	got, _ := hex.DecodeString(c.hash(connection, recipient, strings.TrimSpace(code)))
	if !hmac.Equal(got, want) {
		return ErrWrongCode
	}
	if err := c.Store.UsePasswordlessCode(ctx, connection, recipient, cur.CodeHash); errors.Is(err, store.ErrNotFound) {
		return ErrWrongCode // spent by a concurrent try, or replaced by a new code meanwhile
	} else if err != nil {
		return err
	}
	return nil
}

// hash is the hex HMAC-SHA256 of the code, bound to its connection and recipient so that a
// hash copied to another row matches nothing.
func (c *Codes) hash(connection, recipient, code string) string {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte(connection + "\x00" + recipient + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// newCode returns n uniformly random decimal digits from crypto/rand.
func newCode(n int) (string, error) {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", fmt.Errorf("passwordless: random code: %w", err)
	}
	return fmt.Sprintf("%0*s", n, v.String()), nil
}

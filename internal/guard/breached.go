package guard

import (
	"bufio"
	"context"
	"crypto/sha1" // SHA-1 is the format of the breach corpus (HIBP range API), not a protection
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// TestPasswordPrefix marks a password as breached whatever the list holds: Auth0 documents it
// so that breached-password handling can be tried with any account.
const TestPasswordPrefix = "AUTH0-TEST-"

// Breached runs after a password was verified. With breached-password detection enabled, a
// password found in the stored breach list (or starting with TestPasswordPrefix) logs pwd_leak
// and, with the block shield, is refused with a *BlockedError{Reason: BreachedPassword}.
func (g *Guard) Breached(ctx context.Context, a *Attempt, password string) ([]Event, error) {
	if !a.policy.breached.Enabled {
		return nil, nil
	}
	leaked, err := g.IsBreached(ctx, password)
	if err != nil || !leaked {
		return nil, err
	}
	ev := eventBreached
	ev.Notify = a.policy.brNotify
	evs := []Event{ev}
	if a.policy.brBlock {
		return evs, &BlockedError{Reason: BreachedPassword}
	}
	return evs, nil
}

// IsBreached reports whether password is in the stored breach list, looked up as the Have I
// Been Pwned range API does: by the first five hex digits of its SHA-1, then the suffix.
func (g *Guard) IsBreached(ctx context.Context, password string) (bool, error) {
	if strings.HasPrefix(password, TestPasswordPrefix) {
		return true, nil
	}
	sum := sha1.Sum([]byte(password))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	suffixes, err := g.store.BreachedSuffixes(ctx, h[:5])
	if err != nil {
		return false, fmt.Errorf("guard: reading breached hashes: %w", err)
	}
	_, found := slices.BinarySearch(suffixes, h[5:])
	return found, nil
}

// ErrBadHashLine is wrapped around a line of a breach list that is not HASH or HASH:COUNT.
var ErrBadHashLine = errors.New("not a SHA-1 hash line (40 hex digits, optionally :COUNT)")

// ParseHashLine parses one line of a breach list: a full SHA-1 hash in hex, optionally followed
// by ":COUNT" (the format of the Pwned Passwords downloads). It returns the hash upper-cased.
func ParseHashLine(line string) (string, error) {
	h, count, hasCount := strings.Cut(strings.TrimSpace(line), ":")
	if len(h) != 40 {
		return "", fmt.Errorf("%q: %w", truncate(line, 60), ErrBadHashLine)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("%q: %w", truncate(line, 60), ErrBadHashLine)
	}
	if hasCount {
		if count == "" || strings.TrimLeft(count, "0123456789") != "" {
			return "", fmt.Errorf("%q: %w", truncate(line, 60), ErrBadHashLine)
		}
	}
	return strings.ToUpper(h), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// importBatch is how many hashes one store transaction takes.
const importBatch = 1000

// ImportBreached reads a breach list (HASH or HASH:COUNT lines; blank lines and lines starting
// with # are skipped) into st, and returns how many hashes were new. A bad line stops the
// import with its line number; batches before it stay stored, and a re-run skips them.
func ImportBreached(ctx context.Context, st interface {
	AddBreachedHashes(ctx context.Context, hashes []string) (int, error)
}, r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	batch := make([]string, 0, importBatch)
	total, lineNo := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := st.AddBreachedHashes(ctx, batch)
		total += n
		batch = batch[:0]
		return err
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		h, err := ParseHashLine(line)
		if err != nil {
			return total, fmt.Errorf("guard: line %d: %w", lineNo, err)
		}
		if batch = append(batch, h); len(batch) == importBatch {
			if err := flush(); err != nil {
				return total, fmt.Errorf("guard: storing hashes: %w", err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return total, fmt.Errorf("guard: reading breach list: %w", err)
	}
	if err := flush(); err != nil {
		return total, fmt.Errorf("guard: storing hashes: %w", err)
	}
	return total, nil
}

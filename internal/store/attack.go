package store

import (
	"context"
	"time"
)

// AttackProtection is the tenant's attack-protection settings, in the shape of Auth0's
// Management API (/api/v2/attack-protection/*), JSON field names included. It is stored as
// one JSON document; package guard supplies the defaults and validates it.
type AttackProtection struct {
	BruteForce   BruteForceProtection      `json:"bruteForceProtection"`
	SuspiciousIP SuspiciousIPThrottling    `json:"suspiciousIpThrottling"`
	Breached     BreachedPasswordDetection `json:"breachedPasswordDetection"`
}

// BruteForceProtection counts consecutive failed logins per identifier (and IP).
type BruteForceProtection struct {
	Enabled bool `json:"enabled"`
	// Shields are "block" and "user_notification"; none means monitoring (log only).
	Shields []string `json:"shields"`
	// Mode is count_per_identifier_and_ip or count_per_identifier.
	Mode string `json:"mode"`
	// Allowlist holds IP addresses and CIDR ranges that are never blocked.
	Allowlist   []string `json:"allowlist"`
	MaxAttempts int      `json:"max_attempts"`
}

// SuspiciousIPThrottling limits failed logins per IP address across every account.
type SuspiciousIPThrottling struct {
	Enabled bool `json:"enabled"`
	// Shields are "block" and "admin_notification"; none means monitoring (log only).
	Shields   []string       `json:"shields"`
	Allowlist []string       `json:"allowlist"`
	Stage     ThrottleStages `json:"stage"`
}

// ThrottleStages are the per-stage buckets of suspicious-IP throttling.
type ThrottleStages struct {
	PreLogin            ThrottleStage `json:"pre-login"`
	PreUserRegistration ThrottleStage `json:"pre-user-registration"`
}

// ThrottleStage is a token bucket: MaxAttempts tokens, one back every Rate milliseconds.
type ThrottleStage struct {
	MaxAttempts int `json:"max_attempts"`
	// Rate is the interval, in milliseconds, at which one attempt is given back.
	Rate int64 `json:"rate"`
}

// BreachedPasswordDetection refuses logins with passwords known from data breaches.
type BreachedPasswordDetection struct {
	Enabled bool `json:"enabled"`
	// Shields are "block", "user_notification" and "admin_notification".
	Shields []string `json:"shields"`
	// Method is "standard" (Auth0 also has "enhanced").
	Method string `json:"method"`
}

// Counters holds the counters attack protection shares across nodes: failure counts that
// expire, and token buckets. Every method is atomic on its own: N concurrent RecordFailure
// calls on one key yield the counts 1..N, and concurrent TakeToken calls never grant more
// than the bucket holds.
type Counters interface {
	// RecordFailure adds one to the counter key and returns the new count. A counter whose
	// expiry has passed at now starts again from 1; each failure pushes the expiry to
	// now+expiry.
	RecordFailure(ctx context.Context, key string, now time.Time, expiry time.Duration) (int, error)
	// GetCounter returns the count of key at now: 0 when it is absent or expired.
	GetCounter(ctx context.Context, key string, now time.Time) (int, error)
	// DecrementCounter takes one from the counter key when it is above zero (an attempt that
	// was counted but never judged); no error when it is absent.
	DecrementCounter(ctx context.Context, key string) error
	// ResetCounter deletes the counter key (no error when it is absent).
	ResetCounter(ctx context.Context, key string) error
	// ResetCounters deletes every counter whose key starts with prefix and returns how many.
	ResetCounters(ctx context.Context, prefix string) (int, error)
	// ListCounters returns the counters whose key starts with prefix that are live at now
	// (not expired, count above zero), ordered by key. It is for admins to see what
	// ResetCounters would release, not for the login path.
	ListCounters(ctx context.Context, prefix string, now time.Time) ([]CounterEntry, error)
	// TakeToken takes one token from the bucket key, which holds capacity tokens and gets one
	// back every refillEvery (a bucket never seen is full). When allowed, remaining is what is
	// left and resetAt is when the bucket will be full again; when not, remaining is 0 and
	// resetAt is when the next token comes back.
	TakeToken(ctx context.Context, key string, capacity int, refillEvery time.Duration, now time.Time) (allowed bool, remaining int, resetAt time.Time, err error)
	// ReturnToken gives back one token TakeToken took from the bucket key (refilling every
	// refillEvery), for an attempt taken before an expensive check that then passed: a limit
	// counted before the check holds under parallel requests, and giving back makes it count
	// failures only. A bucket that is absent or full stays as it is.
	ReturnToken(ctx context.Context, key string, refillEvery time.Duration) error
}

// CounterEntry is one live counter of Counters.
type CounterEntry struct {
	Key       string
	Hits      int
	ExpiresAt time.Time
}

// BreachedPasswords holds SHA-1 hashes of passwords known from data breaches, split as in the
// Have I Been Pwned k-anonymity range API: a 5-hex-digit prefix and a 35-hex-digit suffix.
type BreachedPasswords interface {
	// AddBreachedHashes stores 40-hex-digit SHA-1 hashes (upper-case); hashes already known
	// are skipped. It returns how many were new.
	AddBreachedHashes(ctx context.Context, hashes []string) (int, error)
	// BreachedSuffixes returns the suffixes stored under a 5-hex-digit prefix, sorted.
	BreachedSuffixes(ctx context.Context, prefix string) ([]string, error)
}

package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Rate is a request rate limit kept as a token bucket in the store: Burst requests may come at
// once, then one more every Every. A bucket in the store (not in process memory) is what lets
// every node of a cluster enforce one limit together.
type Rate struct {
	Burst int
	Every time.Duration
}

// PerMinute is the Rate of n requests a minute, all of which may come at once; n <= 0 is
// no limit (the zero Rate).
func PerMinute(n int) Rate { return per(n, time.Minute) }

// PerHour is the Rate of n requests an hour, all of which may come at once; n <= 0 is no
// limit.
func PerHour(n int) Rate { return per(n, time.Hour) }

func per(n int, period time.Duration) Rate {
	if n <= 0 {
		return Rate{}
	}
	return Rate{Burst: n, Every: period / time.Duration(n)}
}

// On reports whether r limits anything.
func (r Rate) On() bool { return r.Burst > 0 && r.Every > 0 }

// SameUserIP is Auth0's limit on logins of one user from one IP address: once 20 attempts came
// within a minute, only 10 a minute more (WIRE.md §5), i.e. a bucket of 20 that gets one
// attempt back every 6 seconds.
var SameUserIP = Rate{Burst: 20, Every: 6 * time.Second}

// Decision is the outcome of one request against a Rate, with what the X-RateLimit-* headers
// report.
type Decision struct {
	Allowed bool
	// Limit is the bucket's size; Remaining what is left after this request.
	Limit, Remaining int
	// Reset is when the bucket is full again.
	Reset time.Time
	// RetryAt, for a refused request, is when the next one will be allowed.
	RetryAt time.Time
	// Log is set on the first refusal of a bucket within a minute: the caller records the
	// tenant log event then, so that a flood of refused requests is one line a minute, not one
	// line each (Auth0 logs api_limit the same way).
	Log bool
}

// Take counts one request against the bucket key limited by r. A zero Rate allows everything
// without touching the store.
func (g *Guard) Take(ctx context.Context, key string, r Rate) (Decision, error) {
	if !r.On() {
		return Decision{Allowed: true}, nil
	}
	now := g.now()
	ok, remaining, at, err := g.store.TakeToken(ctx, "rl|"+key, r.Burst, r.Every, now)
	if err != nil {
		return Decision{}, fmt.Errorf("guard: rate limit: %w", err)
	}
	d := Decision{Allowed: ok, Limit: r.Burst, Remaining: remaining, Reset: at}
	if ok {
		return d, nil
	}
	// Refused: at is when one token is back; the bucket is full Burst-1 tokens later.
	d.RetryAt, d.Reset = at, at.Add(time.Duration(r.Burst-1)*r.Every)
	d.Log, err = g.firstRefusal(ctx, key, now)
	return d, err
}

// firstRefusal reports whether this refusal of key is its first within a minute (see
// Decision.Log).
func (g *Guard) firstRefusal(ctx context.Context, key string, now time.Time) (bool, error) {
	n, err := g.store.RecordFailure(ctx, "rllog|"+key, now, time.Minute)
	if err != nil {
		return false, fmt.Errorf("guard: rate limit: %w", err)
	}
	return n == 1, nil
}

// Distinct admits value into the set key, which holds at most limit distinct values within
// window (each use of the set pushes its window on). A value already admitted passes again; a
// new one is refused once limit are in. The answer is a Decision like Take's, for the
// X-RateLimit-* headers; a limit <= 0 admits everything without touching the store.
//
// A place in the set is counted before the value is marked, as Check counts a login before
// the password is checked: parallel requests with new values each get their own count, so no
// more than limit are ever admitted. A value found already admitted, or refused, gives its
// place back; only an admitted value is ever marked. Values are stored as SHA-256 hashes:
// they are email addresses and phone numbers.
func (g *Guard) Distinct(ctx context.Context, key, value string, limit int, window time.Duration) (Decision, error) {
	if limit <= 0 || window <= 0 {
		return Decision{Allowed: true}, nil
	}
	now := g.now()
	set := "ds|" + key
	h := sha256.Sum256([]byte(value))
	member := "dsv|" + strconv.Itoa(len(key)) + ":" + key + "|" + hex.EncodeToString(h[:])
	n, err := g.store.RecordFailure(ctx, set, now, window)
	if err != nil {
		return Decision{}, fmt.Errorf("guard: distinct values: %w", err)
	}
	d := Decision{Limit: limit, Reset: now.Add(window)}
	known := 0
	if n <= limit {
		known, err = g.store.RecordFailure(ctx, member, now, window)
		d.Allowed, known = true, known-1 // the mark this call made is not a sign of an earlier one
	} else if known, err = g.store.GetCounter(ctx, member, now); err == nil && known > 0 {
		_, err = g.store.RecordFailure(ctx, member, now, window) // an admitted value's window moves on with the set's
		d.Allowed = true
	}
	if err != nil {
		return Decision{}, fmt.Errorf("guard: distinct values: %w", err)
	}
	if !d.Allowed || known > 0 {
		if err := g.store.DecrementCounter(ctx, set); err != nil {
			return Decision{}, fmt.Errorf("guard: distinct values: %w", err)
		}
		n--
	}
	d.Remaining = max(0, limit-n)
	if d.Allowed {
		return d, nil
	}
	d.RetryAt = d.Reset
	d.Log, err = g.firstRefusal(ctx, key, now)
	return d, err
}

// Keys of the request rate limits, one namespace each so that a client id can never collide
// with an IP address or a refresh-token family.
func ClientRateKey(clientID string) string { return "client|" + clientID }

// IPRateKey is the bucket of one client address: an IPv4 address, or the IPv6 network it is
// counted in (Options.IPv6Prefix).
func (g *Guard) IPRateKey(ip string) string { return "ip|" + g.clientNet(ip) }

// PublicClientRateKey is the bucket of a public client (one that cannot authenticate) as used
// from one client address. Anyone can name a public client's client_id, so a bucket of the
// client alone would let one caller spend it for every user of the application; per address,
// a caller spends only their own.
func (g *Guard) PublicClientRateKey(clientID, ip string) string {
	return "pclient|" + strconv.Itoa(len(clientID)) + ":" + clientID + "|" + g.clientNet(ip)
}

// RefreshRateKey is the bucket of one refresh-token family.
func RefreshRateKey(familyID string) string { return "rtf|" + familyID }

// MFATokenSendKey is the bucket of the MFA codes sent for one mfa_token transaction.
func MFATokenSendKey(transactionID string) string { return "mfasend|tx|" + transactionID }

// MFAUserSendKey is the bucket of the MFA codes sent for one user.
func MFAUserSendKey(userID string) string { return "mfasend|user|" + userID }

// MFAIPSendKey is the bucket of the MFA codes sent at the request of one client address (an
// IPv4 address, or the IPv6 network it is counted in, as IPRateKey).
func (g *Guard) MFAIPSendKey(ip string) string { return "mfasend|ip|" + g.clientNet(ip) }

// MFARecipientsKey is the set of the addresses and numbers one user's enrolments tried.
func MFARecipientsKey(userID string) string { return "mfarcpt|" + userID }

func sameUserIPKey(a *Attempt) string { return "sul|" + a.subject() + "|" + a.net }

// ResetUnix is Reset as the X-RateLimit-Reset header sends it (Unix seconds, as Auth0 does),
// rounded up: a reset is never announced before the bucket is full.
func (d Decision) ResetUnix() int64 {
	reset := d.Reset.Unix()
	if d.Reset.Nanosecond() > 0 {
		reset++
	}
	return reset
}

// RetryAfter is how many whole seconds (at least 1) after now a refused request may be
// retried: the Retry-After header's value (RFC 9110 §10.2.3).
func (d Decision) RetryAfter(now time.Time) int64 {
	wait := d.RetryAt.Sub(now)
	return max(int64((wait+time.Second-1)/time.Second), 1)
}

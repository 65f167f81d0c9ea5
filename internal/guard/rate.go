package guard

import (
	"context"
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
func PerMinute(n int) Rate {
	if n <= 0 {
		return Rate{}
	}
	return Rate{Burst: n, Every: time.Minute / time.Duration(n)}
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
	n, err := g.store.RecordFailure(ctx, "rllog|"+key, now, time.Minute)
	if err != nil {
		return d, fmt.Errorf("guard: rate limit: %w", err)
	}
	d.Log = n == 1
	return d, nil
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

func sameUserIPKey(a *Attempt) string { return "sul|" + a.subject() + "|" + a.net }

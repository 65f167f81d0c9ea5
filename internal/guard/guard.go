package guard

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// Reason says which protection blocked a login.
type Reason int

// The reasons a login is blocked.
const (
	BruteForce Reason = iota + 1
	SuspiciousIP
	BreachedPassword
	// SameUserIPRate is Auth0's limit on logins of one user from one IP (limit_sul).
	SameUserIPRate
)

func (r Reason) String() string {
	switch r {
	case BruteForce:
		return "brute force"
	case SuspiciousIP:
		return "suspicious IP"
	case BreachedPassword:
		return "breached password"
	case SameUserIPRate:
		return "same user and IP rate"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// BlockedError is returned for a login that attack protection refuses.
type BlockedError struct {
	Reason Reason
	// RetryAfter, when not zero, is how long until the login may be tried again (a rate
	// limit).
	RetryAfter time.Duration
	// Events are tenant log events the caller should record for this refusal.
	Events []Event
}

func (e *BlockedError) Error() string { return "guard: login blocked: " + e.Reason.String() }

// Event is a tenant log event the caller should record, with Auth0's code.
type Event struct {
	Type        string
	Description string
	// Notify says who the caller should tell, per the tenant's shields: NotifyUser (the
	// user_notification shield), NotifyAdmins (admin_notification), or both. What the notice
	// says depends on Type: a brute-force block mails the user an unblock link, a breached
	// password asks them to change it.
	Notify Notify
}

// Notify is who is told of an attack-protection event: a set of the flags below.
type Notify int

// Who is told.
const (
	NotifyNobody Notify = 0
	NotifyUser   Notify = 1 << (iota - 1)
	NotifyAdmins
)

// The tenant log events of attack protection (WIRE.md §7).
var (
	eventBruteForce = Event{Type: "limit_wc", Description: "Blocked account: too many consecutive failed logins"}
	eventIPThrottle = Event{Type: "limit_mu", Description: "Blocked IP address: too many failed logins from this IP"}
	eventBreached   = Event{Type: "pwd_leak", Description: "Breached password"}
	eventSameUserIP = Event{Type: "limit_sul", Description: "Blocked account: too many logins for this user from this IP address"}
)

// Store is what Guard needs of the store.
type Store interface {
	store.Tenants
	store.Counters
	store.BreachedPasswords
}

// Guard applies the tenant's attack-protection settings. It is safe for concurrent use.
type Guard struct {
	store Store
	now   func() time.Time
}

// New returns a Guard over st; now is the clock (nil: time.Now).
func New(st Store, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{store: st, now: now}
}

// Attempt is one login attempt, passed to Check and then to Failure or Success.
type Attempt struct {
	// Identifier is the username or email as sent; it is compared lower-cased.
	Identifier string
	// IP is the end user's address (the TCP peer, or a trusted auth0-forwarded-for).
	IP string
	// Tenant, when not nil, is the tenant as the caller already read it for this request;
	// Check reads it from the store otherwise.
	Tenant *store.Tenant

	policy policy
	count  int  // this attempt's brute-force count, 0 when not counted
	judged bool // Failure or Success was called
}

// Check runs before the password is verified. It refuses a blocked (identifier, IP) pair or a
// throttled IP with a *BlockedError, even when the password would be right.
//
// Brute force counts the attempt here, before the password is checked, and a success resets
// the count: a burst of parallel guesses thus gets at most max_attempts verifications, where a
// count kept only after failures would let every request of the burst through the check.
// The price: one pair can have at most max_attempts logins in flight at once (more are refused
// until one is judged), which only a single account hammered from one IP would notice. Callers
// defer Abandon so that a login shed before its password was judged gives its count back.
// Monitoring mode (no block shield) counts and logs but never refuses.
func (g *Guard) Check(ctx context.Context, a *Attempt) error {
	t := a.Tenant
	if t == nil {
		stored, err := g.store.GetTenant(ctx)
		if err != nil {
			return fmt.Errorf("guard: reading settings: %w", err)
		}
		t = &stored
	}
	a.policy = effective(t.AttackProtection)
	a.count = 0
	p, now := &a.policy, g.now()
	if p.ip.Enabled && p.ipBlock && !allowed(p.ipAllow, a.IP) {
		n, err := g.store.GetCounter(ctx, ipBlockKey(a.IP), now)
		if err != nil {
			return fmt.Errorf("guard: reading IP throttle: %w", err)
		}
		if n > 0 {
			return &BlockedError{Reason: SuspiciousIP}
		}
	}
	if p.bf.Enabled && !allowed(p.bfAllow, a.IP) {
		n, err := g.store.RecordFailure(ctx, g.pairKey(a), now, CounterExpiry)
		if err != nil {
			return fmt.Errorf("guard: counting attempt: %w", err)
		}
		a.count = n
		if n > p.maxAttempts && p.bfBlock {
			return &BlockedError{Reason: BruteForce}
		}
	}
	// Same user and IP comes last, so that a pair already refused by brute force does not
	// spend its logins. It holds whatever the tenant's settings (Auth0 applies it to every
	// tenant), allowlisted IPs included.
	d, err := g.Take(ctx, sameUserIPKey(a), SameUserIP)
	if err != nil {
		return err
	}
	if !d.Allowed {
		// This attempt will not be judged: give back its brute-force count.
		if err := g.Abandon(ctx, a); err != nil {
			return err
		}
		be := &BlockedError{Reason: SameUserIPRate, RetryAfter: d.RetryAt.Sub(g.now())}
		if d.Log {
			be.Events = []Event{eventSameUserIP}
		}
		return be
	}
	return nil
}

// Failure records a wrong password (or an unknown user) for an attempt that passed Check. The
// failure that reaches max_attempts still answers wrong credentials and logs limit_wc; the pair
// is refused from the next attempt on. Each failure also takes a token from the IP's bucket;
// the failure that empties it logs limit_mu and, with the block shield, throttles the IP until
// a token comes back.
func (g *Guard) Failure(ctx context.Context, a *Attempt) ([]Event, error) {
	var evs []Event
	a.judged = true
	p, now := &a.policy, g.now()
	if a.count == p.maxAttempts {
		ev := eventBruteForce
		if p.bfNotify {
			ev.Notify = NotifyUser
		}
		evs = append(evs, ev)
	}
	if !p.ip.Enabled || allowed(p.ipAllow, a.IP) {
		return evs, nil
	}
	ok, remaining, resetAt, err := g.store.TakeToken(ctx, ipBucketKey(a.IP), p.ipCapacity, p.ipRefill, now)
	if err != nil {
		return evs, fmt.Errorf("guard: taking an IP token: %w", err)
	}
	if ok && remaining > 0 {
		return evs, nil
	}
	next := resetAt // refused: when one token is back
	if ok {
		ev := eventIPThrottle // this failure emptied the bucket
		if p.ipNotify {
			ev.Notify = NotifyAdmins
		}
		evs = append(evs, ev)
		next = resetAt.Add(-time.Duration(p.ipCapacity-1) * p.ipRefill)
	}
	if p.ipBlock && next.After(now) {
		if _, err := g.store.RecordFailure(ctx, ipBlockKey(a.IP), now, next.Sub(now)); err != nil {
			return evs, fmt.Errorf("guard: throttling IP: %w", err)
		}
	}
	return evs, nil
}

// Success records a verified password: the pair's brute-force count starts again.
func (g *Guard) Success(ctx context.Context, a *Attempt) error {
	a.judged = true
	if a.count == 0 {
		return nil
	}
	if err := g.store.ResetCounter(ctx, g.pairKey(a)); err != nil {
		return fmt.Errorf("guard: resetting attempts: %w", err)
	}
	return nil
}

// Abandon gives back the count Check took for an attempt whose password was never judged (the
// server shed it, or the directory failed): load shedding must not lock users out. It takes
// back only this attempt's count, so it cannot be used to wipe earlier failures. After Failure
// or Success it does nothing, so a caller may defer it.
func (g *Guard) Abandon(ctx context.Context, a *Attempt) error {
	if a.count == 0 || a.judged {
		return nil
	}
	a.count = 0
	if err := g.store.DecrementCounter(ctx, g.pairKey(a)); err != nil {
		return fmt.Errorf("guard: giving back an attempt: %w", err)
	}
	return nil
}

// Unblock releases every brute-force block of the identifiers (a user's email and username),
// from every IP, and returns how many counters it removed. An admin's unblock and a password
// change call it.
func (g *Guard) Unblock(ctx context.Context, identifiers ...string) (int, error) {
	total := 0
	for _, id := range identifiers {
		if id == "" {
			continue
		}
		n, err := g.store.ResetCounters(ctx, identifierPrefix(id))
		if err != nil {
			return total, fmt.Errorf("guard: unblocking: %w", err)
		}
		total += n
	}
	return total, nil
}

// Block is one brute-force block: Identifier (lower-cased) is refused from IP.
type Block struct {
	Identifier string
	// IP is empty in count_per_identifier mode, where the block holds from every IP not
	// allowlisted.
	IP string
	// Attempts is the pair's count: failures, plus the refused attempts since the block.
	Attempts int
	// Until is when the block lapses unless released first; each refused attempt pushes it
	// back (CounterExpiry after the last attempt).
	Until time.Time
}

// Blocks returns the brute-force blocks of the identifiers (a user's email and username) from
// every IP, as Check would judge them now: the tenant's current mode, max_attempts, allowlist
// and block shield decide, so counters left by other settings, and those of monitoring mode,
// are not blocks. Unblock releases them.
func (g *Guard) Blocks(ctx context.Context, identifiers ...string) ([]Block, error) {
	t, err := g.store.GetTenant(ctx)
	if err != nil {
		return nil, fmt.Errorf("guard: reading settings: %w", err)
	}
	p := effective(t.AttackProtection)
	if !p.bf.Enabled || !p.bfBlock {
		return nil, nil
	}
	now := g.now()
	var out []Block
	seen := map[string]bool{}
	for _, id := range identifiers {
		prefix := identifierPrefix(id)
		if id == "" || seen[prefix] {
			continue // a username that is also the email is one identifier
		}
		seen[prefix] = true
		cs, err := g.store.ListCounters(ctx, prefix, now)
		if err != nil {
			return nil, fmt.Errorf("guard: listing blocks: %w", err)
		}
		for _, c := range cs {
			ip := c.Key[len(prefix):]
			// Each mode reads only its own keys: per identifier has no IP part.
			if (ip == "") != (p.bf.Mode == ModePerIdentifier) {
				continue
			}
			// Check refuses the attempt that takes the count past max_attempts, so a stored
			// count at max_attempts already refuses the next one. An allowlisted IP is never
			// checked.
			if c.Hits < p.maxAttempts || (ip != "" && allowed(p.bfAllow, ip)) {
				continue
			}
			out = append(out, Block{Identifier: strings.ToLower(id), IP: ip, Attempts: c.Hits, Until: c.ExpiresAt})
		}
	}
	return out, nil
}

// Counter keys. The identifier is length-prefixed so that one identifier's prefix never
// matches another's ("a|b" and "a").
func identifierPrefix(id string) string {
	id = strings.ToLower(id)
	return "bf|" + strconv.Itoa(len(id)) + ":" + id + "|"
}

func (g *Guard) pairKey(a *Attempt) string {
	if a.policy.bf.Mode == ModePerIdentifier {
		return identifierPrefix(a.Identifier)
	}
	return identifierPrefix(a.Identifier) + a.IP
}

func ipBucketKey(ip string) string { return "ip|" + ip }
func ipBlockKey(ip string) string  { return "ipblock|" + ip }

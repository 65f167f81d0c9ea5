package guard

import (
	"context"
	"fmt"
	"net/netip"
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
	store  Store
	now    func() time.Time
	v6Bits int
}

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one client by default: a
// /64 is the smallest network an ISP hands a subscriber (RFC 6177), who can pick any of its
// 2^64 addresses at will, so counting per /128 would give one attacker unlimited buckets.
const DefaultIPv6Prefix = 64

// Options are a Guard's deployment settings (from the server config; the tenant's settings
// are read with each attempt).
type Options struct {
	// IPv6Prefix is the length of the IPv6 network counted as one client by the per-IP
	// counters: suspicious-IP throttling, brute force per identifier and IP, the same user
	// and IP limit and the per-IP request rate limits. 0 is DefaultIPv6Prefix; 128 counts
	// each address alone. IPv4 addresses (IPv4-mapped IPv6 ones included) always count
	// alone. Allowlists are matched against the full address.
	IPv6Prefix int
}

// New returns a Guard over st; now is the clock (nil: time.Now).
func New(st Store, now func() time.Time, o Options) *Guard {
	if now == nil {
		now = time.Now
	}
	bits := o.IPv6Prefix
	if bits <= 0 || bits > 128 {
		bits = DefaultIPv6Prefix
	}
	return &Guard{store: st, now: now, v6Bits: bits}
}

// Attempt is one login attempt, passed to Check and then to Failure or Success.
type Attempt struct {
	// Identifier is the username or email as sent; it is compared lower-cased.
	Identifier string
	// UserID is the user the identifier names, when the caller resolved it before checking
	// the password (directory.Resolver); empty for an identifier that names nobody. Brute
	// force and the same user and IP limit count per user when it is set, so that a user's
	// email and username share one count, and per identifier otherwise: an unknown name is
	// counted like a known one, by the same statements, and refused with the same answer.
	UserID string
	// IP is the end user's address (the TCP peer, or a trusted auth0-forwarded-for).
	IP string
	// Tenant, when not nil, is the tenant as the caller already read it for this request;
	// Check reads it from the store otherwise.
	Tenant *store.Tenant

	policy  policy
	net     string // the client network of IP, as the counters name it
	count   int    // this attempt's brute-force count, 0 when not counted
	ipToken bool   // Check took a token from the IP's bucket
	ipLast  bool   // ... and it was the last one
	judged  bool   // Failure or Success was called
}

// Check runs before the password is verified. It refuses a blocked (identifier, IP) pair or a
// throttled IP with a *BlockedError, even when the password would be right.
//
// Both counts are taken here, before the password is checked, and given back by a success:
// brute force counts the attempt, and suspicious-IP throttling takes a token from the IP's
// bucket. A burst of parallel guesses thus gets at most max_attempts verifications per pair and
// at most the bucket's size per IP, where counts kept only after failures would let every
// request of the burst through the check. The price: one pair can have at most max_attempts
// logins in flight at once, and one IP as many as its bucket holds (more are refused until one
// is judged), which only a single account or a single address hammering the server would
// notice. Callers defer Abandon so that a login shed before its password was judged gives its
// counts back. Monitoring mode (no block shield) counts and logs but never refuses.
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
	a.net = g.clientNet(a.IP)
	a.count, a.ipToken, a.ipLast, a.judged = 0, false, false, false
	p, now := &a.policy, g.now()
	if p.ip.Enabled && !allowed(p.ipAllow, a.IP) {
		ok, remaining, _, err := g.store.TakeToken(ctx, ipBucketKey(a.net), p.ipCapacity, p.ipRefill, now)
		if err != nil {
			return fmt.Errorf("guard: taking an IP token: %w", err)
		}
		switch {
		case ok:
			a.ipToken, a.ipLast = true, remaining == 0
		case p.ipBlock:
			return &BlockedError{Reason: SuspiciousIP}
		}
	}
	if p.bf.Enabled && !allowed(p.bfAllow, a.IP) {
		n, err := g.store.RecordFailure(ctx, g.pairKey(a), now, CounterExpiry)
		if err != nil {
			return g.abandonWith(ctx, a, fmt.Errorf("guard: counting attempt: %w", err))
		}
		a.count = n
		if n > p.maxAttempts && p.bfBlock {
			// A refused attempt keeps its brute-force count (each pushes the block back) but
			// was no guess against the IP's bucket.
			if err := g.returnIPToken(ctx, a); err != nil {
				return err
			}
			return &BlockedError{Reason: BruteForce}
		}
	}
	// Same user and IP comes last, so that a pair already refused by brute force does not
	// spend its logins. It holds whatever the tenant's settings (Auth0 applies it to every
	// tenant), allowlisted IPs included.
	d, err := g.Take(ctx, sameUserIPKey(a), SameUserIP)
	if err != nil {
		return g.abandonWith(ctx, a, err)
	}
	if !d.Allowed {
		// This attempt will not be judged: give back its counts.
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

// Failure records a wrong password (or an unknown user) for an attempt that passed Check: the
// attempt keeps its brute-force count and its IP token. The failure that reaches max_attempts
// still answers wrong credentials and logs limit_wc; the pair is refused from the next attempt
// on. The failure that spent the IP bucket's last token logs limit_mu; with the block shield
// the IP is refused until a token comes back.
func (g *Guard) Failure(ctx context.Context, a *Attempt) ([]Event, error) {
	var evs []Event
	a.judged = true
	p := &a.policy
	if a.count == p.maxAttempts {
		ev := eventBruteForce
		if p.bfNotify {
			ev.Notify = NotifyUser
		}
		evs = append(evs, ev)
	}
	if a.ipLast {
		ev := eventIPThrottle
		if p.ipNotify {
			ev.Notify = NotifyAdmins
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// Success records a verified password: the pair's brute-force count starts again, and the IP
// token goes back (throttling counts failed logins only).
func (g *Guard) Success(ctx context.Context, a *Attempt) error {
	a.judged = true
	if err := g.returnIPToken(ctx, a); err != nil {
		return err
	}
	if a.count == 0 {
		return nil
	}
	if err := g.store.ResetCounter(ctx, g.pairKey(a)); err != nil {
		return fmt.Errorf("guard: resetting attempts: %w", err)
	}
	return nil
}

// Abandon gives back the counts Check took for an attempt whose password was never judged (the
// server shed it, or the directory failed): load shedding must not lock users out. It takes
// back only this attempt's counts, so it cannot be used to wipe earlier failures. After Failure
// or Success it does nothing, so a caller may defer it.
func (g *Guard) Abandon(ctx context.Context, a *Attempt) error {
	if a.judged {
		return nil
	}
	if err := g.returnIPToken(ctx, a); err != nil {
		return err
	}
	if a.count == 0 {
		return nil
	}
	a.count = 0
	if err := g.store.DecrementCounter(ctx, g.pairKey(a)); err != nil {
		return fmt.Errorf("guard: giving back an attempt: %w", err)
	}
	return nil
}

// abandonWith gives back what Check took before it failed with err, and returns err.
func (g *Guard) abandonWith(ctx context.Context, a *Attempt, err error) error {
	if aerr := g.Abandon(ctx, a); aerr != nil {
		return fmt.Errorf("%w (and %w)", err, aerr)
	}
	return err
}

// returnIPToken puts back the IP token the attempt holds, once.
func (g *Guard) returnIPToken(ctx context.Context, a *Attempt) error {
	if !a.ipToken {
		return nil
	}
	a.ipToken, a.ipLast = false, false
	if err := g.store.ReturnToken(ctx, ipBucketKey(a.net), a.policy.ipRefill, g.now()); err != nil {
		return fmt.Errorf("guard: giving back an IP token: %w", err)
	}
	return nil
}

// Unblock releases every brute-force block of a user, from every IP, and returns how many
// counters it removed: those of the user itself (userID, counted since logins resolve the
// user) and those of its identifiers (email and username, counted while no user had them).
// Either may be empty. An admin's unblock, an unblock link and a password change call it.
func (g *Guard) Unblock(ctx context.Context, userID string, identifiers ...string) (int, error) {
	total := 0
	for _, sub := range subjects(userID, identifiers) {
		n, err := g.store.ResetCounters(ctx, sub.prefix)
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
	// UserID is set when the count is the user's own (every identifier of the user shares
	// it); empty for a count of the identifier alone.
	UserID string
	// IP is empty in count_per_identifier mode, where the block holds from every IP not
	// allowlisted. An IPv6 client is named by its network (2001:db8:1:2::/64), the unit it
	// is counted in.
	IP string
	// Attempts is the pair's count: failures, plus the refused attempts since the block.
	Attempts int
	// Until is when the block lapses unless released first; each refused attempt pushes it
	// back (CounterExpiry after the last attempt).
	Until time.Time
}

// Blocks returns the brute-force blocks of a user (userID) and of identifiers (the user's email
// and username, or a name that may belong to nobody), from every IP, as Check would judge
// them now: the tenant's current mode, max_attempts, allowlist and block shield decide, so
// counters left by other settings, and those of monitoring mode, are not blocks. A block of
// the user is reported under the first identifier given. Unblock releases them.
func (g *Guard) Blocks(ctx context.Context, userID string, identifiers ...string) ([]Block, error) {
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
	for _, sub := range subjects(userID, identifiers) {
		cs, err := g.store.ListCounters(ctx, sub.prefix, now)
		if err != nil {
			return nil, fmt.Errorf("guard: listing blocks: %w", err)
		}
		for _, c := range cs {
			ip := c.Key[len(sub.prefix):]
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
			out = append(out, Block{Identifier: sub.label, UserID: sub.userID, IP: ip, Attempts: c.Hits, Until: c.ExpiresAt})
		}
	}
	return out, nil
}

// subject is one brute-force count holder: a user or an identifier, with the prefix of its
// counters and the identifier it is reported under.
type subject struct {
	prefix, label, userID string
}

// subjects lists the distinct count holders of a user and its identifiers; the user's counts
// are labelled with its first identifier.
func subjects(userID string, identifiers []string) []subject {
	var out []subject
	label := ""
	for _, id := range identifiers {
		if id != "" {
			label = strings.ToLower(id)
			break
		}
	}
	if userID != "" {
		out = append(out, subject{prefix: "bf|" + userSubject(userID) + "|", label: label, userID: userID})
	}
	seen := map[string]bool{}
	for _, id := range identifiers {
		id = strings.ToLower(id)
		if id == "" || seen[id] {
			continue // a username that is also the email is one identifier
		}
		seen[id] = true
		out = append(out, subject{prefix: "bf|" + identifierSubject(id) + "|", label: id})
	}
	return out
}

// Counter keys. A subject is length-prefixed so that one's prefix never matches another's
// ("a|b" and "a"); a user's starts with "u", an identifier's with its length, so the two
// namespaces never meet.
func identifierSubject(id string) string {
	id = strings.ToLower(id)
	return strconv.Itoa(len(id)) + ":" + id
}

func userSubject(userID string) string { return "u" + strconv.Itoa(len(userID)) + ":" + userID }

// subject is whom the attempt counts against: its user when resolved, else its identifier.
func (a *Attempt) subject() string {
	if a.UserID != "" {
		return userSubject(a.UserID)
	}
	return identifierSubject(a.Identifier)
}

func (g *Guard) pairKey(a *Attempt) string {
	if a.policy.bf.Mode == ModePerIdentifier {
		return "bf|" + a.subject() + "|"
	}
	return "bf|" + a.subject() + "|" + a.net
}

func ipBucketKey(network string) string { return "ip|" + network }

// clientNet names the client an address is counted as: an IPv4 address alone (unmapped from
// ::ffff:a.b.c.d, so one client has one name), an IPv6 address by its network of g.v6Bits
// bits. A value that is no address is used as it is.
func (g *Guard) clientNet(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() || g.v6Bits >= 128 {
		return a.String()
	}
	return netip.PrefixFrom(a, g.v6Bits).Masked().String()
}

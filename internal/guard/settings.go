package guard

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// Shields, modes and methods of Auth0's attack-protection settings.
const (
	ShieldBlock             = "block"
	ShieldUserNotification  = "user_notification"
	ShieldAdminNotification = "admin_notification"

	ModePerIdentifierAndIP = "count_per_identifier_and_ip"
	ModePerIdentifier      = "count_per_identifier"

	MethodStandard = "standard"
	MethodEnhanced = "enhanced"
)

// Auth0's default limits.
const (
	// DefaultMaxAttempts is brute-force protection's default threshold (Auth0 allows 1–100).
	DefaultMaxAttempts = 10
	// DefaultIPMaxAttempts and DefaultIPRate are the pre-login bucket: 100 attempts, one back
	// every 864 000 ms (100 a day).
	DefaultIPMaxAttempts = 100
	DefaultIPRate        = 864000
	// DefaultSignupMaxAttempts and DefaultSignupRate are the pre-user-registration bucket.
	DefaultSignupMaxAttempts = 50
	DefaultSignupRate        = 1200
	// CounterExpiry is how long a brute-force count lives after its last failure: Auth0
	// releases a block after 30 days without failures.
	CounterExpiry = 30 * 24 * time.Hour
)

// Defaults returns Auth0's default settings: brute-force protection and suspicious-IP
// throttling on, with every shield; breached-password detection off.
//
// In a tenant file (Deploy CLI shape) they read:
//
//	attackProtection:
//	  bruteForceProtection:
//	    enabled: true
//	    shields: [block, user_notification]
//	    mode: count_per_identifier_and_ip
//	    allowlist: []
//	    max_attempts: 10
//	  suspiciousIpThrottling:
//	    enabled: true
//	    shields: [admin_notification, block]
//	    allowlist: []
//	    stage:
//	      pre-login: {max_attempts: 100, rate: 864000}
//	      pre-user-registration: {max_attempts: 50, rate: 1200}
//	  breachedPasswordDetection:
//	    enabled: false
//	    shields: []
//	    method: standard
func Defaults() store.AttackProtection {
	return store.AttackProtection{
		BruteForce: store.BruteForceProtection{Enabled: true, Shields: []string{ShieldBlock, ShieldUserNotification},
			Mode: ModePerIdentifierAndIP, Allowlist: []string{}, MaxAttempts: DefaultMaxAttempts},
		SuspiciousIP: store.SuspiciousIPThrottling{Enabled: true, Shields: []string{ShieldAdminNotification, ShieldBlock},
			Allowlist: []string{}, Stage: store.ThrottleStages{
				PreLogin:            store.ThrottleStage{MaxAttempts: DefaultIPMaxAttempts, Rate: DefaultIPRate},
				PreUserRegistration: store.ThrottleStage{MaxAttempts: DefaultSignupMaxAttempts, Rate: DefaultSignupRate},
			}},
		Breached: store.BreachedPasswordDetection{Enabled: false, Shields: []string{}, Method: MethodStandard},
	}
}

// Validate reports every problem of ap, a complete settings object (start from Defaults), at
// once, each prefixed with its Auth0 field path.
func Validate(ap store.AttackProtection) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	shields := func(path string, got []string, allowed ...string) {
		for _, s := range got {
			if !slices.Contains(allowed, s) {
				bad("%s: unknown shield %q (want one of %s)", path, s, strings.Join(allowed, ", "))
			}
		}
	}
	bf := ap.BruteForce
	shields("bruteForceProtection.shields", bf.Shields, ShieldBlock, ShieldUserNotification)
	if bf.Mode != ModePerIdentifierAndIP && bf.Mode != ModePerIdentifier {
		bad("bruteForceProtection.mode: %q is neither %s nor %s", bf.Mode, ModePerIdentifierAndIP, ModePerIdentifier)
	}
	if bf.MaxAttempts < 1 || bf.MaxAttempts > 100 {
		bad("bruteForceProtection.max_attempts: %d is not between 1 and 100", bf.MaxAttempts)
	}
	if _, err := ParseAllowlist(bf.Allowlist); err != nil {
		bad("bruteForceProtection.allowlist: %w", err)
	}
	ip := ap.SuspiciousIP
	shields("suspiciousIpThrottling.shields", ip.Shields, ShieldBlock, ShieldAdminNotification)
	if _, err := ParseAllowlist(ip.Allowlist); err != nil {
		bad("suspiciousIpThrottling.allowlist: %w", err)
	}
	for name, st := range map[string]store.ThrottleStage{"pre-login": ip.Stage.PreLogin, "pre-user-registration": ip.Stage.PreUserRegistration} {
		if st.MaxAttempts < 1 {
			bad("suspiciousIpThrottling.stage.%s.max_attempts: %d is not positive", name, st.MaxAttempts)
		}
		if st.Rate < 1 {
			bad("suspiciousIpThrottling.stage.%s.rate: %d is not positive", name, st.Rate)
		}
	}
	br := ap.Breached
	shields("breachedPasswordDetection.shields", br.Shields, ShieldBlock, ShieldUserNotification, ShieldAdminNotification)
	if br.Method != MethodStandard && br.Method != MethodEnhanced {
		bad("breachedPasswordDetection.method: %q is neither %s nor %s", br.Method, MethodStandard, MethodEnhanced)
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// ErrBadAllowlist is wrapped around an allowlist entry that is neither an IP address nor a
// CIDR range.
var ErrBadAllowlist = errors.New("not an IP address or CIDR range")

// ParseAllowlist parses IP addresses and CIDR ranges, IPv4 or IPv6 ("10.0.0.1",
// "10.0.0.0/8", "2001:db8::/32"). A bare address is a range of one. Every bad entry is
// reported.
func ParseAllowlist(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	var errs []error
	for _, e := range entries {
		s := strings.TrimSpace(e)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil && a.Zone() != "" {
				err = errors.New("zoned address")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", e, ErrBadAllowlist))
			continue
		}
		// An IPv4-mapped IPv6 range is matched as the IPv4 range it maps.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, errors.Join(errs...)
}

// allowed reports whether ip (a textual address, perhaps IPv4-mapped, or the IPv6 network a
// counter names a client by) falls in list; a network is allowed when an entry covers all of it.
func allowed(list []netip.Prefix, ip string) bool {
	if n, err := netip.ParsePrefix(ip); err == nil {
		return slices.ContainsFunc(list, func(p netip.Prefix) bool { return p.Bits() <= n.Bits() && p.Contains(n.Addr()) })
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	// An IPv6 range wider than /96 (such as ::/0) can cover ::ffff:0:0/96, the IPv4-mapped
	// space, so an IPv4 client is also tested in its mapped form.
	var mapped netip.Addr
	if a.Is4() {
		mapped = netip.AddrFrom16(a.As16())
	}
	for _, p := range list {
		if p.Contains(a) || (mapped.IsValid() && p.Contains(mapped)) {
			return true
		}
	}
	return false
}

// policy is the effective settings: defaults filled in, allowlists parsed.
type policy struct {
	bf          store.BruteForceProtection
	bfAllow     []netip.Prefix
	bfBlock     bool
	bfNotify    bool
	maxAttempts int
	ip          store.SuspiciousIPThrottling
	ipAllow     []netip.Prefix
	ipBlock     bool
	ipNotify    bool
	ipCapacity  int
	ipRefill    time.Duration
	breached    store.BreachedPasswordDetection
	brBlock     bool
	brNotify    Notify
}

// effective turns stored settings (nil: the defaults) into a policy. Entries that do not
// parse are skipped: Validate refuses them before they are stored.
func effective(ap *store.AttackProtection) policy {
	s := Defaults()
	if ap != nil {
		s = *ap
	}
	p := policy{bf: s.BruteForce, ip: s.SuspiciousIP, breached: s.Breached}
	p.bfAllow, _ = ParseAllowlist(s.BruteForce.Allowlist)
	p.ipAllow, _ = ParseAllowlist(s.SuspiciousIP.Allowlist)
	p.bfBlock = slices.Contains(s.BruteForce.Shields, ShieldBlock)
	p.ipBlock = slices.Contains(s.SuspiciousIP.Shields, ShieldBlock)
	p.bfNotify = slices.Contains(s.BruteForce.Shields, ShieldUserNotification)
	p.ipNotify = slices.Contains(s.SuspiciousIP.Shields, ShieldAdminNotification)
	p.brBlock = slices.Contains(s.Breached.Shields, ShieldBlock)
	if slices.Contains(s.Breached.Shields, ShieldUserNotification) {
		p.brNotify |= NotifyUser
	}
	if slices.Contains(s.Breached.Shields, ShieldAdminNotification) {
		p.brNotify |= NotifyAdmins
	}
	p.maxAttempts = cmpOr(s.BruteForce.MaxAttempts, DefaultMaxAttempts)
	p.ipCapacity = cmpOr(s.SuspiciousIP.Stage.PreLogin.MaxAttempts, DefaultIPMaxAttempts)
	p.ipRefill = time.Duration(cmpOr(s.SuspiciousIP.Stage.PreLogin.Rate, DefaultIPRate)) * time.Millisecond
	return p
}

func cmpOr[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

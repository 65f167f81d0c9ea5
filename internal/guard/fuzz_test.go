package guard_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/guard"
)

// FuzzParseAllowlist checks that any entry either parses into a masked prefix that lets the
// address it names through (as the allowlist matches a client address), or fails with
// ErrBadAllowlist; it never panics.
func FuzzParseAllowlist(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/8", "2001:db8::/32", "::ffff:1.2.3.4", "::ffff:10.0.0.0/104",
		"fe80::1%eth0", "1.2.3.4/33", "", "/", "1.2.3.4/", " 10.0.0.1 ", "::/0", "0.0.0.0/0", "::ffff:0.0.0.0/0", "::ffff:1.2.3.4/95"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := guard.ParseAllowlist([]string{s})
		if err != nil {
			if !errors.Is(err, guard.ErrBadAllowlist) {
				t.Fatalf("ParseAllowlist(%q): got error %v, want ErrBadAllowlist", s, err)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("ParseAllowlist(%q): got %d prefixes, want 1", s, len(got))
		}
		p := got[0]
		if p != p.Masked() {
			t.Errorf("ParseAllowlist(%q): got %v, want a masked prefix", s, p)
		}
		addr, _, _ := strings.Cut(strings.TrimSpace(s), "/")
		if a, err := netip.ParseAddr(addr); err == nil && !guard.Allowed(got, addr) {
			t.Errorf("ParseAllowlist(%q) = %v: does not contain its own address %v", s, p, a)
		}
	})
}

// FuzzParseHashLine checks that an accepted line yields 40 upper-case hex digits.
func FuzzParseHashLine(f *testing.F) {
	for _, s := range []string{"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
		"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:", "short:1", "", "ZZAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := guard.ParseHashLine(s)
		if err != nil {
			if !errors.Is(err, guard.ErrBadHashLine) {
				t.Fatalf("ParseHashLine(%q): got error %v, want ErrBadHashLine", s, err)
			}
			return
		}
		if len(h) != 40 || strings.ToUpper(h) != h || strings.Trim(h, "0123456789ABCDEF") != "" {
			t.Errorf("ParseHashLine(%q): got %q, want 40 upper-case hex digits", s, h)
		}
	})
}

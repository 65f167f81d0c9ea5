package oauthserver

import (
	"net/netip"
	"strings"
	"testing"
)

var testProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"untrusted peer ignores the header", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer, one hop", "10.0.0.2", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client's own claims left of the real hop are ignored", "10.0.0.2", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.2", []string{"198.51.100.1, 10.1.1.1, 10.2.2.2"}, "198.51.100.1"},
		{"several header lines read as one list", "10.0.0.2", []string{"1.2.3.4", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"no header: the proxy itself", "10.0.0.2", nil, "10.0.0.2"},
		{"all trusted: leftmost", "10.0.0.2", []string{"10.5.5.5, 10.6.6.6"}, "10.5.5.5"},
		{"garbage stops at the last trusted hop", "10.0.0.2", []string{"198.51.100.1, not-an-ip, 10.7.7.7"}, "10.7.7.7"},
		{"garbage right after the peer", "10.0.0.2", []string{"x"}, "10.0.0.2"},
		{"entries with ports", "10.0.0.2", []string{"[2001:db8::5]:443, 198.51.100.1:8080"}, "198.51.100.1"},
		{"IPv6 proxy and client", "2001:db8:ffff::1", []string{"2001:db8::7"}, "2001:db8::7"},
		{"mapped IPv4 is unmapped", "10.0.0.2", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"empty entries are garbage", "10.0.0.2", []string{"198.51.100.1,,"}, "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clientIP(netip.MustParseAddr(tt.peer), tt.xff, testProxies)
			if got.String() != tt.want {
				t.Errorf("clientIP(%s, %q) = %s, want %s", tt.peer, tt.xff, got, tt.want)
			}
		})
	}
}

// FuzzClientIP feeds arbitrary X-Forwarded-For values from a trusted and an untrusted peer: the
// walk never panics, an untrusted peer is always the answer for itself, and a trusted peer's
// answer is the peer or an address written in the header.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "1.2.3.4, 10.0.0.1", "[2001:db8::1]:80", "fe80::1%eth0", "::ffff:1.2.3.4",
		"", ",", " , ,", "1.2.3.4:99999", strings.Repeat("10.0.0.1,", 100), "2001:db8:ffff::9, garbage"} {
		f.Add(s, "10.0.0.2")
		f.Add(s, "203.0.113.9")
	}
	f.Fuzz(func(t *testing.T, header, peerText string) {
		peer, err := netip.ParseAddr(peerText)
		if err != nil {
			return
		}
		peer = peer.Unmap().WithZone("")
		got := clientIP(peer, []string{header}, testProxies)
		if !got.IsValid() {
			t.Fatalf("clientIP(%s, %q) returned an invalid address", peer, header)
		}
		if !inPrefixes(peer, testProxies) {
			if got != peer {
				t.Fatalf("untrusted peer %s: got %s, want the peer", peer, got)
			}
			return
		}
		if got == peer {
			return
		}
		found := false
		for _, e := range strings.Split(header, ",") {
			if a, ok := parseForwardedAddr(e); ok && a == got {
				found = true
			}
		}
		if !found {
			t.Fatalf("clientIP(%s, %q) = %s, which the header does not name", peer, header, got)
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("clientIP(%s, %q) = %s: zone or mapped form kept", peer, header, got)
		}
	})
}

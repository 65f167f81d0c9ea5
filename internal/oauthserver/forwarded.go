package oauthserver

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For entries are looked at: a chain of trusted
// proxies is a handful long, and a header stuffed with thousands of addresses must not cost
// thousands of parses.
const maxForwardedHops = 32

// forwardedFor makes r.RemoteAddr the real caller when the TCP peer is a trusted proxy, so that
// every later reader of the peer address (logs, attack protection, rate limits) sees the client
// behind the load balancer. Without trusted proxies it changes nothing: X-Forwarded-For from
// anyone else is a header an attacker writes.
func (s *Server) forwardedFor(next http.Handler) http.Handler {
	if len(s.proxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			peer := ap.Addr().Unmap().WithZone("")
			if ip := clientIP(peer, r.Header.Values("X-Forwarded-For"), s.proxies); ip != peer {
				r = r.WithContext(r.Context()) // a shallow copy: the caller's request is not ours to change
				r.RemoteAddr = netip.AddrPortFrom(ip, 0).String()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP returns the address a request comes from. A peer that is not a trusted proxy is the
// caller. Behind trusted proxies, X-Forwarded-For (all its lines, in order) is read from the
// right: each proxy appends the address it received the request from, so the rightmost entry
// that is not a trusted proxy is the first address no trusted party vouches beyond; entries to
// its left are the client's own claims. An entry that does not parse ends the walk at the last
// trusted hop, which is then the caller (it forwarded garbage). When every entry is trusted the
// leftmost one is the caller.
func clientIP(peer netip.Addr, xff []string, trusted []netip.Prefix) netip.Addr {
	if !inPrefixes(peer, trusted) {
		return peer
	}
	ip, hops := peer, 0
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" && hops < maxForwardedHops {
			var entry string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				line, entry = line[:j], line[j+1:]
			} else {
				line, entry = "", line
			}
			hops++
			a, ok := parseForwardedAddr(entry)
			if !ok {
				return ip
			}
			ip = a
			if !inPrefixes(a, trusted) {
				return a
			}
		}
	}
	return ip
}

// parseForwardedAddr reads one X-Forwarded-For entry: an IPv4 or IPv6 address, optionally with
// a port (1.2.3.4:80, [2001:db8::1]:443), as proxies write them. Zones are dropped and
// IPv4-mapped IPv6 addresses unmapped, so one client has one spelling.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func inPrefixes(a netip.Addr, list []netip.Prefix) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sesameauth/sesame/internal/store"
)

// maxWebOrigins is Auth0's limit on Allowed Web Origins ("up to 100 URLs").
const maxWebOrigins = 100

// schemeRE is RFC 3986 §3.1's scheme, lower case (app shells such as capacitor:// and
// chrome-extension:// have origins too).
var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// CheckWebOrigins validates a client's web_origins (Auth0's "Allowed Web Origins") and returns
// them normalised to the form browsers send in the Origin header (RFC 6454 §6.2): lower-case
// scheme and host, no default port, no trailing slash. The token endpoint then matches an
// Origin header by string comparison.
//
// An entry is scheme://host[:port]; a lone trailing "/" is dropped (Auth0's dashboard shows
// origins written that way), any other path, a query, a fragment or user info is refused.
// As at Auth0, the host may start with "*." to allow every subdomain: Sesame's rule is
// exactly one more DNS label (https://*.example.com allows https://app.example.com, not
// https://example.com nor https://a.b.example.com), only over http(s), and never directly
// under a top-level domain. "*" and "null" are refused: a token answer is never for any site.
func CheckWebOrigins(origins []string) ([]string, []error) {
	if len(origins) > maxWebOrigins {
		return nil, []error{invalid("web_origins", "at most %d origins", maxWebOrigins)}
	}
	var errs []error
	out := make([]string, 0, len(origins))
	seen := map[string]int{}
	for i, raw := range origins {
		field := fmt.Sprintf("web_origins[%d]", i)
		o, err := normalizeOrigin(strings.TrimSpace(raw))
		if err != nil {
			errs = append(errs, invalid(field, "%q: %v", raw, err))
			continue
		}
		if j, dup := seen[o]; dup {
			errs = append(errs, invalid(field, "%q is the same origin as web_origins[%d]", raw, j))
			continue
		}
		seen[o] = i
		out = append(out, o)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func normalizeOrigin(s string) (string, error) {
	switch s {
	case "":
		return "", errors.New("is empty")
	case "*", "null":
		return "", errors.New("must name one origin (scheme://host[:port])")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("is not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case !schemeRE.MatchString(scheme) || u.Opaque != "" || u.Host == "":
		return "", errors.New("must be scheme://host[:port]")
	case u.User != nil:
		return "", errors.New("must not hold user info")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return "", errors.New("must not have a path, query or fragment")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", errors.New("has no host")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", errors.New("has a port outside 1..65535")
		}
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
			port = ""
		}
	}
	if strings.HasPrefix(u.Host, "[") {
		// An IPv6 literal, in the compressed form browsers serialise (RFC 5952).
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", errors.New("host is not an IPv6 address")
		}
		host = "[" + ip.String() + "]"
	} else if err := checkOriginHost(scheme, host); err != nil {
		return "", err
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// checkOriginHost keeps hosts (other than IPv6 literals) to IPv4 addresses and DNS names,
// with the wildcard rule of CheckWebOrigins.
func checkOriginHost(scheme, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		return nil
	}
	name, wild := strings.CutPrefix(host, "*.")
	if wild {
		if scheme != "http" && scheme != "https" {
			return errors.New("a *. subdomain wildcard needs http or https")
		}
		if !strings.Contains(name, ".") {
			return errors.New("a *. subdomain wildcard must sit under a registered domain (https://*.example.com)")
		}
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return errors.New("host is not a DNS name")
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				if r == '*' {
					return errors.New("* is only allowed as the first label (https://*.example.com)")
				}
				return errors.New("host is not a DNS name")
			}
		}
	}
	return nil
}

// SetClientWebOrigins replaces a client's web_origins after validating them.
func (s *Service) SetClientWebOrigins(ctx context.Context, clientID string, origins []string) (store.Client, error) {
	norm, errs := CheckWebOrigins(origins)
	if len(errs) > 0 {
		return store.Client{}, errors.Join(errs...)
	}
	now := s.now()
	if err := s.Store.UpdateClient(ctx, clientID, func(c *store.Client) error {
		c.WebOrigins, c.UpdatedAt = norm, now
		return nil
	}); err != nil {
		return store.Client{}, storeErr(err, "client", clientID)
	}
	return s.GetClient(ctx, clientID)
}

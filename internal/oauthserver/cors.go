package oauthserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// Cross-origin resource sharing (the Fetch standard's CORS protocol) for the endpoints a
// browser app calls: Auth0 lets "highly trusted client-side web apps" use the password flow,
// and a script can only read /oauth/token's answer when the server allows its origin.
//
// Decisions, after Auth0's "Allowed Web Origins" (the client's web_origins; Auth0's tenant log
// says "Behavior used for check: WEB ORIGIN" when it refuses one):
//   - An origin is allowed for a client when it is one of the client's web_origins, or matches
//     one of its https://*.example.com patterns (exactly one more DNS label). The admin service
//     stores them normalised (lower case, no default port, no path), which is how browsers
//     serialise the Origin header, so matching is a string comparison.
//   - A preflight (OPTIONS) carries no body and so names no client: it is answered for an origin
//     that any client of the tenant lists. The actual request is then checked against the
//     client it speaks for (the authenticated client; for /userinfo the access token's azp; for
//     the mfa_token endpoints the MFA transaction's client). A foreign origin is refused before
//     any work with Auth0's 401 access_denied "Unauthorized", without Access-Control-Allow-Origin:
//     the browser hides even that answer, and no token is issued. This also stops a form POST
//     (a "simple" request, sent without a preflight) from a foreign page using visitors'
//     browsers to try passwords.
//   - Access-Control-Allow-Origin is always the request's origin, never "*"; every answer of
//     these endpoints carries Vary: Origin, so that no cache hands one origin's answer to another.
//   - No Access-Control-Allow-Credentials: the flow sends its credentials in the body or the
//     Authorization header, never in cookies, so a browser's credentialed fetch is refused.
//   - A request from the server's own origin (the issuer's) needs no CORS and passes.
const (
	corsAllowHeaders  = "Content-Type, Authorization, Auth0-Client"
	corsExposeHeaders = "Retry-After, WWW-Authenticate, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
	// corsMaxAge is how long (seconds) a browser may reuse a preflight answer. The answer only
	// says that some client lists the origin; every actual request is checked again.
	corsMaxAge = "600"
	// originsRecheck is how long a node trusts its copy of the tenant's web origins for
	// preflights before listing the clients again: a preflight storm costs one store read per
	// second per node, and an origin added on any node is preflighted within about a second.
	originsRecheck = time.Second
)

// errOriginRefused is what a request from an origin the client does not list gets: Auth0's
// answer for a browser app whose origin is missing from Allowed Web Origins.
var errOriginRefused = errUnauthorizedClient

// originCache is this node's copy of every web origin the tenant's clients list.
type originCache struct {
	mu      sync.Mutex
	checked time.Time
	loaded  bool
	exact   map[string]bool
	// wild are the *.-patterns as scheme://, .suffix[:port] pairs.
	wild [][2]string
}

// corsRoute wraps an endpoint browsers may call cross-origin: its answers vary by origin.
func corsRoute(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		next(w, r)
	}
}

// preflight answers a CORS preflight (OPTIONS) for an endpoint that serves methods.
func (s *Server) preflight(methods []string) http.HandlerFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Allow", allow+", OPTIONS")
		origin := r.Header.Get("Origin")
		method := r.Header.Get("Access-Control-Request-Method")
		if origin == "" || method == "" {
			// Not a CORS preflight: a plain OPTIONS (RFC 9110 §9.3.7) learns the methods.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		ok, err := s.tenantListsOrigin(r.Context(), origin)
		if err != nil {
			s.log.Error("cors preflight: listing web origins", "error", err)
		}
		if !ok || !slices.Contains(methods, method) {
			// No Access-Control-Allow-Origin: the browser fails the preflight.
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", allow)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	}
}

// allowOrigin decides a request's CORS for client c: no Origin header (not a browser, or a
// same-origin GET) or the issuer's own origin passes untouched; an origin c lists gets
// Access-Control-Allow-Origin on h; any other origin is errOriginRefused.
func (s *Server) allowOrigin(h http.Header, r *http.Request, c store.Client) error {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == s.origin {
		return nil
	}
	for _, o := range c.WebOrigins {
		if o == origin || wildcardMatch(o, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			return nil
		}
	}
	return errOriginRefused.withCause(fmt.Errorf("origin %q is not in the web_origins of client %s", origin, c.ClientID))
}

// allowOriginOf is allowOrigin for a client known by id (a bearer token's): the client is read
// only for a cross-origin request.
func (s *Server) allowOriginOf(ctx context.Context, h http.Header, r *http.Request, clientID string) error {
	if o := r.Header.Get("Origin"); o == "" || o == s.origin {
		return nil
	}
	c, err := s.store.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return errOriginRefused.withCause(fmt.Errorf("client %q of a cross-origin request is gone", clientID))
	}
	if err != nil {
		return err
	}
	return s.allowOrigin(h, r, c)
}

// wildcardMatch reports whether origin matches a pattern of the form scheme://*.suffix[:port]:
// the same scheme and port, and a host that is one DNS label followed by .suffix.
func wildcardMatch(pattern, origin string) bool {
	scheme, suffix, ok := strings.Cut(pattern, "://*")
	if !ok {
		return false
	}
	return matchWild(scheme+"://", suffix, origin)
}

func matchWild(prefix, suffix, origin string) bool {
	rest, ok := strings.CutPrefix(origin, prefix)
	if !ok {
		return false
	}
	label, ok := strings.CutSuffix(rest, suffix)
	if !ok || label == "" {
		return false
	}
	for _, r := range label {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// tenantListsOrigin reports whether any client of the tenant allows origin, from a copy of the
// clients' web origins re-read at most every originsRecheck.
func (s *Server) tenantListsOrigin(ctx context.Context, origin string) (bool, error) {
	c := &s.origins
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if !c.loaded || time.Since(c.checked) >= originsRecheck {
		var clients []store.Client
		if clients, err = s.store.ListClients(ctx); err == nil {
			c.exact, c.wild = map[string]bool{}, nil
			for _, cl := range clients {
				for _, o := range cl.WebOrigins {
					if scheme, suffix, ok := strings.Cut(o, "://*"); ok {
						c.wild = append(c.wild, [2]string{scheme + "://", suffix})
					} else {
						c.exact[o] = true
					}
				}
			}
			c.loaded, c.checked = true, time.Now()
		}
		// On a failed read the last copy (if any) still answers.
	}
	if c.exact[origin] {
		return true, err
	}
	for _, w := range c.wild {
		if matchWild(w[0], w[1], origin) {
			return true, err
		}
	}
	return false, err
}

// originOf is the ASCII serialisation of an URL's origin (RFC 6454 §6.2), the form browsers
// send in the Origin header: lower-case scheme and host, the port only when not the default.
func originOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

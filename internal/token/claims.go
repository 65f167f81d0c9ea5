package token

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
)

// MaxCustomClaimsSize is Auth0's limit on the JSON of all custom claims of one token.
const MaxCustomClaimsSize = 100 * 1024

// restrictedClaims are the names Auth0 does not let Rules and Actions set: protocol claims and
// claims Auth0 uses itself (Auth0 docs, "Create Custom Claims", general restrictions), plus
// scope, which only the scope machinery may change.
var restrictedClaims = setOf(`acr act active amr at_hash ath attest aud auth_time
		authorization_details azp c_hash client_id cnf cty dest entitlements events exp groups gty
		htm htu iat internalService iss jcard jku jti jwe jwk kid may_act mky nbf nonce object_id
		org_id org_name orig origid permissions roles rph s_hash scope sid sip_callid sip_cseq_num
		sip_date sip_from_tag sip_via_branch sub sub_jwk toe txn typ uuid vot vtm x5t#S256`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// ownedDomains are the namespaces Auth0 keeps for itself.
var ownedDomains = []string{"auth0.com", "webtask.io", "webtask.run"}

// FilterCustomClaims returns the custom claims a Rule or Action set, without the restricted
// names and without names in an Auth0-owned namespace (auth0.com, webtask.io, webtask.run).
// Those are dropped silently, as Auth0 does. It fails with ErrClaimsTooLarge when what remains
// encodes to more than MaxCustomClaimsSize bytes of JSON, and with an encoding error when a
// value cannot be JSON at all.
func FilterCustomClaims(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for name, v := range in {
		if name == "" || restrictedClaims[name] || ownedNamespace(name) {
			continue
		}
		out[name] = v
	}
	if len(out) == 0 {
		return out, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("token: custom claims are not JSON: %w", err)
	}
	if len(b) > MaxCustomClaimsSize {
		return nil, fmt.Errorf("%w (%d bytes)", ErrClaimsTooLarge, len(b))
	}
	return out, nil
}

// ownedNamespace reports whether a claim name is namespaced under a domain Auth0 owns: its host
// part (after an optional scheme, before the first "/", ":" port or "#") is one of those domains
// or a subdomain of one. "https://auth0.com/x", "http://foo.webtask.io/y" and "auth0.com/z"
// are; "https://example.com/auth0.com" is not.
func ownedNamespace(name string) bool {
	host := strings.ToLower(name)
	if _, rest, ok := strings.Cut(host, "://"); ok {
		host = rest
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if _, h, ok := strings.Cut(host, "@"); ok { // userinfo@host
		host = h
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	for _, d := range ownedDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

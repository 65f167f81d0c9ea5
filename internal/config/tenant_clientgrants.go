package config

import "go.yaml.in/yaml/v3"

// ClientGrant is one entry of the clientGrants section: a client allowed to get
// client-credentials tokens for an API, with the scopes it may carry. The Deploy CLI writes
// the client's name as client_id (it resolves names to ids on import); a real client id is
// accepted too. For example:
//
//	clientGrants:
//	  - client_id: Acme M2M
//	    audience: https://api.acme.test/orders
//	    scope: [read:orders]
type ClientGrant struct {
	// Path is where the grant sits in the file, e.g. "clientGrants[1]".
	Path string
	// ClientID is the client's name or id.
	ClientID string
	Audience string
	// Scope is nil when absent (an empty list then, on creation).
	Scope []string
}

// ignoredClientGrantKeys are the fields of Auth0's client grant object that Sesame does not
// apply (organizations, Rich Authorization Requests, the read-only flags).
var ignoredClientGrantKeys = []string{"id", "organization_usage", "allow_any_organization", "is_system",
	"authorization_details_types", "allow_all_scopes"}

// clientGrant decodes one clientGrants entry. A grant with subject_type "user" governs user
// flows Sesame does not have (it is not a client-credentials grant): it is ignored whole.
func (d *tenantDecoder) clientGrant(n *yaml.Node, path string) (ClientGrant, bool) {
	g := ClientGrant{Path: path}
	subject := ""
	ignored, unknown := len(d.ignored), len(d.unknown)
	d.object(n, path, fields{set: map[string]func(*yaml.Node, string){
		"client_id":    d.setStr(&g.ClientID),
		"audience":     d.setStr(&g.Audience),
		"scope":        d.setStrings(&g.Scope),
		"subject_type": d.setStr(&subject),
	}, ignored: ignoredClientGrantKeys})
	if subject != "" && subject != "client" {
		// The keys of a grant ignored as a whole are not worth listing.
		d.ignored, d.unknown = d.ignored[:ignored], d.unknown[:unknown]
		d.ignore(path, `subject_type "`+subject+`" is not a client-credentials grant`)
		return g, false
	}
	return g, true
}

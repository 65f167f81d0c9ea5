package config

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The tenant file is decoded by walking yaml.Node trees rather than by yaml.Decoder with
// KnownFields: KnownFields stops at the first unknown key and cannot tell a key the Deploy CLI
// knows (ignored, reported) from a typo (unknown), and every problem must be reported at once
// with its path.

// nodeBudget bounds how many nodes one file may make the decoder visit, counting every alias
// expansion: YAML aliases can make a small file describe an exponentially large tree.
const nodeBudget = 1 << 20

// maxDepth bounds nesting (free-form options and metadata, merge keys): an alias can make a
// mapping contain itself, and paths grow with depth.
const maxDepth = 64

type tenantDecoder struct {
	problems []Problem
	ignored  []Problem
	unknown  []Problem
	budget   int
	overrun  bool
	depth    int
	tooDeep  bool
}

// enter counts one level of nesting; it reports false (once, as a problem) past maxDepth. Each
// true must be paired with a call to leave.
func (d *tenantDecoder) enter(path string) bool {
	if d.depth >= maxDepth {
		if !d.tooDeep {
			d.tooDeep = true
			d.errorf(path, "nested more than %d levels deep", maxDepth)
		}
		return false
	}
	d.depth++
	return true
}

func (d *tenantDecoder) leave() { d.depth-- }

func newTenantDecoder() *tenantDecoder { return &tenantDecoder{budget: nodeBudget} }

func (d *tenantDecoder) errorf(path, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (d *tenantDecoder) ignore(path, reason string) {
	d.ignored = append(d.ignored, Problem{Path: path, Message: reason})
}

// resolve follows aliases and charges the budget. It returns nil once the budget is spent.
func (d *tenantDecoder) resolve(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil; hops++ {
		d.budget--
		if d.budget < 0 || hops > 1000 {
			if !d.overrun {
				d.overrun = true
				d.errorf("", "document too large or too deeply aliased")
			}
			return nil
		}
		if n.Kind != yaml.AliasNode {
			return n
		}
		n = n.Alias
	}
	return nil
}

// isNull reports whether n is absent or an explicit null (both mean "not set").
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

type pair struct {
	key string
	val *yaml.Node
}

// pairs returns the entries of a mapping, with merge keys (<<) expanded and explicit keys
// overriding merged ones. It reports non-mappings, non-scalar keys and duplicate keys.
func (d *tenantDecoder) pairs(n *yaml.Node, path string) []pair {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(path, "must be a mapping, got %s", kindName(n))
		return nil
	}
	var merged, own []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		if k == nil {
			return nil
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(n.Content[i+1], path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(path, "keys must be strings, got %s", kindName(k))
			continue
		}
		if seen[k.Value] {
			d.errorf(join(path, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		own = append(own, pair{k.Value, n.Content[i+1]})
	}
	out := make([]pair, 0, len(merged)+len(own))
	for _, p := range merged {
		if !seen[p.key] {
			seen[p.key] = true
			out = append(out, p)
		}
	}
	return append(out, own...)
}

func (d *tenantDecoder) mergePairs(v *yaml.Node, path string) []pair {
	if !d.enter(path) {
		return nil
	}
	defer d.leave()
	v = d.resolve(v)
	if v == nil {
		return nil
	}
	if v.Kind == yaml.SequenceNode {
		var out []pair
		for _, m := range v.Content {
			out = append(out, d.pairs(m, path)...)
		}
		return out
	}
	return d.pairs(v, path)
}

// items returns the elements of a sequence; null is an empty sequence.
func (d *tenantDecoder) items(n *yaml.Node, path string) []*yaml.Node {
	n = d.resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(path, "must be a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return fmt.Sprintf("%q", truncate(n.Value, 40))
	}
	return "an unexpected node"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// fields describes an object's keys: the ones decoded (set) and the ones the Deploy CLI format
// knows but Sesame does not apply (ignored).
type fields struct {
	set     map[string]func(v *yaml.Node, path string)
	ignored []string
	// ignoreAny makes every other key ignored instead of unknown (for open-ended objects such
	// as tenant flags, which Auth0 extends often).
	ignoreAny bool
}

func (d *tenantDecoder) object(n *yaml.Node, path string, f fields) {
	for _, p := range d.pairs(n, path) {
		kp := join(path, p.key)
		if set, ok := f.set[p.key]; ok {
			set(p.val, kp)
			continue
		}
		if f.ignoreAny || contains(f.ignored, p.key) {
			d.ignore(kp, "")
			continue
		}
		msg := "unknown key"
		if s := suggest(p.key, f); s != "" {
			msg += " (did you mean " + s + "?)"
		}
		d.unknown = append(d.unknown, Problem{Path: kp, Message: msg})
	}
}

// IgnoredGrantType reports whether g is a grant type Auth0 knows and Sesame does not serve: the
// decoder lists it in TenantFile.Ignored, and Apply neither stores it nor calls it unknown.
func IgnoredGrantType(g string) bool { return contains(unservedGrantTypes, g) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to key, if it is close enough to be a likely typo.
func suggest(key string, f fields) string {
	best, bestDist := "", 3
	try := func(k string) {
		if dist := editDistance(strings.ToLower(key), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	for k := range f.set {
		try(k)
	}
	for _, k := range f.ignored {
		try(k)
	}
	if bestDist > 0 && len(key) <= bestDist {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Scalar readers. Each reports a problem at path and returns ok=false when the node has the
// wrong type; a null or absent node is ok=false without a problem.

func (d *tenantDecoder) str(n *yaml.Node, path string) (string, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(path, "must be a string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *tenantDecoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return false, false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.errorf(path, "must be true or false, got %s", kindName(n))
		return false, false
	}
	return b, true
}

func (d *tenantDecoder) integer(n *yaml.Node, path string) (int, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return 0, false
	}
	var i int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil ||
		i > math.MaxInt32 || i < math.MinInt32 {
		d.errorf(path, "must be an integer, got %s", kindName(n))
		return 0, false
	}
	return int(i), true
}

func (d *tenantDecoder) strings(n *yaml.Node, path string) ([]string, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(path, "must be a list of strings, got %s", kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		if s, ok := d.str(e, index(path, i)); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// anyValue converts a node to a JSON-compatible value: string, bool, int64, float64, nil,
// []any or map[string]any.
func (d *tenantDecoder) anyValue(n *yaml.Node, path string) any {
	if !d.enter(path) {
		return nil
	}
	defer d.leave()
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, p := range d.pairs(n, path) {
			m[p.key] = d.anyValue(p.val, join(path, p.key))
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			s = append(s, d.anyValue(e, index(path, i)))
		}
		return s
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b
			}
		case "!!int":
			var i int64
			if n.Decode(&i) == nil {
				return i
			}
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f
			}
		}
		return n.Value
	}
	d.errorf(path, "unexpected YAML node")
	return nil
}

func (d *tenantDecoder) anyMap(n *yaml.Node, path string) (map[string]any, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(path, "must be a mapping, got %s", kindName(n))
		return nil, false
	}
	m, _ := d.anyValue(n, path).(map[string]any)
	return m, m != nil
}

func (d *tenantDecoder) stringMap(n *yaml.Node, path string) (map[string]string, bool) {
	out := map[string]string{}
	n = d.resolve(n)
	if isNull(n) {
		return nil, false
	}
	for _, p := range d.pairs(n, path) {
		if s, ok := d.str(p.val, join(path, p.key)); ok {
			out[p.key] = s
		}
	}
	return out, true
}

// Setters for field tables.

func (d *tenantDecoder) setStr(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if s, ok := d.str(n, p); ok {
			*dst = s
		}
	}
}

func (d *tenantDecoder) setStrPtr(dst **string) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if s, ok := d.str(n, p); ok {
			*dst = &s
		}
	}
}

func (d *tenantDecoder) setBoolPtr(dst **bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if b, ok := d.boolean(n, p); ok {
			*dst = &b
		}
	}
}

func (d *tenantDecoder) setIntPtr(dst **int) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if i, ok := d.integer(n, p); ok {
			*dst = &i
		}
	}
}

func (d *tenantDecoder) setStrings(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if s, ok := d.strings(n, p); ok {
			*dst = s
		}
	}
}

func (d *tenantDecoder) setAnyMap(dst *map[string]any) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if m, ok := d.anyMap(n, p); ok {
			*dst = m
		}
	}
}

// Known keys of the Deploy CLI format that Sesame does not apply. They come from the Deploy
// CLI's YAML handlers and Auth0's Management API object schemas.
var (
	ignoredSections = []string{
		"pages", "emailTemplates", "emailProvider", "roles", "hooks", "branding",
		"logStreams", "organizations", "prompts", "customDomains",
		"guardianFactorProviders", "guardianFactorTemplates",
		"guardianPhoneFactorMessageTypes", "guardianPhoneFactorSelectedProvider",
		"migrations", "themes", "rulesConfigs", "actionModules", "forms",
		"flows", "flowVaultConnections", "selfServiceProfiles", "networkACLs", "phoneProviders",
		"phoneTemplates", "connectionProfiles", "userAttributeProfiles", "riskAssessments",
		"tokenExchangeProfiles", "eventStreams", "rateLimitPolicies", "supplementalSignals",
	}
	ignoredTenantKeys = []string{
		"change_password", "guardian_mfa_page", "error_page", "device_flow", "default_token_quota",
		"picture_url", "support_email", "support_url", "allowed_logout_urls", "session_lifetime",
		"idle_session_lifetime", "ephemeral_session_lifetime", "idle_ephemeral_session_lifetime",
		"sandbox_version", "legacy_sandbox_version", "sandbox_versions_available",
		"default_redirection_uri", "enabled_locales", "session_cookie", "sessions", "oidc_logout",
		"allow_organization_name_in_authentication_api", "customize_mfa_in_postlogin_action",
		"acr_values_supported", "mtls", "pushed_authorization_requests_supported",
		"authorization_response_iss_parameter_supported",
		"skip_non_verifiable_callback_uri_confirmation_prompt", "resource_parameter_profile",
		"client_id_metadata_document_supported", "phone_consolidated_experience",
		"enable_ai_guide", "universal_login",
	}
	ignoredClientKeys = []string{
		"logo_uri", "callbacks", "allowed_origins", "client_aliases",
		"allowed_clients", "allowed_logout_urls", "oidc_logout", "oidc_backchannel_logout",
		"is_first_party", "oidc_conformant", "sso", "sso_disabled", "cross_origin_auth",
		"cross_origin_authentication", "cross_origin_loc", "custom_login_page_on",
		"custom_login_page", "custom_login_page_preview", "form_template", "addons", "mobile",
		"initiate_login_uri", "native_social_login", "organization_usage",
		"organization_require_behavior", "organization_discovery_methods",
		"require_pushed_authorization_requests", "require_proof_of_possession",
		"signed_request_object", "compliance_level", "encryption_key", "default_organization",
		"token_quota", "resource_server_identifier", "express_configuration",
		"token_vault_privileged_access", "session_transfer",
		"skip_non_verifiable_callback_uri_confirmation_prompt", "par_request_expiry",
		"token_exchange", "async_approval_notification_channels", "callback_url_template",
		"signing_keys", "global", "tenant", "owners", "encrypted",
	}
	ignoredJWTKeys        = []string{"secret_encoded", "scopes"}
	ignoredRefreshKeys    = []string{"policies"}
	ignoredAuthMethodKeys = []string{"tls_client_auth", "self_signed_tls_client_auth"}
	ignoredCredentialKeys = []string{"id", "alg", "kid", "expires_at", "parse_expiry_from_cert", "created_at", "updated_at", "thumbprint_sha256", "subject_dn"}
	ignoredConnectionKeys = []string{"id", "display_name", "metadata", "realms", "is_domain_connection", "show_as_button", "provisioning_ticket_url", "authentication", "connected_accounts", "strategy_version"}
	ignoredAPIKeys        = []string{"id", "is_system", "token_lifetime_for_web", "skip_consent_for_verifiable_first_party_clients", "verification_location", "options", "client", "client_id", "token_encryption", "consent_policy", "authorization_details", "proof_of_possession", "subject_type_authorization", "allow_online_access"}
	unservedGrantTypes    = []string{"urn:ietf:params:oauth:grant-type:device_code", "urn:openid:params:grant-type:ciba", "urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token"}
)

// servedStrategy reports whether Sesame serves connections of this strategy: the user
// database (auth0, the default) and passwordless codes by email and SMS.
func servedStrategy(s string) bool {
	return s == "" || slices.Contains(ConnectionStrategies, s)
}

func (d *tenantDecoder) decodeFile(data []byte) *TenantFile {
	tf := &TenantFile{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.errorf("", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return tf
	}
	if len(doc.Content) == 0 { // empty file
		return tf
	}
	root := doc.Content[0]
	if isNull(d.resolve(root)) {
		return tf
	}
	top := fields{set: map[string]func(*yaml.Node, string){
		"tenant": func(n *yaml.Node, p string) {
			if !isNull(d.resolve(n)) {
				tf.Tenant = d.tenant(n, p)
			}
		},
		"clients": func(n *yaml.Node, p string) {
			for i, e := range d.items(n, p) {
				tf.Clients = append(tf.Clients, d.client(e, index(p, i)))
			}
		},
		"databases": func(n *yaml.Node, p string) {
			for i, e := range d.items(n, p) {
				c := d.connection(e, index(p, i))
				if c.Strategy == "" {
					c.Strategy = "auth0"
				}
				tf.Databases = append(tf.Databases, c)
			}
		},
		"connections": func(n *yaml.Node, p string) {
			for i, e := range d.items(n, p) {
				// The keys of a connection that is ignored as a whole are not worth listing.
				ignored, unknown := len(d.ignored), len(d.unknown)
				c := d.connection(e, index(p, i))
				if !servedStrategy(c.Strategy) {
					d.ignored, d.unknown = d.ignored[:ignored], d.unknown[:unknown]
					d.ignore(c.Path, fmt.Sprintf("strategy %q is not supported", c.Strategy))
					continue
				}
				tf.Connections = append(tf.Connections, c)
			}
		},
		"resourceServers": func(n *yaml.Node, p string) {
			for i, e := range d.items(n, p) {
				tf.ResourceServers = append(tf.ResourceServers, d.resourceServer(e, index(p, i)))
			}
		},
		"clientGrants": func(n *yaml.Node, p string) {
			for i, e := range d.items(n, p) {
				if g, ok := d.clientGrant(e, index(p, i)); ok {
					tf.ClientGrants = append(tf.ClientGrants, g)
				}
			}
		},
		"users": func(n *yaml.Node, p string) {
			for i, e := range d.items(n, p) {
				tf.Users = append(tf.Users, d.user(e, index(p, i)))
			}
		},
		"attackProtection": func(n *yaml.Node, p string) {
			if !isNull(d.resolve(n)) {
				tf.AttackProtection = d.attackProtection(n, p)
			}
		},
		"guardianFactors": func(n *yaml.Node, p string) {
			if !isNull(d.resolve(n)) {
				tf.GuardianFactors = d.guardianFactors(n, p)
			}
		},
		"guardianPolicies": func(n *yaml.Node, p string) {
			if !isNull(d.resolve(n)) {
				tf.GuardianPolicies = d.guardianPolicies(n, p)
			}
		},
		"rules":    func(n *yaml.Node, p string) { d.hooks(n, p, &tf.Rules) },
		"actions":  func(n *yaml.Node, p string) { d.hooks(n, p, &tf.Actions) },
		"triggers": func(n *yaml.Node, p string) { d.hooks(n, p, &tf.Triggers) },
	}}
	for _, s := range ignoredSections {
		top.set[s] = func(n *yaml.Node, p string) {
			if !isEmpty(d.resolve(n)) {
				d.ignore(p, "")
			}
		}
	}
	d.object(root, "", top)
	return tf
}

// hooks decodes the rules, actions and triggers sections, which Apply stores (package hooks
// runs them).
func (d *tenantDecoder) hooks(n *yaml.Node, path string, dst any) {
	n = d.resolve(n)
	if isEmpty(n) {
		return
	}
	if err := n.Decode(dst); err != nil {
		d.errorf(path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
}

func isEmpty(n *yaml.Node) bool {
	return isNull(n) || ((n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode) && len(n.Content) == 0)
}

func (d *tenantDecoder) tenant(n *yaml.Node, path string) *TenantSettings {
	t := &TenantSettings{}
	d.object(n, path, fields{
		set: map[string]func(*yaml.Node, string){
			"friendly_name":     d.setStrPtr(&t.FriendlyName),
			"default_directory": d.setStrPtr(&t.DefaultDirectory),
			"default_audience":  d.setStrPtr(&t.DefaultAudience),
			"flags": func(n *yaml.Node, p string) {
				d.object(n, p, fields{
					set:       map[string]func(*yaml.Node, string){"revoke_refresh_token_grant": d.setBoolPtr(&t.RevokeRefreshTokenGrant)},
					ignoreAny: true,
				})
			},
		},
		ignored: ignoredTenantKeys,
	})
	return t
}

func (d *tenantDecoder) client(n *yaml.Node, path string) Client {
	c := Client{Path: path}
	d.object(n, path, fields{
		set: map[string]func(*yaml.Node, string){
			"name":                       d.setStr(&c.Name),
			"client_id":                  d.setStr(&c.ClientID),
			"client_secret":              d.setStr(&c.ClientSecret),
			"description":                d.setStrPtr(&c.Description),
			"app_type":                   d.setStrPtr(&c.AppType),
			"token_endpoint_auth_method": d.setStrPtr(&c.TokenEndpointAuthMethod),
			"grant_types": func(n *yaml.Node, p string) {
				gts, ok := d.strings(n, p)
				if !ok {
					return
				}
				for i, g := range gts {
					if contains(unservedGrantTypes, g) {
						d.ignore(index(p, i), fmt.Sprintf("grant type %q is not served by Sesame", g))
					}
				}
				c.GrantTypes = gts
			},
			"jwt_configuration": func(n *yaml.Node, p string) {
				if isNull(d.resolve(n)) {
					return
				}
				j := &JWTConfiguration{}
				d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
					"alg":                 d.setStrPtr(&j.Alg),
					"lifetime_in_seconds": d.setIntPtr(&j.LifetimeInSeconds),
				}, ignored: ignoredJWTKeys})
				c.JWTConfiguration = j
			},
			"client_authentication_methods": func(n *yaml.Node, p string) {
				d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
					"private_key_jwt": func(n *yaml.Node, p string) {
						d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
							"credentials": func(n *yaml.Node, p string) {
								c.Credentials = []ClientCredential{}
								for i, e := range d.items(n, p) {
									c.Credentials = append(c.Credentials, d.credential(e, index(p, i)))
								}
							},
						}})
					},
				}, ignored: ignoredAuthMethodKeys})
			},
			"refresh_token": func(n *yaml.Node, p string) {
				if isNull(d.resolve(n)) {
					return
				}
				r := &RefreshTokenSettings{}
				d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
					"rotation_type":                d.setStrPtr(&r.RotationType),
					"expiration_type":              d.setStrPtr(&r.ExpirationType),
					"token_lifetime":               d.setIntPtr(&r.TokenLifetime),
					"idle_token_lifetime":          d.setIntPtr(&r.IdleTokenLifetime),
					"infinite_token_lifetime":      d.setBoolPtr(&r.InfiniteTokenLifetime),
					"infinite_idle_token_lifetime": d.setBoolPtr(&r.InfiniteIdleTokenLifetime),
					"leeway":                       d.setIntPtr(&r.Leeway),
				}, ignored: ignoredRefreshKeys})
				c.RefreshToken = r
			},
			"is_token_endpoint_ip_header_trusted": d.setBoolPtr(&c.IsTokenEndpointIPHeaderTrusted),
			"web_origins":                         d.setStrings(&c.WebOrigins),
			"client_metadata": func(n *yaml.Node, p string) {
				if m, ok := d.stringMap(n, p); ok {
					c.ClientMetadata = m
				}
			},
		},
		ignored: ignoredClientKeys,
	})
	return c
}

func (d *tenantDecoder) credential(n *yaml.Node, path string) ClientCredential {
	var k ClientCredential
	d.object(n, path, fields{set: map[string]func(*yaml.Node, string){
		"name":            d.setStr(&k.Name),
		"credential_type": d.setStr(&k.CredentialType),
		"pem":             d.setStr(&k.PEM),
	}, ignored: ignoredCredentialKeys})
	return k
}

func (d *tenantDecoder) connection(n *yaml.Node, path string) Connection {
	c := Connection{Path: path}
	d.object(n, path, fields{set: map[string]func(*yaml.Node, string){
		"name":            d.setStr(&c.Name),
		"strategy":        d.setStr(&c.Strategy),
		"enabled_clients": d.setStrings(&c.EnabledClients),
		"options":         d.setAnyMap(&c.Options),
	}, ignored: ignoredConnectionKeys})
	return c
}

func (d *tenantDecoder) resourceServer(n *yaml.Node, path string) ResourceServer {
	r := ResourceServer{Path: path}
	d.object(n, path, fields{set: map[string]func(*yaml.Node, string){
		"name":       d.setStr(&r.Name),
		"identifier": d.setStr(&r.Identifier),
		"scopes": func(n *yaml.Node, p string) {
			r.Scopes = []Scope{}
			for i, e := range d.items(n, p) {
				var s Scope
				d.object(e, index(p, i), fields{set: map[string]func(*yaml.Node, string){
					"value":       d.setStr(&s.Value),
					"description": d.setStr(&s.Description),
				}})
				r.Scopes = append(r.Scopes, s)
			}
		},
		"signing_alg":          d.setStrPtr(&r.SigningAlg),
		"signing_secret":       d.setStr(&r.SigningSecret),
		"allow_offline_access": d.setBoolPtr(&r.AllowOfflineAccess),
		"token_lifetime":       d.setIntPtr(&r.TokenLifetime),
		"token_dialect":        d.setStrPtr(&r.TokenDialect),
		"enforce_policies":     d.setBoolPtr(&r.EnforcePolicies),
	}, ignored: ignoredAPIKeys})
	// Auth0 gives every API a signing secret whatever its algorithm, and exports it; only an
	// HS256 API uses it.
	if r.SigningSecret != "" && r.SigningAlg != nil && *r.SigningAlg != "HS256" {
		d.ignore(join(path, "signing_secret"), "only used with signing_alg HS256")
		r.SigningSecret = ""
	}
	return r
}

func (d *tenantDecoder) user(n *yaml.Node, path string) User {
	u := User{Path: path}
	d.object(n, path, fields{set: map[string]func(*yaml.Node, string){
		"connection":     d.setStr(&u.Connection),
		"user_id":        d.setStr(&u.UserID),
		"email":          d.setStr(&u.Email),
		"username":       d.setStr(&u.Username),
		"password":       d.setStr(&u.Password),
		"password_hash":  d.setStr(&u.PasswordHash),
		"email_verified": d.setBoolPtr(&u.EmailVerified),
		"name":           d.setStrPtr(&u.Name),
		"nickname":       d.setStrPtr(&u.Nickname),
		"picture":        d.setStrPtr(&u.Picture),
		"given_name":     d.setStrPtr(&u.GivenName),
		"family_name":    d.setStrPtr(&u.FamilyName),
		"app_metadata":   d.setAnyMap(&u.AppMetadata),
		"user_metadata":  d.setAnyMap(&u.UserMetadata),
		"blocked":        d.setBoolPtr(&u.Blocked),
		"permissions": func(n *yaml.Node, p string) {
			u.Permissions = []Permission{}
			for i, e := range d.items(n, p) {
				var perm Permission
				d.object(e, index(p, i), fields{set: map[string]func(*yaml.Node, string){
					"resource_server_identifier": d.setStr(&perm.ResourceServerIdentifier),
					"permission_name":            d.setStr(&perm.PermissionName),
				}})
				u.Permissions = append(u.Permissions, perm)
			}
		},
	}})
	return u
}

// keywordPattern matches the Deploy CLI's replacement markers, ##KEY## and @@KEY@@.
var keywordPattern = regexp.MustCompile(`##([A-Za-z0-9_]+)##|@@([A-Za-z0-9_]+)@@`)

// replaceKeywords does the Deploy CLI's keyword replacement on the file's text: ##KEY## becomes
// the value, @@KEY@@ the value as a JSON string (quoted and escaped, so it stays one YAML
// scalar whatever it holds).
func replaceKeywords(data []byte, vars map[string]string) []byte {
	return keywordPattern.ReplaceAllFunc(data, func(m []byte) []byte {
		s := string(m)
		key := s[2 : len(s)-2]
		v, ok := vars[key]
		if !ok {
			return m
		}
		if s[0] == '@' {
			b, _ := json.Marshal(v)
			return b
		}
		return []byte(v)
	})
}

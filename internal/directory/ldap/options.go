package ldap

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Option keys of an ad/ldap connection, as stored in store.Connection.Options and written in
// the tenant file's connections section (Auth0's AD/LDAP connector settings, LDAP_*,
// lower-cased). docs/ldap.md describes each.
const (
	OptURL              = "ldap_url"
	OptCA               = "ldap_ca"
	OptStartTLS         = "ldap_starttls"
	OptBindUser         = "ldap_bind_user"
	OptBindCredentials  = "ldap_bind_credentials"
	OptBindSealed       = "ldap_bind_credentials_sealed" // what is stored instead of OptBindCredentials
	OptBase             = "ldap_base"
	OptUserByName       = "ldap_user_by_name"
	OptIDAttribute      = "ldap_id_attribute"
	OptBaseGroups       = "ldap_base_groups"
	OptSearchGroups     = "ldap_search_groups"
	OptGroupProperty    = "group_property"
	OptTimeoutMS        = "ldap_timeout_ms"
	OptPoolSize         = "ldap_pool_size"
	OptRecheckSeconds   = "ldap_recheck_seconds"
	OptOutageGraceSecs  = "ldap_outage_grace_seconds"
	OptAttrEmail        = "ldap_attr_email"
	OptAttrName         = "ldap_attr_name"
	OptAttrGivenName    = "ldap_attr_given_name"
	OptAttrFamilyName   = "ldap_attr_family_name"
	OptAttrNickname     = "ldap_attr_nickname"
	OptAttrUsername     = "ldap_attr_username"
	OptEmailVerified    = "ldap_email_verified"
	OptDisabledAttrs    = "ldap_disabled_attributes"
	defaultTimeout      = 5 * time.Second
	defaultPoolSize     = 8
	defaultRecheck      = 60 * time.Second
	defaultOutageGrace  = 15 * time.Minute
	maxFilterTemplate   = 1024
	maxTimeout          = 60 * time.Second
	maxPoolSize         = 256
	maxRecheck          = 24 * time.Hour
	placeholder         = "{0}"
	strategyAD          = "ad"
	defaultADUserFilter = "(sAMAccountName={0})"
	defaultUserFilter   = "(uid={0})"
)

// Options lists every option key an ad/ldap connection accepts.
var Options = []string{OptURL, OptCA, OptStartTLS, OptBindUser, OptBindCredentials, OptBindSealed, OptBase,
	OptUserByName, OptIDAttribute, OptBaseGroups, OptSearchGroups, OptGroupProperty, OptTimeoutMS, OptPoolSize,
	OptRecheckSeconds, OptOutageGraceSecs, OptAttrEmail, OptAttrName, OptAttrGivenName, OptAttrFamilyName,
	OptAttrNickname, OptAttrUsername, OptEmailVerified, OptDisabledAttrs}

// Config is an ad/ldap connection's settings, parsed from its options. In a tenant file:
//
//	connections:
//	  - name: employees
//	    strategy: ad
//	    enabled_clients: [Acme Web]
//	    options:
//	      ldap_url: ldaps://ldap.acme.internal:636
//	      ldap_ca: ./ldap-ca.pem
//	      ldap_bind_user: cn=sesame,ou=services,dc=acme,dc=internal
//	      ldap_bind_credentials: "##LDAP_BIND_PASSWORD##"
//	      ldap_base: ou=people,dc=acme,dc=internal
//	      ldap_user_by_name: "(uid={0})"
//	      ldap_id_attribute: entryUUID
//	      ldap_base_groups: ou=groups,dc=acme,dc=internal
//	      ldap_search_groups: "(member={0})"
//	      group_property: cn
//	      ldap_timeout_ms: 5000
type Config struct {
	Connection string
	Strategy   string
	URL        *url.URL
	// CAPEM is the PEM of the CAs trusted for the server certificate; nil means system roots.
	CAPEM    []byte
	StartTLS bool
	BindDN   string
	// BindPassword is the service account's password, opened from the sealed option.
	BindPassword string
	Base         string
	// UserFilter and GroupFilter hold {0}: the escaped username, the escaped user DN.
	UserFilter  string
	IDAttribute string
	GroupBase   string
	GroupFilter string
	GroupAttr   string
	Timeout     time.Duration
	PoolSize    int
	// Recheck is how long a refresh trusts the directory's last answer about a user without
	// asking again; OutageGrace how long that answer still serves while the directory is down.
	Recheck     time.Duration
	OutageGrace time.Duration
	Attrs       Attributes
	// EmailVerified marks the directory's emails as verified (they are managed by IT).
	EmailVerified bool
	// DisabledAttrs are attributes whose presence marks an entry disabled (besides Active
	// Directory's userAccountControl ACCOUNTDISABLE bit).
	DisabledAttrs []string
}

// Attributes map Auth0 profile fields to LDAP attributes.
type Attributes struct {
	Email, Name, GivenName, FamilyName, Nickname, Username string
}

// Opener opens the sealed bind credentials (seal.Box satisfies it).
type Opener interface {
	Open(sealed, aad []byte) ([]byte, error)
}

// BindAAD binds sealed bind credentials to their connection.
func BindAAD(connection string) []byte { return []byte("ldap-bind-credentials:" + connection) }

// ParseConfig reads and validates a connection's options, reporting every problem at once
// (each prefixed with its option key). box opens the sealed bind credentials; nil leaves
// BindPassword empty (validation of a new connection, whose secret is not sealed yet, passes
// the plain credentials in OptBindCredentials instead).
func ParseConfig(connection, strategy string, opts map[string]any, box Opener) (Config, error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("options.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	str := func(key, def string) string {
		v, ok := opts[key]
		if !ok || v == nil {
			return def
		}
		s, ok := v.(string)
		if !ok {
			bad(key, "must be a string")
			return def
		}
		if s = strings.TrimSpace(s); s == "" {
			return def
		}
		return s
	}
	boolean := func(key string) bool {
		v, ok := opts[key]
		if !ok || v == nil {
			return false
		}
		b, ok := v.(bool)
		if !ok {
			bad(key, "must be true or false")
		}
		return b
	}
	number := func(key string, def, lo, hi int) int {
		v, ok := opts[key]
		if !ok || v == nil {
			return def
		}
		var n int
		switch x := v.(type) {
		case int:
			n = x
		case int64:
			n = int(x)
		case float64:
			n = int(x)
			if float64(n) != x {
				bad(key, "must be a whole number")
				return def
			}
		default:
			bad(key, "must be a number")
			return def
		}
		if n < lo || n > hi {
			bad(key, "must be between %d and %d, got %d", lo, hi, n)
			return def
		}
		return n
	}
	for k := range opts {
		if !isOption(k) {
			bad(k, "is not an option of the %s strategy (see docs/ldap.md)", strategy)
		}
	}
	c := Config{Connection: connection, Strategy: strategy}
	if raw := str(OptURL, ""); raw == "" {
		bad(OptURL, "is required (ldap://host:389 or ldaps://host:636)")
	} else if u, err := url.Parse(raw); err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		bad(OptURL, "%q is not an ldap:// or ldaps:// URL with a host", raw)
	} else {
		c.URL = u
	}
	if ca := str(OptCA, ""); ca != "" {
		if !strings.Contains(ca, "-----BEGIN") {
			bad(OptCA, "must hold PEM certificates (a path is read when the connection is written)")
		} else if !x509.NewCertPool().AppendCertsFromPEM([]byte(ca)) {
			bad(OptCA, "holds no usable PEM certificate")
		} else {
			c.CAPEM = []byte(ca)
		}
	}
	c.StartTLS = boolean(OptStartTLS)
	if c.StartTLS && c.URL != nil && c.URL.Scheme == "ldaps" {
		bad(OptStartTLS, "cannot be used with an ldaps:// URL (already TLS)")
	}
	c.BindDN = str(OptBindUser, "")
	if c.BindDN == "" {
		// Searching anonymously is refused: the directory would serve anyone who asks.
		bad(OptBindUser, "is required: Sesame searches as a service account, never anonymously")
	} else if _, err := goldap.ParseDN(c.BindDN); err != nil {
		bad(OptBindUser, "is not a DN: %v", err)
	}
	switch plain, sealed := str(OptBindCredentials, ""), str(OptBindSealed, ""); {
	case plain != "":
		c.BindPassword = plain
	case sealed != "" && box != nil:
		p, err := openSealed(box, connection, sealed)
		if err != nil {
			bad(OptBindCredentials, "cannot be opened: %v", err)
		}
		c.BindPassword = p
	case sealed != "":
	default:
		bad(OptBindCredentials, "is required (the service account's password)")
	}
	c.Base = str(OptBase, "")
	if c.Base == "" {
		bad(OptBase, "is required (where users are searched)")
	} else if _, err := goldap.ParseDN(c.Base); err != nil {
		bad(OptBase, "is not a DN: %v", err)
	}
	def := defaultUserFilter
	idDef := "entryUUID"
	if strategy == strategyAD {
		def, idDef = defaultADUserFilter, "objectGUID"
	}
	c.UserFilter = str(OptUserByName, def)
	checkTemplate(OptUserByName, c.UserFilter, bad)
	c.IDAttribute = str(OptIDAttribute, idDef)
	c.GroupBase = str(OptBaseGroups, "")
	if c.GroupBase != "" {
		if _, err := goldap.ParseDN(c.GroupBase); err != nil {
			bad(OptBaseGroups, "is not a DN: %v", err)
		}
	}
	c.GroupFilter = str(OptSearchGroups, "(member={0})")
	checkTemplate(OptSearchGroups, c.GroupFilter, bad)
	c.GroupAttr = str(OptGroupProperty, "cn")
	c.Timeout = time.Duration(number(OptTimeoutMS, int(defaultTimeout/time.Millisecond), 100, int(maxTimeout/time.Millisecond))) * time.Millisecond
	c.PoolSize = number(OptPoolSize, defaultPoolSize, 1, maxPoolSize)
	c.Recheck = time.Duration(number(OptRecheckSeconds, int(defaultRecheck/time.Second), 0, int(maxRecheck/time.Second))) * time.Second
	c.OutageGrace = time.Duration(number(OptOutageGraceSecs, int(defaultOutageGrace/time.Second), 0, int(maxRecheck/time.Second))) * time.Second
	c.Attrs = Attributes{
		Email:      str(OptAttrEmail, "mail"),
		Name:       str(OptAttrName, "cn"),
		GivenName:  str(OptAttrGivenName, "givenName"),
		FamilyName: str(OptAttrFamilyName, "sn"),
		Nickname:   str(OptAttrNickname, ""),
		Username:   str(OptAttrUsername, "uid"),
	}
	// The username is what the user filter looks for, when it is a plain (attr={0}).
	if m := simpleFilter.FindStringSubmatch(c.UserFilter); m != nil {
		c.Attrs.Username = str(OptAttrUsername, m[1])
	} else if strategy == strategyAD {
		c.Attrs.Username = str(OptAttrUsername, "sAMAccountName")
	}
	c.EmailVerified = boolean(OptEmailVerified)
	c.DisabledAttrs = []string{"pwdAccountLockedTime"}
	if v, ok := opts[OptDisabledAttrs]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			if ss, ok2 := v.([]string); ok2 {
				for _, s := range ss {
					list = append(list, s)
				}
				ok = true
			}
		}
		if !ok {
			bad(OptDisabledAttrs, "must be a list of attribute names")
		}
		c.DisabledAttrs = nil
		for _, e := range list {
			s, ok := e.(string)
			if !ok || s == "" {
				bad(OptDisabledAttrs, "must be a list of attribute names")
				continue
			}
			c.DisabledAttrs = append(c.DisabledAttrs, s)
		}
	}
	return c, errors.Join(errs...)
}

var simpleFilter = regexp.MustCompile(`^\(([A-Za-z][A-Za-z0-9-]*)=\{0\}\)$`)

// checkTemplate makes sure a filter template holds {0} and compiles once it is filled.
func checkTemplate(key, tmpl string, bad func(string, string, ...any)) {
	switch {
	case len(tmpl) > maxFilterTemplate:
		bad(key, "is longer than %d characters", maxFilterTemplate)
	case !strings.Contains(tmpl, placeholder):
		bad(key, "must contain {0} (the escaped value to look for)")
	default:
		if _, err := goldap.CompileFilter(fill(tmpl, "x")); err != nil {
			bad(key, "%q is not an LDAP filter: %v", tmpl, err)
		}
	}
}

// fill puts the escaped value into every {0} of a filter template (RFC 4515 §3 escaping), so
// that a username such as "*)(uid=*" is looked for literally and can never widen the filter.
func fill(tmpl, value string) string {
	return strings.ReplaceAll(tmpl, placeholder, goldap.EscapeFilter(value))
}

func isOption(k string) bool {
	for _, o := range Options {
		if o == k {
			return true
		}
	}
	return false
}

// Sealer seals and opens secrets with the key-encryption key (seal.Box satisfies it).
type Sealer interface {
	Seal(plaintext, aad []byte) []byte
	Opener
}

// SealOptions returns opts ready to be stored: plain bind credentials are replaced by their
// sealed form (base64 under OptBindSealed), so that the password is never at rest in clear.
// Options without plain credentials keep the sealed ones of prev (the stored options), so that
// writing a connection back without its secret (as the Management API returns it) keeps it;
// plain credentials equal to the stored ones keep their sealed form too, so that applying the
// same tenant file twice changes nothing.
func SealOptions(box Sealer, connection string, opts, prev map[string]any) map[string]any {
	out := make(map[string]any, len(opts)+1)
	for k, v := range opts {
		out[k] = v
	}
	if plain, ok := out[OptBindCredentials].(string); ok && plain != "" {
		delete(out, OptBindCredentials)
		if s, ok := prev[OptBindSealed].(string); ok && s != "" {
			if old, err := openSealed(box, connection, s); err == nil && old == plain {
				out[OptBindSealed] = s
				return out
			}
		}
		out[OptBindSealed] = base64.StdEncoding.EncodeToString(box.Seal([]byte(plain), BindAAD(connection)))
		return out
	}
	delete(out, OptBindCredentials)
	if _, ok := out[OptBindSealed]; !ok {
		if s, ok := prev[OptBindSealed].(string); ok && s != "" {
			out[OptBindSealed] = s
		}
	}
	return out
}

// PublicOptions returns opts without the sealed bind credentials: what a listing shows.
func PublicOptions(opts map[string]any) map[string]any {
	out := make(map[string]any, len(opts))
	for k, v := range opts {
		if k != OptBindSealed && k != OptBindCredentials {
			out[k] = v
		}
	}
	return out
}

func openSealed(box Opener, connection, sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", errors.New("not base64")
	}
	p, err := box.Open(raw, BindAAD(connection))
	if err != nil {
		return "", err
	}
	return string(p), nil
}

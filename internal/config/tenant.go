package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TenantFile is a parsed tenant file: the YAML layout of the Auth0 Deploy CLI (a0deploy export
// -f yaml), plus Sesame's own users section. An export of a real Auth0 tenant parses; the parts
// Sesame applies are typed here, everything else is listed in Ignored (known to the Deploy CLI
// format but not applied by Sesame) or Unknown (not known at all, typically a typo). For example:
//
//	tenant:
//	  friendly_name: Acme
//	  default_directory: Username-Password-Authentication
//	  default_audience: https://api.acme.test/
//	  flags:
//	    revoke_refresh_token_grant: true
//	clients:
//	  - name: Acme Mobile
//	    app_type: native
//	    grant_types: [password, refresh_token]
//	    refresh_token: {rotation_type: rotating, expiration_type: expiring, leeway: 0}
//	  - name: Acme Backend
//	    app_type: non_interactive
//	    grant_types: [client_credentials, http://auth0.com/oauth/grant-type/password-realm]
//	    client_secret: '##BACKEND_SECRET##'
//	databases:
//	  - name: Username-Password-Authentication
//	    enabled_clients: [Acme Mobile, Acme Backend]
//	resourceServers:
//	  - name: Acme API
//	    identifier: https://api.acme.test/
//	    allow_offline_access: true
//	    scopes: [{value: read:orders, description: Read orders}]
//	users:
//	  - connection: Username-Password-Authentication
//	    email: alice@acme.test
//	    password: '@@ALICE_PASSWORD@@'
//	    permissions:
//	      - {resource_server_identifier: https://api.acme.test/, permission_name: read:orders}
//
// Optional fields are pointers (or nil slices and maps) so that applying a file changes only
// what it names, as the Deploy CLI does: an absent field keeps the stored value, and takes its
// default only when the object is created.
type TenantFile struct {
	// Tenant is the tenant settings section; nil when the file has none.
	Tenant *TenantSettings
	// Clients are the applications, in file order.
	Clients []Client
	// Databases are the auth0-strategy connections of the databases section.
	Databases []Connection
	// Connections are the connections section's connections of ConnectionStrategies (auth0,
	// ad/ldap for LDAP and Active Directory, email/sms for passwordless codes). Connections of other strategies are not here:
	// they are listed in Ignored.
	Connections []Connection
	// ResourceServers are the APIs.
	ResourceServers []ResourceServer
	// ClientGrants are the clientGrants section (see ClientGrant).
	ClientGrants []ClientGrant
	// Users is Sesame's own section (the Deploy CLI does not manage users).
	Users []User
	// AttackProtection is the attackProtection section; nil when the file has none.
	AttackProtection *AttackProtection
	// GuardianFactors are the supported factors the guardianFactors section names (nil when
	// the file has none); GuardianPolicies is the guardianPolicies section (nil when absent).
	GuardianFactors  []GuardianFactor
	GuardianPolicies *GuardianPolicies

	// Rules, Actions and Triggers are stored by Apply (admin) and run by package hooks.
	// Triggers maps a trigger id (post-login) to its actions in execution order.
	Rules    []Rule
	Actions  []Action
	Triggers map[string][]TriggerBinding

	// Ignored lists what the file holds that Sesame does not apply, by path
	// (e.g. "clients[0].callbacks", "pages", `connections[1] (strategy "waad")`).
	Ignored []string
	// Unknown lists keys that are not part of the Deploy CLI format at all, by path with a
	// hint (e.g. "clients[2].grant_type: unknown key (did you mean grant_types?)"). Without
	// Strict they are warnings: a newer Deploy CLI export may carry keys this version does not
	// know yet, and refusing it would make an export unusable.
	Unknown []string

	// BaseDir is the directory that relative file references (rule scripts, action code)
	// resolve against.
	BaseDir string
}

// TenantOptions tune ParseTenantFile.
type TenantOptions struct {
	// BaseDir resolves relative file references; LoadTenantFile defaults it to the file's
	// directory.
	BaseDir string
	// Strict makes ignored and unknown keys errors.
	Strict bool
	// Vars are the Deploy CLI keyword replacements (the CLI passes the environment). In the
	// file's text, ##KEY## is replaced by the value as is and @@KEY@@ by the value as a JSON
	// string, as the Deploy CLI does (AUTH0_KEYWORD_REPLACE_MAPPINGS). Placeholders whose key
	// is absent from Vars are left untouched. Nil disables replacement.
	Vars map[string]string
}

// TenantSettings is the tenant section (Auth0's tenant settings object).
type TenantSettings struct {
	FriendlyName *string
	// DefaultDirectory names the connection the password grant uses when no realm is sent;
	// "" unsets it.
	DefaultDirectory *string
	// DefaultAudience is the API identifier used when a token request names no audience; ""
	// unsets it.
	DefaultAudience *string
	// RevokeRefreshTokenGrant is flags.revoke_refresh_token_grant ("Refresh Token Revocation
	// Deletes Grant" in Auth0's dashboard): revoking a refresh token revokes every refresh
	// token of the same user, client and audience.
	RevokeRefreshTokenGrant *bool
}

// Client is one entry of the clients section (an application).
type Client struct {
	// Path is where the client sits in the file, e.g. "clients[2]".
	Path string
	Name string
	// ClientID is optional: when given the client is matched by it, else by Name, and a new
	// client gets 32 random alphanumerics.
	ClientID string
	// ClientSecret is optional; a new confidential client without one gets a generated secret.
	ClientSecret string
	Description  *string
	// AppType is non_interactive, regular_web, spa or native.
	AppType *string
	// GrantTypes is nil when absent. Grant types Auth0 knows but Sesame does not serve (see
	// IgnoredGrantType) are kept here, listed in TenantFile.Ignored, and not stored by Apply.
	GrantTypes []string
	// TokenEndpointAuthMethod is client_secret_post, client_secret_basic, private_key_jwt or none.
	TokenEndpointAuthMethod *string
	JWTConfiguration        *JWTConfiguration
	// Credentials are client_authentication_methods.private_key_jwt.credentials; nil when absent.
	Credentials                    []ClientCredential
	RefreshToken                   *RefreshTokenSettings
	IsTokenEndpointIPHeaderTrusted *bool
	ClientMetadata                 map[string]string
	// WebOrigins are Auth0's Allowed Web Origins, the browser origins allowed to call the
	// token endpoint (CORS); nil when absent. The admin service validates them.
	WebOrigins []string
}

// JWTConfiguration is a client's jwt_configuration (its ID tokens).
type JWTConfiguration struct {
	// Alg is RS256 or HS256 (signed with the client secret).
	Alg               *string
	LifetimeInSeconds *int
}

// ClientCredential is a public key for private_key_jwt client authentication.
type ClientCredential struct {
	Name string
	// CredentialType is public_key.
	CredentialType string
	// PEM is a PKIX public key or an X.509 certificate.
	PEM string
}

// RefreshTokenSettings is a client's refresh_token object.
type RefreshTokenSettings struct {
	// RotationType is rotating or non-rotating.
	RotationType *string
	// ExpirationType is expiring or non-expiring.
	ExpirationType            *string
	TokenLifetime             *int
	IdleTokenLifetime         *int
	InfiniteTokenLifetime     *bool
	InfiniteIdleTokenLifetime *bool
	Leeway                    *int
}

// ConnectionStrategies are the strategies of the connections section that Sesame serves.
var ConnectionStrategies = []string{"auth0", "ad", "ldap", "email", "sms"}

// Connection is an entry of the databases or connections section.
type Connection struct {
	// Path is where the connection sits in the file, e.g. "databases[0]".
	Path     string
	Name     string
	Strategy string
	// EnabledClients are client names (as the Deploy CLI writes them) or client ids; nil when
	// absent.
	EnabledClients []string
	// Options are the strategy's settings, JSON-compatible; nil when absent.
	Options map[string]any
}

// ResourceServer is an entry of the resourceServers section (an API).
type ResourceServer struct {
	// Path is where the API sits in the file, e.g. "resourceServers[0]".
	Path       string
	Name       string
	Identifier string
	// Scopes is nil when absent.
	Scopes []Scope
	// SigningAlg is RS256 (default), PS256, RS512, HS256, ES256 or EdDSA.
	SigningAlg *string
	// SigningSecret is the HS256 key; generated for a new HS256 API when empty.
	SigningSecret      string
	AllowOfflineAccess *bool
	TokenLifetime      *int
	// TokenDialect is access_token, access_token_authz, rfc9068_profile or rfc9068_profile_authz.
	TokenDialect    *string
	EnforcePolicies *bool
}

// Scope is one permission an API defines.
type Scope struct {
	Value       string
	Description string
}

// User is an entry of Sesame's users section.
type User struct {
	// Path is where the user sits in the file, e.g. "users[0]".
	Path       string
	Connection string
	// UserID is optional, auth0|<24 hex>.
	UserID   string
	Email    string
	Username string
	// Password is a plaintext password to hash; PasswordHash an already hashed PHC string.
	// At most one is set.
	Password      string
	PasswordHash  string
	EmailVerified *bool
	Name          *string
	Nickname      *string
	Picture       *string
	GivenName     *string
	FamilyName    *string
	AppMetadata   map[string]any
	UserMetadata  map[string]any
	Blocked       *bool
	// Permissions is nil when absent.
	Permissions []Permission
}

// Permission grants a user one scope of an API.
type Permission struct {
	ResourceServerIdentifier string
	PermissionName           string
}

// Rule is an entry of the rules section. Script is a file reference relative to BaseDir.
type Rule struct {
	Name    string `yaml:"name"`
	Script  string `yaml:"script"`
	Stage   string `yaml:"stage"`
	Order   *int   `yaml:"order"`
	Enabled *bool  `yaml:"enabled"`
}

// Action is an entry of the actions section. Code is a file reference relative to BaseDir.
type Action struct {
	Name              string             `yaml:"name"`
	Code              string             `yaml:"code"`
	Runtime           string             `yaml:"runtime"`
	Deployed          *bool              `yaml:"deployed"`
	Status            string             `yaml:"status"`
	Dependencies      []ActionDependency `yaml:"dependencies"`
	Secrets           []ActionSecret     `yaml:"secrets"`
	SupportedTriggers []ActionTrigger    `yaml:"supported_triggers"`
}

// ActionDependency is an npm package an action requires.
type ActionDependency struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
}

// ActionSecret is a secret an action reads from event.secrets.
type ActionSecret struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// ActionTrigger names a trigger an action can be bound to.
type ActionTrigger struct {
	ID      string `yaml:"id"`
	Version string `yaml:"version"`
}

// TriggerBinding binds an action (by name) to a trigger, in execution order.
type TriggerBinding struct {
	ActionName  string `yaml:"action_name"`
	DisplayName string `yaml:"display_name"`
}

// Problem is one thing wrong with a tenant file, at a path such as "clients[2].grant_types[0]".
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	if p.Message == "" {
		return p.Path
	}
	return p.Path + ": " + p.Message
}

// TenantFileError lists every problem found in a tenant file. Error joins them one per line.
type TenantFileError struct {
	// File is the file's path when it was loaded from disk.
	File     string
	Problems []Problem
}

func (e *TenantFileError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			b.WriteString(": ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ParseTenantFile parses a tenant file: its structure and the types of its values. Every problem
// is reported at once in a *TenantFileError; with opts.Strict, ignored and unknown keys are
// problems too. Whether the records it holds are valid (value sets, lengths, duplicates,
// references) is admin's to decide: admin.Service.Apply checks them all before writing.
func ParseTenantFile(data []byte, opts TenantOptions) (*TenantFile, error) {
	if opts.Vars != nil {
		data = replaceKeywords(data, opts.Vars)
	}
	d := newTenantDecoder()
	tf := d.decodeFile(data)
	tf.BaseDir = opts.BaseDir
	for _, p := range d.ignored {
		tf.Ignored = append(tf.Ignored, p.String())
	}
	for _, p := range d.unknown {
		tf.Unknown = append(tf.Unknown, p.String())
	}
	problems := d.problems
	if opts.Strict {
		for _, p := range d.ignored {
			msg := "not applied by Sesame (strict mode)"
			if p.Message != "" {
				msg = p.Message + ", not applied by Sesame (strict mode)"
			}
			problems = append(problems, Problem{Path: p.Path, Message: msg})
		}
		problems = append(problems, d.unknown...)
	}
	if len(problems) > 0 {
		return tf, &TenantFileError{Problems: problems}
	}
	return tf, nil
}

// LoadTenantFile reads and parses the tenant file at path; relative file references resolve
// against its directory unless opts.BaseDir is set.
func LoadTenantFile(path string, opts TenantOptions) (*TenantFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tenant file: %w", err)
	}
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	tf, err := ParseTenantFile(data, opts)
	if te, ok := err.(*TenantFileError); ok {
		te.File = path
	}
	return tf, err
}

package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// MinClientSecretLength is the shortest client_secret a tenant file may set. It equals
// password.MinSecretLength (config imports nothing of ours; a test in admin keeps them equal).
const MinClientSecretLength = 32

// MinSigningSecretLength is the shortest HS256 signing_secret: RFC 7518 section 3.2 requires a
// key at least as long as the hash output (256 bits).
const MinSigningSecretLength = 32

// Value sets of the fields Sesame applies.
var (
	// GrantTypes are the grant types a client may list.
	GrantTypes = []string{
		"password",
		"http://auth0.com/oauth/grant-type/password-realm",
		"refresh_token",
		"http://auth0.com/oauth/grant-type/mfa-otp",
		"http://auth0.com/oauth/grant-type/mfa-oob",
		"http://auth0.com/oauth/grant-type/mfa-recovery-code",
		"http://auth0.com/oauth/grant-type/passwordless/otp",
		"client_credentials",
		"authorization_code",
		"implicit",
	}
	appTypes          = []string{"non_interactive", "regular_web", "spa", "native"}
	authMethods       = []string{"client_secret_post", "client_secret_basic", "private_key_jwt", "none"}
	idTokenAlgs       = []string{"RS256", "PS256", "HS256"}
	apiSigningAlgs    = []string{"RS256", "PS256", "RS512", "HS256", "ES256", "EdDSA"}
	tokenDialects     = []string{"access_token", "access_token_authz", "rfc9068_profile", "rfc9068_profile_authz"}
	rotationTypes     = []string{"rotating", "non-rotating"}
	expirationTypes   = []string{"expiring", "non-expiring"}
	connectionNameRE  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$`)
	clientIDRE        = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)
	userIDRE          = regexp.MustCompile(`^auth0\|[0-9a-f]{24}$`)
	maxClientMetadata = 10
)

// Limits from Auth0's Management API.
const (
	maxTokenLifetime   = 2592000  // resource server token_lifetime: 30 days
	maxRefreshLifetime = 31557600 // refresh token_lifetime / idle_token_lifetime: 1 year
)

// ServedGrantType reports whether Sesame serves grant type g (it is in GrantTypes); other
// grant types Auth0 knows are ignored.
func ServedGrantType(g string) bool { return contains(GrantTypes, g) }

// PublicApp reports whether an app type is a public client (no secret; token endpoint auth
// method none by default).
func PublicApp(appType string) bool { return appType == "spa" || appType == "native" }

type validator struct{ problems []Problem }

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(path string, val *string, allowed []string) {
	if val != nil && !contains(allowed, *val) {
		v.add(path, "must be one of %s, got %q", strings.Join(allowed, ", "), *val)
	}
}

// Validate checks everything that can be checked from the file alone and reports every problem
// at once as a *TenantFileError. References that may name objects already in the store
// (enabled_clients, a user's connection, default_directory, default_audience, permissions of an
// API not in the file) are checked by admin.Service.Apply against the file and the store.
func (tf *TenantFile) Validate() error {
	v := &validator{}
	tf.validateClients(v)
	tf.validateConnections(v)
	tf.validateAPIs(v)
	tf.validateClientGrants(v)
	tf.validateUsers(v)
	if len(v.problems) > 0 {
		return &TenantFileError{Problems: v.problems}
	}
	return nil
}

func (tf *TenantFile) validateClients(v *validator) {
	names, ids := map[string]string{}, map[string]string{}
	for _, c := range tf.Clients {
		p := c.Path
		switch {
		case c.Name == "":
			v.add(join(p, "name"), "is required")
		case strings.ContainsAny(c.Name, "<>"):
			v.add(join(p, "name"), "must not contain < or >")
		case names[c.Name] != "":
			v.add(join(p, "name"), "duplicate client name %q (also at %s)", c.Name, names[c.Name])
		default:
			names[c.Name] = p
		}
		if c.ClientID != "" {
			switch {
			case !clientIDRE.MatchString(c.ClientID):
				v.add(join(p, "client_id"), "must be 1 to 128 letters, digits or ._~-")
			case ids[c.ClientID] != "":
				v.add(join(p, "client_id"), "duplicate client_id (also at %s)", ids[c.ClientID])
			default:
				ids[c.ClientID] = p
			}
		}
		v.oneOf(join(p, "app_type"), c.AppType, appTypes)
		v.oneOf(join(p, "token_endpoint_auth_method"), c.TokenEndpointAuthMethod, authMethods)
		method := ""
		if c.TokenEndpointAuthMethod != nil {
			method = *c.TokenEndpointAuthMethod
		} else if c.AppType != nil && PublicApp(*c.AppType) {
			method = "none"
		}
		if c.ClientSecret != "" {
			if len(c.ClientSecret) < MinClientSecretLength {
				v.add(join(p, "client_secret"), "must be at least %d characters", MinClientSecretLength)
			}
			if method == "none" {
				v.add(join(p, "client_secret"), "a public client (token_endpoint_auth_method none) has no secret")
			}
		}
		for i, g := range c.GrantTypes {
			gp := index(join(p, "grant_types"), i)
			switch {
			case contains(unservedGrantTypes, g): // reported as ignored by the decoder
			case !contains(GrantTypes, g):
				v.add(gp, "unknown grant type %q", g)
			case g == "client_credentials" && method == "none":
				v.add(gp, "client_credentials needs a confidential client, but token_endpoint_auth_method is none")
			}
		}
		if j := c.JWTConfiguration; j != nil {
			v.oneOf(join(p, "jwt_configuration.alg"), j.Alg, idTokenAlgs)
			if j.LifetimeInSeconds != nil && *j.LifetimeInSeconds <= 0 {
				v.add(join(p, "jwt_configuration.lifetime_in_seconds"), "must be positive")
			}
			if j.Alg != nil && *j.Alg == "HS256" && method == "none" {
				v.add(join(p, "jwt_configuration.alg"), "HS256 signs with the client secret, which a public client does not have")
			}
		}
		credPath := join(p, "client_authentication_methods.private_key_jwt.credentials")
		if c.Credentials != nil && len(c.Credentials) == 0 && method == "private_key_jwt" {
			v.add(credPath, "private_key_jwt needs at least one credential")
		}
		for i, k := range c.Credentials {
			kp := index(credPath, i)
			if k.CredentialType != "public_key" {
				v.add(join(kp, "credential_type"), "must be public_key, got %q", k.CredentialType)
			}
			// What a usable key is, admin decides with the rule verification uses
			// (token.ParseClientKey); the file only has to give one.
			if k.PEM == "" {
				v.add(join(kp, "pem"), "is required")
			}
		}
		if r := c.RefreshToken; r != nil {
			rp := join(p, "refresh_token")
			v.oneOf(join(rp, "rotation_type"), r.RotationType, rotationTypes)
			v.oneOf(join(rp, "expiration_type"), r.ExpirationType, expirationTypes)
			for _, f := range []struct {
				name string
				val  *int
			}{{"token_lifetime", r.TokenLifetime}, {"idle_token_lifetime", r.IdleTokenLifetime}} {
				if f.val != nil && (*f.val <= 0 || *f.val > maxRefreshLifetime) {
					v.add(join(rp, f.name), "must be between 1 and %d seconds", maxRefreshLifetime)
				}
			}
			if r.TokenLifetime != nil && r.IdleTokenLifetime != nil && *r.TokenLifetime > 0 && *r.IdleTokenLifetime > *r.TokenLifetime {
				v.add(join(rp, "idle_token_lifetime"), "must not exceed token_lifetime (%d)", *r.TokenLifetime)
			}
			if r.Leeway != nil && *r.Leeway < 0 {
				v.add(join(rp, "leeway"), "must not be negative")
			}
		}
		if len(c.ClientMetadata) > maxClientMetadata {
			v.add(join(p, "client_metadata"), "at most %d keys", maxClientMetadata)
		}
	}
}

func (tf *TenantFile) validateConnections(v *validator) {
	seen := map[string]string{}
	all := append(append([]Connection{}, tf.Databases...), tf.Connections...)
	for _, c := range all {
		p := c.Path
		switch {
		case c.Name == "":
			v.add(join(p, "name"), "is required")
		case !connectionNameRE.MatchString(c.Name):
			v.add(join(p, "name"), "must be letters, digits and dashes, not starting or ending with a dash, at most 128 characters")
		case seen[c.Name] != "":
			v.add(join(p, "name"), "duplicate connection name %q (also at %s)", c.Name, seen[c.Name])
		default:
			seen[c.Name] = p
		}
		if strings.HasPrefix(p, "databases") && c.Strategy != "auth0" {
			v.add(join(p, "strategy"), "must be auth0, got %q", c.Strategy)
		} else if !slices.Contains(ConnectionStrategies, c.Strategy) {
			v.add(join(p, "strategy"), "must be one of %v, got %q", ConnectionStrategies, c.Strategy)
		}
		for i, e := range c.EnabledClients {
			if e == "" {
				v.add(index(join(p, "enabled_clients"), i), "must not be empty")
			}
		}
	}
}

func (tf *TenantFile) validateAPIs(v *validator) {
	seen := map[string]string{}
	for _, r := range tf.ResourceServers {
		p := r.Path
		switch {
		case r.Identifier == "":
			v.add(join(p, "identifier"), "is required")
		case seen[r.Identifier] != "":
			v.add(join(p, "identifier"), "duplicate identifier %q (also at %s)", r.Identifier, seen[r.Identifier])
		default:
			seen[r.Identifier] = p
		}
		scopes := map[string]bool{}
		for i, s := range r.Scopes {
			sp := join(index(join(p, "scopes"), i), "value")
			switch {
			case s.Value == "":
				v.add(sp, "is required")
			case strings.ContainsAny(s.Value, " \t\n"):
				v.add(sp, "must not contain spaces")
			case scopes[s.Value]:
				v.add(sp, "duplicate scope %q", s.Value)
			}
			scopes[s.Value] = true
		}
		v.oneOf(join(p, "signing_alg"), r.SigningAlg, apiSigningAlgs)
		if r.SigningSecret != "" && len(r.SigningSecret) < MinSigningSecretLength {
			v.add(join(p, "signing_secret"), "must be at least %d characters", MinSigningSecretLength)
		}
		if r.TokenLifetime != nil && (*r.TokenLifetime <= 0 || *r.TokenLifetime > maxTokenLifetime) {
			v.add(join(p, "token_lifetime"), "must be between 1 and %d seconds", maxTokenLifetime)
		}
		v.oneOf(join(p, "token_dialect"), r.TokenDialect, tokenDialects)
		if r.TokenDialect != nil && strings.HasSuffix(*r.TokenDialect, "_authz") && r.EnforcePolicies != nil && !*r.EnforcePolicies {
			v.add(join(p, "token_dialect"), "%s needs enforce_policies: true", *r.TokenDialect)
		}
	}
}

func (tf *TenantFile) validateUsers(v *validator) {
	apis := map[string]ResourceServer{}
	for _, r := range tf.ResourceServers {
		apis[r.Identifier] = r
	}
	emails, usernames, ids := map[string]string{}, map[string]string{}, map[string]string{}
	for _, u := range tf.Users {
		p := u.Path
		if u.Connection == "" {
			v.add(join(p, "connection"), "is required")
		}
		if u.Email == "" && u.Username == "" {
			v.add(p, "email or username is required")
		}
		if u.Email != "" {
			key := u.Connection + "\x00" + strings.ToLower(u.Email)
			switch {
			case !validEmail(u.Email):
				v.add(join(p, "email"), "is not an email address")
			case emails[key] != "":
				v.add(join(p, "email"), "duplicate user (also at %s)", emails[key])
			default:
				emails[key] = p
			}
		}
		if u.Username != "" {
			key := u.Connection + "\x00" + u.Username
			switch {
			case len(u.Username) > 128 || strings.ContainsAny(u.Username, " \t\n"):
				v.add(join(p, "username"), "must be at most 128 characters, without spaces")
			case usernames[key] != "":
				v.add(join(p, "username"), "duplicate user (also at %s)", usernames[key])
			default:
				usernames[key] = p
			}
		}
		if u.UserID != "" {
			switch {
			case !userIDRE.MatchString(u.UserID):
				v.add(join(p, "user_id"), "must look like auth0|<24 hex digits>")
			case ids[u.UserID] != "":
				v.add(join(p, "user_id"), "duplicate user_id (also at %s)", ids[u.UserID])
			default:
				ids[u.UserID] = p
			}
		}
		if u.Password != "" && u.PasswordHash != "" {
			v.add(join(p, "password_hash"), "give password or password_hash, not both")
		}
		if u.PasswordHash != "" && !strings.HasPrefix(u.PasswordHash, "$") {
			v.add(join(p, "password_hash"), "must be a PHC string such as $argon2id$... or $2b$...")
		}
		for i, perm := range u.Permissions {
			pp := index(join(p, "permissions"), i)
			if perm.ResourceServerIdentifier == "" {
				v.add(join(pp, "resource_server_identifier"), "is required")
			}
			if perm.PermissionName == "" {
				v.add(join(pp, "permission_name"), "is required")
				continue
			}
			if api, ok := apis[perm.ResourceServerIdentifier]; ok && api.Scopes != nil && !hasScope(api.Scopes, perm.PermissionName) {
				v.add(join(pp, "permission_name"), "%q is not a scope of %s", perm.PermissionName, api.Identifier)
			}
		}
	}
}

func hasScope(scopes []Scope, value string) bool {
	for _, s := range scopes {
		if s.Value == value {
			return true
		}
	}
	return false
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\n") && len(s) <= 254
}

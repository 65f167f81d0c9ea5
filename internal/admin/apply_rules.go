package admin

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
)

// The rules a tenant file's records must keep that the file alone can show (value sets,
// lengths, duplicates within the file). They live here, with the CRUD rules, so that admin is
// the one owner of what a valid client, API, connection, user and client grant is; config only
// parses. References that may name objects already in the store (enabled_clients, a user's
// connection, a grant's client and API) are checked by the plan against the file and the store.

// minSigningSecretLength is the shortest HS256 signing_secret: RFC 7518 section 3.2 requires a
// key at least as long as the hash output (256 bits).
const minSigningSecretLength = 32

// maxRefreshLifetime bounds a refresh token_lifetime / idle_token_lifetime in a tenant file:
// one year, Auth0's limit.
const maxRefreshLifetime = 31557600

var (
	fileRotationTypes   = []string{"rotating", "non-rotating"}
	fileExpirationTypes = []string{"expiring", "non-expiring"}
	fileUserID          = regexp.MustCompile(`^auth0\|[0-9a-f]{24}$`)
	maxClientMetadata   = 10
)

type fileRules struct{ problems []config.Problem }

func (v *fileRules) add(path, format string, args ...any) {
	v.problems = append(v.problems, config.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// invalid reports a CRUD rule's *ValidationError at its field under path.
func (v *fileRules) invalid(path string, err error) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		v.add(path+"."+ve.Field, "%s", ve.Message)
	} else {
		v.add(path, "%v", err)
	}
}

func (v *fileRules) oneOf(path string, val *string, allowed []string) {
	if val != nil && !slices.Contains(allowed, *val) {
		v.add(path, "must be one of %s, got %q", strings.Join(allowed, ", "), *val)
	}
}

// checkTenantFile reports every problem of the file's records that needs no store, in file
// order: clients, connections, APIs, client grants, users.
func checkTenantFile(tf *config.TenantFile) []config.Problem {
	v := &fileRules{}
	v.clients(tf.Clients)
	v.connections(tf)
	v.apis(tf.ResourceServers)
	v.clientGrants(tf.ClientGrants)
	v.users(tf)
	return v.problems
}

func (v *fileRules) clients(clients []config.Client) {
	names, ids := map[string]string{}, map[string]string{}
	for _, c := range clients {
		p := c.Path
		switch err := checkName("name", c.Name); {
		case err != nil:
			v.invalid(p, err)
		case names[c.Name] != "":
			v.add(p+".name", "duplicate client name %q (also at %s)", c.Name, names[c.Name])
		default:
			names[c.Name] = p
		}
		if c.ClientID != "" {
			switch err := checkClientID(c.ClientID); {
			case err != nil:
				v.invalid(p, err)
			case ids[c.ClientID] != "":
				v.add(p+".client_id", "duplicate client_id (also at %s)", ids[c.ClientID])
			default:
				ids[c.ClientID] = p
			}
		}
		// app_type, token_endpoint_auth_method and jwt_configuration are checked by the
		// Management API's rules (checkClientKind, checkIDToken) on the record as it will be
		// stored. What a public client may not have (a secret, client_credentials, HS256) and that
		// private_key_jwt needs a credential, the plan checks on the record as it will be
		// stored (planClients), where the stored fields the file leaves out count too.
		if c.ClientSecret != "" && len(c.ClientSecret) < password.MinSecretLength {
			v.add(p+".client_secret", "must be at least %d characters", password.MinSecretLength)
		}
		for i, g := range c.GrantTypes {
			if !config.IgnoredGrantType(g) && !slices.Contains(KnownGrantTypes, g) {
				v.add(fmt.Sprintf("%s.grant_types[%d]", p, i), "unknown grant type %q", g)
			}
		}
		credPath := p + ".client_authentication_methods.private_key_jwt.credentials"
		for i, k := range c.Credentials {
			kp := fmt.Sprintf("%s[%d]", credPath, i)
			if k.CredentialType != "public_key" {
				v.add(kp+".credential_type", "must be public_key, got %q", k.CredentialType)
			}
			// What a usable key is, the plan decides with the rule verification uses
			// (token.ParseClientKey); here the file only has to give one.
			if k.PEM == "" {
				v.add(kp+".pem", "is required")
			}
		}
		if r := c.RefreshToken; r != nil {
			rp := p + ".refresh_token"
			v.oneOf(rp+".rotation_type", r.RotationType, fileRotationTypes)
			v.oneOf(rp+".expiration_type", r.ExpirationType, fileExpirationTypes)
			for _, f := range []struct {
				name string
				val  *int
			}{{"token_lifetime", r.TokenLifetime}, {"idle_token_lifetime", r.IdleTokenLifetime}} {
				if f.val != nil && (*f.val <= 0 || *f.val > maxRefreshLifetime) {
					v.add(rp+"."+f.name, "must be between 1 and %d seconds", maxRefreshLifetime)
				}
			}
			if r.TokenLifetime != nil && r.IdleTokenLifetime != nil && *r.TokenLifetime > 0 && *r.IdleTokenLifetime > *r.TokenLifetime {
				v.add(rp+".idle_token_lifetime", "must not exceed token_lifetime (%d)", *r.TokenLifetime)
			}
			if r.Leeway != nil && *r.Leeway < 0 {
				v.add(rp+".leeway", "must not be negative")
			}
		}
		if len(c.ClientMetadata) > maxClientMetadata {
			v.add(p+".client_metadata", "at most %d keys", maxClientMetadata)
		}
	}
}

func (v *fileRules) connections(tf *config.TenantFile) {
	seen := map[string]string{}
	all := append(append([]config.Connection{}, tf.Databases...), tf.Connections...)
	for _, c := range all {
		p := c.Path
		switch err := CheckConnectionName(c.Name); {
		case err != nil:
			v.invalid(p, err)
		case seen[c.Name] != "":
			v.add(p+".name", "duplicate connection name %q (also at %s)", c.Name, seen[c.Name])
		default:
			seen[c.Name] = p
		}
		if strings.HasPrefix(p, "databases") && c.Strategy != "auth0" {
			v.add(p+".strategy", "must be auth0, got %q", c.Strategy)
		} else if !slices.Contains(config.ConnectionStrategies, c.Strategy) {
			v.add(p+".strategy", "must be one of %v, got %q", config.ConnectionStrategies, c.Strategy)
		}
		for i, e := range c.EnabledClients {
			if e == "" {
				v.add(fmt.Sprintf("%s.enabled_clients[%d]", p, i), "must not be empty")
			}
		}
	}
}

// apis checks what only a file can get wrong: an identifier given twice, and a signing secret
// too short (the Management API generates them). An API's fields (identifier, scopes,
// signing_alg, token_lifetime, token_dialect) are checked by CheckAPI, the CRUD rule, on the
// record as it will be stored (planAPIs).
func (v *fileRules) apis(apis []config.ResourceServer) {
	seen := map[string]string{}
	for _, r := range apis {
		p := r.Path
		if first := seen[r.Identifier]; r.Identifier != "" && first != "" {
			v.add(p+".identifier", "duplicate identifier %q (also at %s)", r.Identifier, first)
		} else if r.Identifier != "" {
			seen[r.Identifier] = p
		}
		if r.SigningSecret != "" && len(r.SigningSecret) < minSigningSecretLength {
			v.add(p+".signing_secret", "must be at least %d characters", minSigningSecretLength)
		}
	}
}

// clientGrants checks that the client and the audience are named, scopes are not empty
// strings, and no client and audience pair is granted twice. That the client and the API
// exist and the scopes are the API's, planClientGrants checks against the file and the store.
func (v *fileRules) clientGrants(grants []config.ClientGrant) {
	seen := map[[2]string]string{}
	for _, g := range grants {
		if g.ClientID == "" {
			v.add(g.Path+".client_id", "is required")
		}
		if g.Audience == "" {
			v.add(g.Path+".audience", "is required")
		}
		for i, sc := range g.Scope {
			if sc == "" {
				v.add(fmt.Sprintf("%s.scope[%d]", g.Path, i), "must not be empty")
			}
		}
		key := [2]string{g.ClientID, g.Audience}
		if first, ok := seen[key]; ok && g.ClientID != "" && g.Audience != "" {
			v.add(g.Path, "grants %q the audience %q again (see %s): one grant per client and audience", g.ClientID, g.Audience, first)
			continue
		}
		seen[key] = g.Path
	}
}

// users checks what the file alone can tell: a connection and a login are named, no user is
// given twice, a password hash is a PHC string. The email and username rules (CheckEmail,
// CheckUsername) and that a permission is a scope of its API, the plan checks against the
// user's connection and the APIs of the file and the store (planUsers).
func (v *fileRules) users(tf *config.TenantFile) {
	emails, usernames, ids := map[string]string{}, map[string]string{}, map[string]string{}
	for _, u := range tf.Users {
		p := u.Path
		if u.Connection == "" {
			v.add(p+".connection", "is required")
		}
		if u.Email == "" && u.Username == "" {
			v.add(p, "email or username is required")
		}
		if u.Email != "" {
			key := u.Connection + "\x00" + strings.ToLower(u.Email)
			if emails[key] != "" {
				v.add(p+".email", "duplicate user (also at %s)", emails[key])
			} else {
				emails[key] = p
			}
		}
		if u.Username != "" {
			key := u.Connection + "\x00" + u.Username
			if usernames[key] != "" {
				v.add(p+".username", "duplicate user (also at %s)", usernames[key])
			} else {
				usernames[key] = p
			}
		}
		if u.UserID != "" {
			switch {
			case !fileUserID.MatchString(u.UserID):
				v.add(p+".user_id", "must look like auth0|<24 hex digits>")
			case ids[u.UserID] != "":
				v.add(p+".user_id", "duplicate user_id (also at %s)", ids[u.UserID])
			default:
				ids[u.UserID] = p
			}
		}
		if u.Password != "" && u.PasswordHash != "" {
			v.add(p+".password_hash", "give password or password_hash, not both")
		}
		if u.PasswordHash != "" && !strings.HasPrefix(u.PasswordHash, "$") {
			v.add(p+".password_hash", "must be a PHC string such as $argon2id$... or $2b$...")
		}
		for i, perm := range u.Permissions {
			pp := fmt.Sprintf("%s.permissions[%d]", p, i)
			if perm.ResourceServerIdentifier == "" {
				v.add(pp+".resource_server_identifier", "is required")
			}
			if perm.PermissionName == "" {
				v.add(pp+".permission_name", "is required")
			}
		}
	}
}

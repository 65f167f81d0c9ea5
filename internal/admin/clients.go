package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// Grant types Auth0 names (Management API client.grant_types).
const (
	GrantPassword          = "password"
	GrantPasswordRealm     = "http://auth0.com/oauth/grant-type/password-realm"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantMFAOTP            = "http://auth0.com/oauth/grant-type/mfa-otp"
	GrantMFAOOB            = "http://auth0.com/oauth/grant-type/mfa-oob"
	GrantMFARecoveryCode   = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
	GrantPasswordlessOTP   = "http://auth0.com/oauth/grant-type/passwordless/otp"
	GrantAuthorizationCode = "authorization_code"
	GrantImplicit          = "implicit"
)

// KnownGrantTypes are the grant types a client may list. The browser grants
// (authorization_code, implicit) are accepted so that an Auth0 client definition carries
// over, though Sesame's token endpoint does not serve them.
var KnownGrantTypes = []string{
	GrantPassword, GrantPasswordRealm, GrantRefreshToken, GrantClientCredentials,
	GrantMFAOTP, GrantMFAOOB, GrantMFARecoveryCode, GrantPasswordlessOTP, GrantAuthorizationCode, GrantImplicit,
}

// DefaultGrantTypes are given to a client created without grant_types: a first-party app
// using the Resource Owner Password flow, with or without a realm, and refresh tokens.
var DefaultGrantTypes = []string{GrantPassword, GrantPasswordRealm, GrantRefreshToken}

// App types (client.app_type).
const (
	AppNonInteractive = "non_interactive"
	AppRegularWeb     = "regular_web"
	AppSPA            = "spa"
	AppNative         = "native"
)

// Token endpoint authentication methods (client.token_endpoint_auth_method).
const (
	AuthSecretPost  = "client_secret_post"
	AuthSecretBasic = "client_secret_basic"
	AuthPrivateKey  = "private_key_jwt"
	AuthNone        = "none"
)

// Client defaults (Auth0's for a new application).
const (
	DefaultIDTokenLifetime     = 36000
	DefaultRefreshLifetime     = 2592000
	DefaultRefreshIdleLifetime = 1296000
	maxLifetime                = 2592000 * 12 // one year: a bound against typos
	clientIDLength             = 32
)

// ClientInput describes a new application. Zero fields take Auth0's defaults.
type ClientInput struct {
	// ClientID is generated (32 alphanumerics) when empty.
	ClientID    string
	Name        string
	Description string
	// AppType defaults to regular_web (a confidential first-party app).
	AppType string
	// GrantTypes defaults to DefaultGrantTypes when nil.
	GrantTypes []string
	// TokenEndpointAuthMethod defaults to client_secret_post for non_interactive and
	// regular_web, none for spa and native.
	TokenEndpointAuthMethod string
	// Secret is the client secret for a confidential client; generated when empty. Given, it
	// must be at least password.MinSecretLength characters.
	Secret string
	// IDTokenAlg is RS256 (default) or HS256 (confidential clients only).
	IDTokenAlg string
	// IDTokenLifetime defaults to 36000 seconds.
	IDTokenLifetime int
	// RefreshToken is the refresh-token policy; nil takes the app type's default.
	RefreshToken *store.RefreshTokenPolicy
	// Credentials are the public keys for private_key_jwt (required with that method).
	Credentials                    []store.ClientCredential
	IsTokenEndpointIPHeaderTrusted bool
	Metadata                       map[string]string
	// WebOrigins are the browser origins allowed to call the token endpoint (CheckWebOrigins).
	WebOrigins []string
	// keepSecret (UpdateClient) leaves an empty Secret empty instead of generating one: the
	// stored secret stays.
	keepSecret bool
}

// DefaultAuthMethod returns the token endpoint auth method Auth0 gives an app type: public
// clients (spa, native) cannot keep a secret.
func DefaultAuthMethod(appType string) string {
	switch appType {
	case AppSPA, AppNative:
		return AuthNone
	default:
		return AuthSecretPost
	}
}

// DefaultRefreshPolicy returns the refresh-token policy a new client of appType gets: rotating
// and expiring for SPAs (their storage is the least safe), Auth0's non-rotating, non-expiring
// policy otherwise.
func DefaultRefreshPolicy(appType string) store.RefreshTokenPolicy {
	p := store.RefreshTokenPolicy{
		RotationType:      "non-rotating",
		ExpirationType:    "non-expiring",
		TokenLifetime:     DefaultRefreshLifetime,
		IdleTokenLifetime: DefaultRefreshIdleLifetime,
	}
	if appType == AppSPA {
		p.RotationType, p.ExpirationType = "rotating", "expiring"
	} else {
		p.InfiniteTokenLifetime, p.InfiniteIdleTokenLifetime = true, true
	}
	return p
}

// CreateClient creates an application and returns it with its plain secret (empty for a public
// client). The secret is shown only here and by RotateClientSecret: the store keeps its hash,
// and a sealed copy only when the client signs ID tokens with HS256.
func (s *Service) CreateClient(ctx context.Context, in ClientInput) (store.Client, string, error) {
	c, secret, err := s.buildClient(in)
	if err != nil {
		return store.Client{}, "", err
	}
	if c.IDTokenAlg == "PS256" && s.Keys != nil {
		// The client's first ID token must find a key (RS256 keys always exist).
		if err := s.Keys.Ensure(ctx, "PS256"); err != nil {
			return store.Client{}, "", err
		}
	}
	if err := s.Store.CreateClient(ctx, c); err != nil {
		return store.Client{}, "", storeErr(err, "client", c.ClientID)
	}
	return c, secret, nil
}

func (s *Service) buildClient(in ClientInput) (store.Client, string, error) {
	var errs []error
	now := s.now()
	c := store.Client{
		ClientID:                       strings.TrimSpace(in.ClientID),
		Name:                           strings.TrimSpace(in.Name),
		Description:                    in.Description,
		AppType:                        in.AppType,
		TokenEndpointAuthMethod:        in.TokenEndpointAuthMethod,
		IDTokenAlg:                     in.IDTokenAlg,
		IDTokenLifetime:                in.IDTokenLifetime,
		Credentials:                    in.Credentials,
		IsTokenEndpointIPHeaderTrusted: in.IsTokenEndpointIPHeaderTrusted,
		Metadata:                       in.Metadata,
		CreatedAt:                      now,
		UpdatedAt:                      now,
	}
	if c.ClientID == "" {
		c.ClientID = randomAlnum(clientIDLength)
	} else if err := checkClientID(c.ClientID); err != nil {
		errs = append(errs, err)
	}
	if err := checkName("name", c.Name); err != nil {
		errs = append(errs, err)
	}
	if c.AppType == "" {
		c.AppType = AppRegularWeb
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = DefaultAuthMethod(c.AppType)
	}
	errs = append(errs, checkClientKind(c)...)
	public := c.TokenEndpointAuthMethod == AuthNone
	switch c.TokenEndpointAuthMethod {
	case AuthSecretPost, AuthSecretBasic, AuthNone:
		if len(c.Credentials) > 0 {
			errs = append(errs, invalid("client_authentication_methods", "credentials are only used with private_key_jwt"))
		}
	case AuthPrivateKey:
		if len(c.Credentials) == 0 {
			errs = append(errs, invalid("client_authentication_methods", "private_key_jwt needs at least one public key"))
		}
		for i, cr := range c.Credentials {
			if _, err := token.ParseClientKey(cr.PEM); err != nil {
				errs = append(errs, invalid(fmt.Sprintf("client_authentication_methods.private_key_jwt.credentials[%d].pem", i), "%v", err))
			}
			if c.Credentials[i].CreatedAt.IsZero() {
				c.Credentials[i].CreatedAt = now
			}
			if c.Credentials[i].ID == "" {
				c.Credentials[i].ID = store.NewID("cred_", 8)
			}
		}
	}
	if public && (c.AppType == AppNonInteractive) {
		errs = append(errs, invalid("token_endpoint_auth_method", "a non_interactive (machine-to-machine) client must authenticate"))
	}
	if in.GrantTypes == nil {
		c.GrantTypes = slices.Clone(DefaultGrantTypes)
	} else {
		c.GrantTypes = slices.Clone(in.GrantTypes)
		errs = append(errs, checkGrantTypes(c.GrantTypes, public)...)
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = "RS256"
	}
	if c.IDTokenAlg == "HS256" && public {
		// WIRE.md §2: public clients always get RS256 ID tokens; an HS256 secret on a
		// device is no secret.
		errs = append(errs, invalid("jwt_configuration.alg", "HS256 needs a confidential client (a public client cannot keep the secret)"))
	}
	if c.IDTokenLifetime == 0 {
		c.IDTokenLifetime = DefaultIDTokenLifetime
	}
	errs = append(errs, checkIDToken(c)...)
	if in.RefreshToken == nil {
		c.RefreshToken = DefaultRefreshPolicy(c.AppType)
	} else {
		c.RefreshToken = *in.RefreshToken
		errs = append(errs, CheckRefreshPolicy(c.RefreshToken)...)
	}
	var secret string
	if !public {
		secret = in.Secret
		if secret == "" {
			if !in.keepSecret {
				secret = password.NewSecret()
			}
		} else if len(secret) < password.MinSecretLength {
			errs = append(errs, invalid("client_secret", "must be at least %d characters", password.MinSecretLength))
		}
	} else if in.Secret != "" {
		errs = append(errs, invalid("client_secret", "a public client (token_endpoint_auth_method none) has no secret"))
	}
	origins, originErrs := CheckWebOrigins(in.WebOrigins)
	c.WebOrigins, errs = origins, append(errs, originErrs...)
	if len(errs) > 0 {
		return store.Client{}, "", errors.Join(errs...)
	}
	if secret != "" {
		c.SecretHash = password.HashSecret(secret)
		if c.IDTokenAlg == "HS256" {
			if s.Box == nil {
				return store.Client{}, "", errors.New("admin: no key-encryption key to seal the HS256 client secret")
			}
			c.SecretSealed = s.Box.Seal([]byte(secret), store.ClientSecretAAD(c.ClientID))
		}
	}
	return c, secret, nil
}

// checkClientKind checks a client's app_type and token_endpoint_auth_method (defaults already
// applied). The Management API, the CLI and a tenant file's Apply all use it.
func checkClientKind(c store.Client) []error {
	var errs []error
	if !slices.Contains([]string{AppNonInteractive, AppRegularWeb, AppSPA, AppNative}, c.AppType) {
		errs = append(errs, invalid("app_type", "%q is not one of non_interactive, regular_web, spa, native", c.AppType))
	}
	if !slices.Contains([]string{AuthSecretPost, AuthSecretBasic, AuthPrivateKey, AuthNone}, c.TokenEndpointAuthMethod) {
		errs = append(errs, invalid("token_endpoint_auth_method", "%q is not one of client_secret_post, client_secret_basic, private_key_jwt, none", c.TokenEndpointAuthMethod))
	}
	return errs
}

// checkIDToken checks a client's ID token algorithm and lifetime (defaults already applied).
func checkIDToken(c store.Client) []error {
	var errs []error
	if !slices.Contains([]string{"RS256", "PS256", "HS256"}, c.IDTokenAlg) {
		errs = append(errs, invalid("jwt_configuration.alg", "%q is not RS256, PS256 or HS256", c.IDTokenAlg))
	}
	if c.IDTokenLifetime < 1 || c.IDTokenLifetime > maxLifetime {
		errs = append(errs, invalid("jwt_configuration.lifetime_in_seconds", "%d is outside 1..%d", c.IDTokenLifetime, maxLifetime))
	}
	return errs
}

// CheckRefreshPolicy validates a client's refresh_token object.
func CheckRefreshPolicy(p store.RefreshTokenPolicy) []error {
	var errs []error
	if p.RotationType != "rotating" && p.RotationType != "non-rotating" {
		errs = append(errs, invalid("refresh_token.rotation_type", "%q is not rotating or non-rotating", p.RotationType))
	}
	if p.ExpirationType != "expiring" && p.ExpirationType != "non-expiring" {
		errs = append(errs, invalid("refresh_token.expiration_type", "%q is not expiring or non-expiring", p.ExpirationType))
	}
	if p.TokenLifetime < 0 || p.TokenLifetime > maxLifetime {
		errs = append(errs, invalid("refresh_token.token_lifetime", "%d is outside 0..%d", p.TokenLifetime, maxLifetime))
	}
	if p.IdleTokenLifetime < 0 || p.IdleTokenLifetime > maxLifetime {
		errs = append(errs, invalid("refresh_token.idle_token_lifetime", "%d is outside 0..%d", p.IdleTokenLifetime, maxLifetime))
	}
	if p.Leeway < 0 || p.Leeway > 3600 {
		errs = append(errs, invalid("refresh_token.leeway", "%d is outside 0..3600 seconds", p.Leeway))
	}
	return errs
}

func checkGrantTypes(gts []string, public bool) []error {
	var errs []error
	for i, g := range gts {
		switch {
		case !slices.Contains(KnownGrantTypes, g):
			errs = append(errs, invalid(fmt.Sprintf("grant_types[%d]", i), "unknown grant type %q", g))
		case slices.Index(gts, g) != i:
			errs = append(errs, invalid(fmt.Sprintf("grant_types[%d]", i), "%q is listed twice", g))
		case g == GrantClientCredentials && public:
			errs = append(errs, invalid(fmt.Sprintf("grant_types[%d]", i), "client_credentials needs a confidential client"))
		}
	}
	return errs
}

// checkClientID keeps ids to characters that survive HTTP Basic auth and URLs unescaped.
func checkClientID(id string) error {
	if len(id) > 128 {
		return invalid("client_id", "longer than 128 characters")
	}
	for _, r := range id {
		if !isAlnum(r) && r != '-' && r != '_' && r != '.' {
			return invalid("client_id", "may only hold letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// checkName applies Auth0's rule for application and API names: not empty, no angle brackets.
func checkName(field, name string) error {
	switch {
	case name == "":
		return invalid(field, "is required")
	case len(name) > 256:
		return invalid(field, "longer than 256 characters")
	case strings.ContainsAny(name, "<>"):
		return invalid(field, "must not contain < or >")
	}
	return nil
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// randomAlnum returns n characters drawn uniformly from [A-Za-z0-9] by crypto/rand.
func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting the rest keeps every character equally likely.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}

// GetClient returns a client by id.
func (s *Service) GetClient(ctx context.Context, clientID string) (store.Client, error) {
	c, err := s.Store.GetClient(ctx, clientID)
	return c, storeErr(err, "client", clientID)
}

// ListClients returns every client ordered by name.
func (s *Service) ListClients(ctx context.Context) ([]store.Client, error) {
	return s.Store.ListClients(ctx)
}

// DeleteClient deletes a client and removes it from every connection's enabled clients, so
// that a later client reusing the id is not silently enabled.
func (s *Service) DeleteClient(ctx context.Context, clientID string) error {
	if err := s.Store.DeleteClient(ctx, clientID); err != nil {
		return storeErr(err, "client", clientID)
	}
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		return err
	}
	for _, c := range conns {
		if !slices.Contains(c.EnabledClients, clientID) {
			continue
		}
		err := s.Store.UpdateConnection(ctx, c.Name, func(c *store.Connection) error {
			c.EnabledClients = slices.DeleteFunc(c.EnabledClients, func(id string) bool { return id == clientID })
			c.UpdatedAt = s.now()
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// RotateClientSecret replaces a confidential client's secret and returns the new one. The old
// secret stops working at once (Auth0 keeps no grace period either).
func (s *Service) RotateClientSecret(ctx context.Context, clientID string) (string, error) {
	secret := password.NewSecret()
	now := s.now()
	err := s.Store.UpdateClient(ctx, clientID, func(c *store.Client) error {
		if c.TokenEndpointAuthMethod == AuthNone {
			return invalid("token_endpoint_auth_method", "client %q is public (none): it has no secret to rotate", clientID)
		}
		c.SecretHash = password.HashSecret(secret)
		c.SecretSealed = nil
		if c.IDTokenAlg == "HS256" {
			if s.Box == nil {
				return errors.New("admin: no key-encryption key to seal the HS256 client secret")
			}
			c.SecretSealed = s.Box.Seal([]byte(secret), store.ClientSecretAAD(c.ClientID))
		}
		c.UpdatedAt = now
		return nil
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return "", err
		}
		return "", storeErr(err, "client", clientID)
	}
	return secret, nil
}

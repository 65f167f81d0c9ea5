package store

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Tenant holds tenant-wide settings (Auth0's tenant settings object).
type Tenant struct {
	FriendlyName string
	// DefaultDirectory is the connection name the password grant uses when no realm is sent.
	DefaultDirectory string
	// DefaultAudience is the API identifier used when a token request names no audience.
	DefaultAudience string
	// RevokeDeletesGrant makes /oauth/revoke revoke every refresh token of the same user,
	// client and audience, not only the presented token's family.
	RevokeDeletesGrant bool
	// AttackProtection holds the tenant's attack-protection settings; nil means Auth0's
	// defaults (see package guard). A pointer keeps Tenant comparable.
	AttackProtection *AttackProtection
	// MFAPolicy is MFANever (the default, also for "") or MFAAlways.
	MFAPolicy string
	// MFAFactors are the factors users may enrol.
	MFAFactors MFAFactors
	UpdatedAt  time.Time
}

// Client is an application.
type Client struct {
	ClientID    string
	Name        string
	Description string
	// AppType is one of non_interactive, regular_web, spa, native.
	AppType string
	// SecretHash is the PHC-format hash of the client secret; empty for public clients.
	SecretHash string
	// SecretSealed is the client secret sealed with the key-encryption key. It is kept only for
	// clients whose ID tokens are HS256 (signed with the secret); nil otherwise.
	SecretSealed []byte
	GrantTypes   []string
	// TokenEndpointAuthMethod is client_secret_post, client_secret_basic, private_key_jwt or none.
	TokenEndpointAuthMethod string
	// IDTokenAlg is jwt_configuration.alg: RS256 (default) or HS256.
	IDTokenAlg string
	// IDTokenLifetime is jwt_configuration.lifetime_in_seconds (default 36000).
	IDTokenLifetime int
	// Credentials are the public keys accepted for private_key_jwt.
	Credentials                    []ClientCredential
	RefreshToken                   RefreshTokenPolicy
	IsTokenEndpointIPHeaderTrusted bool
	Metadata                       map[string]string
	// WebOrigins are Auth0's "Allowed Web Origins" (web_origins): the browser origins
	// (scheme://host[:port], or https://*.example.com for one level of subdomains) whose
	// scripts may call the token, revocation, userinfo and MFA endpoints for this client (CORS).
	WebOrigins []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ClientCredential is a public key registered for private_key_jwt client authentication.
type ClientCredential struct {
	ID   string
	Name string
	// PEM is the public key (PKIX "PUBLIC KEY") or certificate, PEM-encoded.
	PEM       string
	CreatedAt time.Time
}

// RefreshTokenPolicy is the client's refresh_token object (Auth0 names in comments).
type RefreshTokenPolicy struct {
	// RotationType is "rotating" or "non-rotating" (rotation_type).
	RotationType string
	// ExpirationType is "expiring" or "non-expiring" (expiration_type).
	ExpirationType string
	// TokenLifetime is the absolute lifetime in seconds, fixed at first issue (token_lifetime).
	TokenLifetime int
	// IdleTokenLifetime is renewed on each use (idle_token_lifetime).
	IdleTokenLifetime         int
	InfiniteTokenLifetime     bool
	InfiniteIdleTokenLifetime bool
	// Leeway is the reuse window in seconds after a rotation (leeway).
	Leeway int
}

// ResourceServer is an API: the audience of access tokens.
type ResourceServer struct {
	ID         string
	Identifier string
	Name       string
	Scopes     []Scope
	// SigningAlg is RS256 (default), PS256, RS512, HS256, or the opt-in ES256 and EdDSA.
	SigningAlg string
	// SigningSecretSealed is the HS256 signing secret sealed with the key-encryption key.
	SigningSecretSealed []byte
	AllowOfflineAccess  bool
	// TokenLifetime is the access-token lifetime in seconds (default 86400).
	TokenLifetime int
	// TokenDialect is access_token, access_token_authz, rfc9068_profile or rfc9068_profile_authz.
	TokenDialect string
	// EnforcePolicies turns on RBAC: scopes are intersected with the user's permissions.
	EnforcePolicies bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Scope is one permission an API defines.
type Scope struct {
	Value       string
	Description string
}

// Connection is a user directory.
type Connection struct {
	// ID looks like con_<16 alphanumerics>.
	ID   string
	Name string
	// Strategy is "auth0" for the built-in user database.
	Strategy string
	// EnabledClients are the client ids allowed to log users in through this connection.
	EnabledClients []string
	// Options holds strategy-specific settings as JSON-compatible values.
	Options   map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is a user of a database connection.
type User struct {
	// ID looks like auth0|<24 hex>.
	ID         string
	Connection string
	Email      string
	Username   string
	// PasswordHash is a PHC string (argon2id, bcrypt...) or empty when no password is set.
	PasswordHash  string
	EmailVerified bool
	Name          string
	Nickname      string
	Picture       string
	GivenName     string
	FamilyName    string
	AppMetadata   map[string]any
	UserMetadata  map[string]any
	Blocked       bool
	Permissions   []Permission
	LoginsCount   int
	LastLogin     time.Time
	LastIP        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Permission grants one API scope to a user (RBAC).
type Permission struct {
	ResourceServerIdentifier string
	PermissionName           string
}

// RefreshFamily is one login's chain of refresh tokens.
type RefreshFamily struct {
	ID         string
	ClientID   string
	UserID     string
	Connection string
	Audience   string
	// Scope is the space-separated scope granted at login.
	Scope string
	// AuthTime is when the user authenticated (auth_time of ID tokens).
	AuthTime time.Time
	// AMR lists the authentication methods of the login (e.g. "pwd", "mfa").
	AMR       []string
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the family; zero means never.
	ExpiresAt time.Time
	// RevokedAt is set when the family was revoked.
	RevokedAt time.Time
}

// RefreshToken is one token of a family; Hash is the hex SHA-256 of its secret.
type RefreshToken struct {
	Hash      string
	FamilyID  string
	CreatedAt time.Time
	// IdleExpiresAt is when the token dies unused; zero means never.
	IdleExpiresAt time.Time
	// RotatedAt is when it was exchanged for a successor; zero while it is current.
	RotatedAt time.Time
}

// Signing key states.
const (
	KeyNext     = "next"
	KeyCurrent  = "current"
	KeyPrevious = "previous"
	KeyRetired  = "retired"
	// KeyRevoked is a key withdrawn before its time (compromised): never published again.
	KeyRevoked = "revoked"
)

// SigningKey is an asymmetric key for one JWS algorithm.
type SigningKey struct {
	KID string
	// Alg is the JWS algorithm the key is for (RS256, PS256, RS512, ES256, EdDSA).
	Alg string
	// State is KeyNext, KeyCurrent, KeyPrevious, KeyRetired or KeyRevoked.
	State string
	// PrivateSealed is the PKCS#8 DER private key sealed with the key-encryption key.
	PrivateSealed []byte
	CreatedAt     time.Time
	ActivatedAt   time.Time
	// PublishUntil is how long a previous key stays in the JWKS; for a revoked key, when it
	// was revoked (it was published until then).
	PublishUntil time.Time
}

// LogEvent is a tenant log entry with Auth0's fields.
type LogEvent struct {
	ID           string
	Date         time.Time
	Type         string
	Description  string
	ClientID     string
	ClientName   string
	Connection   string
	ConnectionID string
	IP           string
	ClientIP     string
	UserAgent    string
	UserID       string
	UserName     string
	Audience     string
	Scope        string
	Details      map[string]any
}

// NewID returns prefix followed by n random bytes in hex. Record IDs are made by callers, so
// that a record is complete before it reaches the store.
func NewID(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + hex.EncodeToString(b)
}

// NewUserID returns a database-connection user id, auth0|<24 hex>.
func NewUserID() string { return NewID("auth0|", 12) }

// NewConnectionID returns con_<16 hex>.
func NewConnectionID() string { return NewID("con_", 8) }

// ClientSecretAAD is the additional data that binds a sealed client secret to its client.
func ClientSecretAAD(clientID string) []byte { return []byte("client-secret:" + clientID) }

// APISecretAAD is the additional data that binds a sealed API signing secret to its API.
func APISecretAAD(identifier string) []byte { return []byte("api-signing-secret:" + identifier) }

// SigningKeyAAD is the additional data that binds a sealed private key to its key id.
func SigningKeyAAD(kid string) []byte { return []byte("signing-key:" + kid) }

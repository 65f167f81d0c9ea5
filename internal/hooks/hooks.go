package hooks

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Protocols of event.transaction.protocol and context.protocol.
const (
	ProtocolPassword = "oauth2-password"
	ProtocolRefresh  = "oauth2-refresh-token"
)

// Runner runs the post-login flow for one login.
type Runner interface {
	PostLogin(ctx context.Context, ev Event) (Outcome, error)
}

// Func adapts a plain Go function to Runner (for tests and built-in hooks).
type Func func(ctx context.Context, ev Event) (Outcome, error)

// PostLogin calls f.
func (f Func) PostLogin(ctx context.Context, ev Event) (Outcome, error) { return f(ctx, ev) }

// Event is what a login gives Rules and Actions (Auth0's post-login event object).
type Event struct {
	// Protocol is ProtocolPassword or ProtocolRefresh.
	Protocol        string
	RequestedScopes []string
	// Scopes are the scopes granted so far; addScope and removeScope start from them.
	Scopes         []string
	ResourceServer string
	Roles          []string
	AuthMethods    []AuthMethod
	User           User
	Client         Client
	Connection     Connection
	Request        Request
	TenantID       string
	// RefreshToken is the token being exchanged on ProtocolRefresh; nil otherwise.
	RefreshToken *RefreshToken
}

// User is event.user.
type User struct {
	UserID        string
	Email         string
	EmailVerified bool
	Username      string
	Name          string
	Nickname      string
	Picture       string
	GivenName     string
	FamilyName    string
	AppMetadata   map[string]any
	UserMetadata  map[string]any
	Identities    []Identity
	// Groups are the user's directory groups (LDAP/AD connections); nil when the directory
	// has none, and then event.user has no groups.
	Groups      []string
	LoginsCount int
	LastIP      string
	LastLogin   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Identity is one entry of event.user.identities.
type Identity struct {
	Connection string
	Provider   string
	UserID     string
	IsSocial   bool
}

// Client is event.client.
type Client struct {
	ClientID string
	Name     string
	Metadata map[string]string
}

// Connection is event.connection.
type Connection struct {
	ID       string
	Name     string
	Strategy string
	Metadata map[string]string
}

// Request is event.request. Body must not hold secrets (passwords, client secrets, tokens).
type Request struct {
	IP        string
	Hostname  string
	Method    string
	UserAgent string
	Body      map[string]string
}

// AuthMethod is one entry of event.authentication.methods.
type AuthMethod struct {
	Name      string
	Timestamp time.Time
}

// RefreshToken is event.refresh_token.
type RefreshToken struct {
	ID        string
	ClientID  string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Outcome is what the flow asks of the login. Claims are as the code set them: the caller
// filters restricted names and enforces the size limit.
type Outcome struct {
	AccessClaims map[string]any
	IDClaims     map[string]any
	// Scopes is the final granted scope list after addScope/removeScope and Rules'
	// context.accessToken.scope; ScopesChanged says whether anything touched it.
	Scopes        []string
	ScopesChanged bool
	// MFA is set by api.multifactor.enable or a Rule's context.multifactor.
	MFA         bool
	MFAProvider string
	// AppMetadata and UserMetadata are the user's new metadata when a hook changed them (nil
	// otherwise); the caller persists them.
	AppMetadata  map[string]any
	UserMetadata map[string]any
	Executions   []Execution
}

// Execution records one Rule or Action run, for the tenant log.
type Execution struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"` // "rule" or "action"
	Duration time.Duration `json:"duration_ns"`
	// Error is the cause of a failure, empty on success.
	Error string `json:"error,omitempty"`
}

// ErrTimeout is the cause of an ExecutionError when the deadline interrupted the code.
var ErrTimeout = errors.New("hooks: execution deadline exceeded")

// DeniedError is api.access.deny(reason) (or a Rule's callback with a plain Error). In a
// credentials exchange, api.access.deny(code, reason) also names the OAuth error Code.
type DeniedError struct {
	Reason string
	// Code is the OAuth error code a credentials-exchange Action chose; empty in post-login.
	Code string
}

func (e *DeniedError) Error() string { return "hooks: access denied: " + e.Reason }

// UnauthorizedError is a Rule's callback(new UnauthorizedError(message)).
type UnauthorizedError struct{ Message string }

func (e *UnauthorizedError) Error() string { return "hooks: unauthorized: " + e.Message }

// RedirectError is an attempt to redirect the user, which this flow cannot do.
type RedirectError struct{ URL string }

func (e *RedirectError) Error() string { return "hooks: redirect to " + e.URL + " not supported" }

// RefreshRevokedError is api.refreshToken.revoke(reason): the caller revokes the family.
type RefreshRevokedError struct{ Reason string }

func (e *RefreshRevokedError) Error() string { return "hooks: refresh token revoked: " + e.Reason }

// ExecutionError is a Rule or Action that failed to run to completion.
type ExecutionError struct {
	Name string
	Err  error
}

func (e *ExecutionError) Error() string { return fmt.Sprintf("hooks: %s: %v", e.Name, e.Err) }
func (e *ExecutionError) Unwrap() error { return e.Err }

// CompileError is code that does not compile; Line and Column are 1-based in the source.
type CompileError struct {
	Name    string
	Line    int
	Column  int
	Message string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Column, e.Message)
}

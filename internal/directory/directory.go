// Package directory defines where users come from: the Directory seam that the password grants
// authenticate against, and the Identity it returns.
//
// It is a leaf: it imports nothing of ours. Implementations live below it (directory/database
// for users kept in the store, directory/ldap for LDAP and Active Directory); directory/mirror
// gives the users of a directory outside the store a Sesame user record. The oauthserver never
// learns which kind it talks to.
package directory

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrInvalidCredentials is returned by Authenticate for an unknown user and for a wrong
	// password alike; both paths must take the same time, so that neither the answer nor its
	// timing tells whether a username exists.
	ErrInvalidCredentials = errors.New("directory: wrong username or password")
	// ErrUnknownUser wraps ErrInvalidCredentials when no such user exists. Only the tenant
	// log may tell it apart (Auth0's "fu" versus "fp" events); the wire answer is the same.
	ErrUnknownUser = fmt.Errorf("%w (unknown user)", ErrInvalidCredentials)
	// ErrUserNotFound is returned by Lookup for a user that no longer exists.
	ErrUserNotFound = errors.New("directory: user not found")
	// ErrOverloaded is returned when password verification could not start before the
	// request's deadline (the hashing pool is full); the caller answers 503.
	ErrOverloaded = errors.New("directory: password verification capacity exhausted")
	// ErrUnavailable is returned when a directory outside Sesame (an LDAP server) cannot be
	// reached or does not answer within its timeout; the caller answers 503 and logs why.
	ErrUnavailable = errors.New("directory: unavailable")
)

// AccountReason is why a directory refused a user whose account state, not the password,
// decides (Active Directory's sub-codes of LDAP error 49).
type AccountReason string

// The reasons of AccountError.
const (
	PasswordExpired        AccountReason = "password_expired"         // AD 532
	PasswordChangeRequired AccountReason = "password_change_required" // AD 773
	AccountDisabled        AccountReason = "account_disabled"         // AD 533, 534
	AccountExpired         AccountReason = "account_expired"          // AD 701
	AccountLocked          AccountReason = "account_locked"           // AD 775
	// AccountRefused is a custom-database script's UnauthorizedError: the script's message
	// is for the user.
	AccountRefused AccountReason = "account_refused"
)

// AccountError is a refusal for the account's state. Detail says what the directory said, for
// the tenant log (never for the wire); Message, when set, is written for the user and goes on
// the wire (an UnauthorizedError's text, as at Auth0).
type AccountError struct {
	Reason  AccountReason
	Detail  string
	Message string
}

func (e *AccountError) Error() string {
	return fmt.Sprintf("directory: account refused (%s): %s", e.Reason, e.Detail)
}

// Directory authenticates users of one connection.
type Directory interface {
	// Authenticate checks a username (or email) and password. A blocked user with the right
	// password is returned with Blocked set, not as an error: refusing is the caller's policy.
	Authenticate(ctx context.Context, username, password string) (Identity, error)
	// Lookup returns the user by ID (for refresh and userinfo), or ErrUserNotFound.
	Lookup(ctx context.Context, userID string) (Identity, error)
}

// Resolver is the optional ability of a directory to say which user a login name (email or
// username) belongs to without checking a password. Attack protection uses it to count failed
// logins per user rather than per name as typed, so that a user with an email and a username
// does not get twice the attempts. Resolve returns "" and no error for a name that belongs to
// nobody; the caller must treat both outcomes alike on the wire, and an implementation should
// cost the same for both (one indexed look-up).
type Resolver interface {
	Resolve(ctx context.Context, login string) (userID string, err error)
}

// Identity is what a directory knows about a user, in Auth0's user-profile terms.
type Identity struct {
	UserID        string
	Connection    string
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
	Blocked       bool
	Permissions   []Permission
	LoginsCount   int
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastLogin     time.Time
	// Groups are the user's groups in the directory (LDAP group names); Actions read them as
	// event.user.groups, as at Auth0. Nil for directories without groups.
	Groups []string
}

// Permission grants one API scope (RBAC).
type Permission struct {
	ResourceServerIdentifier string
	PermissionName           string
}

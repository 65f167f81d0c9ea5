package oauthserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/store"
)

// errDirectoryUnavailable answers a login or refresh that needs an outside directory (LDAP)
// which is down or too slow: transient, so clients retry (RFC 6749 §5.2 extension, as
// errOverloaded). Decision: the text; Auth0's connector answers its own outages alike.
var errDirectoryUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
	Description: "The user directory is unavailable. Please retry later.", Header: http.Header{"Retry-After": {"5"}}}

// useRealm resolves the connection named name and its directory into the exchange: the one
// walk from a realm to a Directory, done by the dispatcher once per exchange for the realm
// the grant names (see grant.realm). notFound is the grant's answer for a realm that does not
// exist (any more); nil passes store.ErrNotFound through.
func (s *Server) useRealm(ctx context.Context, ex *exchange, name string, notFound *Error) error {
	var conn store.Connection
	err := s.stage(ctx, "store.get_connection", func(ctx context.Context) (err error) {
		conn, err = s.store.GetConnection(ctx, name)
		return err
	})
	if err != nil {
		if notFound == nil {
			return err
		}
		return storeErr(err, notFound)
	}
	dir, err := s.dirs.Directory(conn)
	if err != nil {
		return err
	}
	ex.connection, ex.dir = conn, dir
	return nil
}

// currentUser asks the exchange's directory for the user a grant continues (a refresh, an MFA
// step) as they are now. An outside directory says whether the user was removed or disabled
// since the login (directory/mirror trusts its recent answers for a short while, so that an
// outage does not stop every refresh). gone is the grant's answer for a user who no longer
// exists; blocked its answer for a blocked user.
func (s *Server) currentUser(ctx context.Context, ex *exchange, userID string, gone, blocked *Error) error {
	err := s.stage(ctx, "directory.lookup", func(ctx context.Context) (err error) {
		ex.user, err = ex.dir.Lookup(ctx, userID)
		return err
	})
	switch {
	case errors.Is(err, directory.ErrUserNotFound):
		ex.user = directory.Identity{UserID: userID}
		return gone.withCause(err)
	case err != nil:
		ex.user = directory.Identity{UserID: userID}
		return directoryErr(err)
	case ex.user.Blocked:
		return blocked
	}
	return nil
}

// directoryErr maps a directory's failure to get an answer to the wire; others pass through.
func directoryErr(err error) error {
	if errors.Is(err, directory.ErrUnavailable) {
		return errDirectoryUnavailable.withCause(err)
	}
	return err
}

// accountErr is the answer for a directory's refusal of an account for its state (Active
// Directory's sub-codes): blocked-like states answer as a blocked user does (WIRE.md §1),
// password states as a refused grant that says what to do. Decision: the texts.
func accountErr(ae *directory.AccountError) *Error {
	switch ae.Reason {
	case directory.PasswordExpired:
		return oauthErr(http.StatusForbidden, "invalid_grant", "Password expired. Change it in your directory, then log in again.").withCause(ae)
	case directory.PasswordChangeRequired:
		return oauthErr(http.StatusForbidden, "invalid_grant", "Password change required. Change it in your directory, then log in again.").withCause(ae)
	case directory.AccountRefused:
		msg := ae.Message
		if msg == "" {
			msg = "user is blocked"
		}
		return oauthErr(http.StatusUnauthorized, "unauthorized", msg).withCause(ae)
	case directory.AccountLocked:
		return oauthErr(http.StatusUnauthorized, "unauthorized", "user is blocked").withCause(ae)
	}
	return errUserBlocked.withCause(ae)
}

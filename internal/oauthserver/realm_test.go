package oauthserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

// refusingDirs wraps the server's directories: a password "refuse:<reason>" gets the account
// refusal an Active Directory sub-code maps to, "down" an unavailable directory. It stands for
// what directory/ldap returns (its mapping of AD answers is tested there; slapd cannot send
// AD's sub-codes).
type refusingDirs struct{ oauthserver.Directories }

func (d refusingDirs) Directory(c store.Connection) (directory.Directory, error) {
	dir, err := d.Directories.Directory(c)
	return refusingDir{dir}, err
}

type refusingDir struct{ directory.Directory }

func (d refusingDir) Authenticate(ctx context.Context, username, pw string) (directory.Identity, error) {
	if reason, ok := strings.CutPrefix(pw, "refuse:"); ok {
		ae := &directory.AccountError{Reason: directory.AccountReason(reason), Detail: "Active Directory sub-code for " + reason}
		if ae.Reason == directory.AccountRefused { // a custom-database script's UnauthorizedError
			ae.Message = "Your account is suspended."
		}
		return directory.Identity{}, ae
	}
	if pw == "down" {
		return directory.Identity{}, directory.ErrUnavailable
	}
	return d.Directory.Authenticate(ctx, username, pw)
}

// TestDirectoryRefusals: a directory's refusals for the account's state answer as Auth0 does
// (blocked-like states as a blocked user, password states as a refused grant saying what to
// do) and log the directory's reason; an unavailable directory answers 503 and counts no
// failed login.
func TestDirectoryRefusals(t *testing.T) {
	e := newEnv(t, func(c *oauthserver.Config) { c.Directories = refusingDirs{c.Directories} })
	for _, tc := range []struct {
		pw     string
		status int
		code   string
		desc   string
	}{
		{"refuse:password_expired", http.StatusForbidden, "invalid_grant", "Password expired. Change it in your directory, then log in again."},
		{"refuse:password_change_required", http.StatusForbidden, "invalid_grant", "Password change required. Change it in your directory, then log in again."},
		{"refuse:account_disabled", http.StatusUnauthorized, "unauthorized", "user is blocked"},
		{"refuse:account_expired", http.StatusUnauthorized, "unauthorized", "user is blocked"},
		{"refuse:account_locked", http.StatusUnauthorized, "unauthorized", "user is blocked"},
		{"refuse:account_refused", http.StatusUnauthorized, "unauthorized", "Your account is suspended."},
		{"down", http.StatusServiceUnavailable, "temporarily_unavailable", "The user directory is unavailable. Please retry later."},
	} {
		t.Run(tc.pw, func(t *testing.T) {
			r := e.postForm("/oauth/token", passwordForm("password", tc.pw))
			if r.Status != tc.status || r.str("error") != tc.code || r.str("error_description") != tc.desc {
				t.Errorf("got %d %s, want %d %s %q", r.Status, r.Raw, tc.status, tc.code, tc.desc)
			}
		})
	}
	evs := e.tenantLogs("f")
	if len(evs) != 6 || !strings.Contains(evs[0].Description, "Active Directory sub-code") {
		t.Errorf("tenant log: got %d f events (%+v), want 6 with the directory's reason", len(evs), evs)
	}
	if fp := e.tenantLogs("fp"); len(fp) != 0 {
		t.Errorf("tenant log: got %d fp events, want none (no wrong password)", len(fp))
	}
}

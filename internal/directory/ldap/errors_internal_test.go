package ldap

import (
	"errors"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/sesameauth/sesame/internal/directory"
)

// TestMapBindError: Active Directory's sub-codes of error 49 become account refusals; other
// refused binds are wrong passwords.
func TestMapBindError(t *testing.T) {
	ad := func(code string) error {
		return goldap.NewError(goldap.LDAPResultInvalidCredentials,
			errors.New("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data "+code+", v4563"))
	}
	for _, tc := range []struct {
		name   string
		err    error
		reason directory.AccountReason // "": a wrong password
	}{
		{"openldap wrong password", goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("")), ""},
		{"constraint violation", goldap.NewError(goldap.LDAPResultConstraintViolation, errors.New("password policy")), ""},
		{"ad wrong password 52e", ad("52e"), ""},
		{"ad no such user 525", ad("525"), ""},
		{"ad password expired", ad("532"), directory.PasswordExpired},
		{"ad disabled", ad("533"), directory.AccountDisabled},
		{"ad logon type", ad("534"), directory.AccountDisabled},
		{"ad account expired", ad("701"), directory.AccountExpired},
		{"ad must change password", ad("773"), directory.PasswordChangeRequired},
		{"ad locked", ad("775"), directory.AccountLocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mapBindError(tc.err)
			var ae *directory.AccountError
			switch {
			case tc.reason == "" && !errors.Is(err, directory.ErrInvalidCredentials):
				t.Fatalf("got %v, want ErrInvalidCredentials", err)
			case tc.reason != "" && (!errors.As(err, &ae) || ae.Reason != tc.reason):
				t.Fatalf("got %v, want reason %s", err, tc.reason)
			}
		})
	}
}

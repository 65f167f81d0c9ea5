package oauthserver

import (
	"errors"
	"testing"
)

// FuzzParseAssociate feeds POST /mfa/associate bodies, JSON and form, to the parser: it must
// never panic, and anything it accepts names at least one authenticator type.
func FuzzParseAssociate(f *testing.F) {
	for _, s := range []string{
		`{"authenticator_types":["otp"]}`,
		`{"authenticator_types":["oob"],"oob_channels":["email"],"email":"a@example.com"}`,
		`{"authenticator_types":"otp"}`, `{}`, `[]`, `{"authenticator_types":["otp"]} {}`, ``,
	} {
		f.Add("application/json", s)
	}
	f.Add("application/x-www-form-urlencoded", "authenticator_types=oob&oob_channels=sms&phone_number=%2B15555550100")
	f.Add("application/x-www-form-urlencoded; charset=utf-8", "authenticator_types=otp+oob&authenticator_types=otp")
	f.Add("application/x-www-form-urlencoded", "%zz")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req, err := parseAssociate(contentType, []byte(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Errorf("parseAssociate(%q, %q): got %v, want a 400 wire error", contentType, body, err)
			}
			return
		}
		if len(req.AuthenticatorTypes) == 0 {
			t.Errorf("parseAssociate(%q, %q): accepted without authenticator_types", contentType, body)
		}
	})
}

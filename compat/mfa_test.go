package compat_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/authentication"
	"github.com/auth0/go-auth0/v3/authentication/mfa"
	"github.com/auth0/go-auth0/v3/authentication/oauth"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const mfaUser = "grace@example.com"

// setMFAPolicy applies a tenant file holding only the guardian sections, as an operator
// would; the other tests run with MFA off, so the test turns it back off when it ends.
func setMFAPolicy(ctx context.Context, t *testing.T, always bool) {
	t.Helper()
	policies := "[]"
	if always {
		policies = "[all-applications]"
	}
	file := filepath.Join(t.TempDir(), "mfa.yaml")
	body := "guardianPolicies: {policies: " + policies + "}\nguardianFactors:\n  - {name: otp, enabled: true}\n  - {name: recovery-code, enabled: true}\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := srv.command(ctx, "apply", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("sesame apply: %v\n%s", err, out)
	}
	// The running server sees another process's change within its read-cache bound (1 s; 2 s
	// promised): wait until a login shows the new policy, so that neither this test nor the
	// ones after it run under the old one.
	a, err := authentication.New(ctx, srv.hostPort, authentication.WithClient(srv.httpClient()),
		authentication.WithClientID(clientID), authentication.WithClientSecret(clientSecret))
	if err != nil {
		t.Fatalf("authentication.New: %v", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := a.OAuth.LoginWithPassword(ctx, oauth.LoginWithPasswordRequest{
			Username: mfaUser, Password: password, Scope: "openid", Audience: apiID,
		}, oauth.IDTokenValidationOptions{})
		ae, isErr := errorsAs[*authentication.Error](err)
		required := isErr && ae.Err == "mfa_required"
		if required == always && (always || err == nil) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("MFA policy always=%v not in force 3 s after sesame apply: last login gave %v", always, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mfaLogin logs grace in and returns the mfa_token of the mfa_required answer.
func mfaLogin(t *testing.T, a *authentication.Authentication) string {
	t.Helper()
	_, err := a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{
		Username: mfaUser, Password: password, Scope: "openid offline_access", Audience: apiID,
	}, oauth.IDTokenValidationOptions{})
	ae, ok := errorsAs[*authentication.Error](err)
	if !ok || ae.StatusCode != 403 || ae.Err != "mfa_required" || ae.Message != "Multifactor authentication required" || ae.GetMFAToken() == "" {
		t.Fatalf("LoginWithPassword: got %v, want 403 mfa_required with an mfa_token", err)
	}
	return ae.GetMFAToken()
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGoAuth0MFA(t *testing.T) {
	setMFAPolicy(t.Context(), t, true)
	// t.Context is done by the time cleanups run.
	t.Cleanup(func() { setMFAPolicy(context.Background(), t, false) })
	a := newAuth0Secret(t)
	ctx := t.Context()

	tok := mfaLogin(t, a)
	list, err := a.MFA.ListAuthenticators(ctx, tok)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListAuthenticators before enrolment: got %+v, %v, want none", list, err)
	}
	add, err := a.MFA.AddAuthenticator(ctx, tok, mfa.AddAuthenticatorRequest{AuthenticatorTypes: []string{"otp"}})
	if err != nil {
		t.Fatalf("AddAuthenticator: %v", err)
	}
	if add.AuthenticatorType != "otp" || add.Secret == "" || len(add.RecoveryCodes) != 1 {
		t.Fatalf("AddAuthenticator: got %+v, want an otp secret and one recovery code", add)
	}
	_, err = a.MFA.VerifyWithOTP(ctx, mfa.VerifyWithOTPRequest{MFAToken: tok, OTP: "000000"})
	wantAuth0Error(t, err, 403, "invalid_grant", "Invalid otp_code.")
	ts, err := a.MFA.VerifyWithOTP(ctx, mfa.VerifyWithOTPRequest{MFAToken: tok, OTP: totpCode(t, add.Secret, time.Now())})
	if err != nil {
		t.Fatalf("VerifyWithOTP: %v", err)
	}
	if ts.AccessToken == "" || ts.RefreshToken == "" || ts.IDToken == "" {
		t.Errorf("VerifyWithOTP: got %+v, want access, refresh and ID tokens", ts)
	}
	if _, claims := decodeJWT(t, ts.IDToken); !slices.Equal(toStrings(claims["amr"]), []string{"mfa"}) {
		t.Errorf("ID token amr: got %v, want [mfa]", claims["amr"])
	}

	// Enrolled now: the next login is challenged, and a recovery code works once.
	tok2 := mfaLogin(t, a)
	ch, err := a.MFA.Challenge(ctx, mfa.ChallengeRequest{MFAToken: tok2, ChallengeType: "otp"})
	if err != nil || ch.ChallengeType != "otp" {
		t.Fatalf("Challenge: got %+v, %v, want otp", ch, err)
	}
	rc, err := a.MFA.VerifyWithRecoveryCode(ctx, mfa.VerifyWithRecoveryCodeRequest{MFAToken: tok2, RecoveryCode: add.RecoveryCodes[0]})
	if err != nil {
		t.Fatalf("VerifyWithRecoveryCode: %v", err)
	}
	if rc.AccessToken == "" || rc.RecoveryCode == "" || rc.RecoveryCode == add.RecoveryCodes[0] {
		t.Errorf("VerifyWithRecoveryCode: got %+v, want tokens and a new recovery code", rc)
	}
	tok3 := mfaLogin(t, a)
	list, err = a.MFA.ListAuthenticators(ctx, tok3)
	if err != nil || len(list) != 2 || list[0].AuthenticatorType != "otp" || !list[0].Active || list[1].AuthenticatorType != "recovery-code" {
		t.Errorf("ListAuthenticators after enrolment: got %+v, %v, want active otp and recovery-code", list, err)
	}

	// A refresh token issued after MFA keeps working without a second factor.
	if _, err := a.OAuth.RefreshToken(ctx, oauth.RefreshTokenRequest{RefreshToken: ts.RefreshToken}, oauth.IDTokenValidationOptions{}); err != nil {
		t.Errorf("RefreshToken after MFA: %v", err)
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

package oauthserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

// Fixtures of the passwordless tests: a confidential and a public client allowed the
// passwordless grant, and the email and sms connections enabled for both.
const (
	pwlApp    = "pwl-app-confidential-00000000001"
	pwlSecret = "pwl-app-secret-0123456789abcdef0123456789abcdef"
	pwlSPA    = "pwl-app-public-000000000000000002"
	grantPwl  = "http://auth0.com/oauth/grant-type/passwordless/otp"
	annEmail  = "ann@example.com"
	annPhone  = "+14155550100"
)

// pwlEnv is newEnv with the passwordless fixtures; options are the email connection's.
func pwlEnv(t testing.TB, emailOptions map[string]any, opts ...func(*oauthserver.Config)) (*env, *mailbox) {
	t.Helper()
	e := newEnv(t, opts...)
	box := &mailbox{}
	e.mfaSender.set(box)
	e.mustClient(store.Client{ClientID: pwlApp, Name: "Shop & Co", AppType: "native",
		SecretHash: password.HashSecret(pwlSecret), TokenEndpointAuthMethod: "client_secret_post",
		GrantTypes:   []string{grantPwl, "refresh_token", "password"},
		RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring"}})
	e.mustClient(store.Client{ClientID: pwlSPA, Name: "Shop SPA", AppType: "spa",
		TokenEndpointAuthMethod: "none", GrantTypes: []string{grantPwl, "refresh_token"},
		RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring"}})
	now := e.clock.Now()
	for _, c := range []store.Connection{
		{ID: store.NewConnectionID(), Name: "email", Strategy: "email", Options: emailOptions},
		{ID: store.NewConnectionID(), Name: "sms", Strategy: "sms", Options: map[string]any{"template": "Code: {{ code }}"}},
	} {
		c.EnabledClients, c.CreatedAt, c.UpdatedAt = []string{pwlApp, pwlSPA, appID}, now, now
		if err := e.st.CreateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	// The password grant's connection serves the new clients too, to compare their tokens.
	if err := e.st.UpdateConnection(t.Context(), connName, func(c *store.Connection) error {
		c.EnabledClients = append(c.EnabledClients, pwlApp)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return e, box
}

// start posts a JSON start request for the confidential app; kv are extra or replaced fields.
func (e *env) start(kv ...string) response {
	e.t.Helper()
	body := map[string]any{"client_id": pwlApp, "client_secret": pwlSecret, "connection": "email", "email": annEmail, "send": "code"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(body, kv[i])
		} else {
			body[kv[i]] = kv[i+1]
		}
	}
	b, _ := json.Marshal(body)
	return e.post("/passwordless/start", "application/json", string(b))
}

// code returns the code of the last message the sender was handed, once every send of the
// requests so far is done.
func (e *env) code(box *mailbox) mfa.Message {
	e.t.Helper()
	e.flush()
	if box.count() == 0 {
		e.t.Fatal("no message was sent")
	}
	return box.last()
}

// otpGrant is the passwordless grant for the confidential app.
func otpGrant(username, otp string, kv ...string) url.Values {
	return formWith(url.Values{"grant_type": {grantPwl}, "client_id": {pwlApp}, "client_secret": {pwlSecret},
		"username": {username}, "otp": {otp}, "realm": {"email"}, "audience": {apiID},
		"scope": {"openid profile email offline_access read:sample"}}, kv...)
}

func otherOTP(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// TestPasswordlessEmailLogin runs the whole email flow: a start sends the code in the
// connection's message, the grant signs the new user up and returns the password grant's
// tokens (same claims, gty password), the refresh token works, the tenant log has Auth0's
// codes and no code anywhere in it.
func TestPasswordlessEmailLogin(t *testing.T) {
	e, box := pwlEnv(t, map[string]any{"totp": map[string]any{"length": float64(8), "time_step": float64(300)},
		"email": map[string]any{"from": "{{ application.name }} <login@example.com>", "subject": "Code for {{ application.name }}",
			"body": "<p>Hi {{ email }}, your code is {{ code }}</p>"}})
	r := e.start()
	if r.Status != http.StatusOK || r.str("email") != annEmail || r.Body["email_verified"] != false || len(r.str("_id")) == 0 {
		t.Fatalf("start: got %d %s", r.Status, r.Raw)
	}
	m := e.code(box)
	if m.Channel != "email" || m.To != annEmail || len(m.Code) != 8 || m.Kind != "passwordless" || !m.HTML ||
		m.From != "Shop & Co <login@example.com>" || m.Subject != "Code for Shop & Co" ||
		m.Text != "<p>Hi "+annEmail+", your code is "+m.Code+"</p>" {
		t.Fatalf("message: got %+v", m)
	}
	tok := e.postForm("/oauth/token", otpGrant("Ann@Example.com", m.Code))
	if tok.Status != http.StatusOK {
		t.Fatalf("grant: got %d %s", tok.Status, tok.Raw)
	}
	at := e.verify(tok.str("access_token")).Claims
	id := e.verify(tok.str("id_token")).Claims
	sub, _ := at["sub"].(string)
	if !strings.HasPrefix(sub, "email|") || at["gty"] != "password" || id["sub"] != sub || id["email"] != annEmail || id["email_verified"] != true {
		t.Fatalf("claims: access %v, id %v", at, id)
	}
	// The same claims as the password grant's tokens for the same client and request.
	pw := e.postForm("/oauth/token", url.Values{"grant_type": {"password"}, "client_id": {pwlApp}, "client_secret": {pwlSecret},
		"username": {aliceEmail}, "password": {alicePass}, "audience": {apiID}, "scope": {"openid profile email offline_access read:sample"}})
	if pw.Status != http.StatusOK {
		t.Fatalf("password grant: %d %s", pw.Status, pw.Raw)
	}
	if got, want := claimNames(at), claimNames(e.verify(pw.str("access_token")).Claims); !slices.Equal(got, want) {
		t.Errorf("access token claims: got %v, password grant's %v", got, want)
	}
	if got, want := claimNames(id), claimNames(e.verify(pw.str("id_token")).Claims); !slices.Equal(got, want) {
		t.Errorf("ID token claims: got %v, password grant's %v", got, want)
	}
	if tok.str("scope") != pw.str("scope") || tok.str("refresh_token") == "" {
		t.Errorf("scope %q (password grant %q), refresh token %q", tok.str("scope"), pw.str("scope"), tok.str("refresh_token"))
	}
	ref := e.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {pwlApp}, "client_secret": {pwlSecret},
		"refresh_token": {tok.str("refresh_token")}})
	if ref.Status != http.StatusOK || e.verify(ref.str("access_token")).Claims["sub"] != sub {
		t.Fatalf("refresh: got %d %s", ref.Status, ref.Raw)
	}
	// A second login finds the user it signed up.
	e.start()
	again := e.postForm("/oauth/token", otpGrant(annEmail, e.code(box).Code))
	if again.Status != http.StatusOK || e.verify(again.str("access_token")).Claims["sub"] != sub {
		t.Fatalf("second login: got %d %s", again.Status, again.Raw)
	}
	for _, typ := range []string{"cls", "ss", "sepotpft"} {
		if len(e.tenantLogs(typ)) == 0 {
			t.Errorf("no %s event in the tenant log", typ)
		}
	}
	if n := len(e.tenantLogs("ss")); n != 1 {
		t.Errorf("got %d signups, want 1", n)
	}
	raw, _ := json.Marshal(e.tenantLogs(""))
	if strings.Contains(string(raw), m.Code) {
		t.Errorf("the code %s is in the tenant log: %s", m.Code, raw)
	}
	var stored int
	rows, err := e.st.ListUsers(t.Context(), store.UserFilter{Connection: "email"})
	if err != nil {
		t.Fatal(err)
	}
	stored = len(rows)
	if stored != 1 || !rows[0].EmailVerified {
		t.Errorf("users in the email connection: %+v", rows)
	}
}

func claimNames(c map[string]any) []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestPasswordlessSMSLoginPublicClient runs the SMS flow for a public client (no secret),
// with a form body and a phone number written with spaces.
func TestPasswordlessSMSLoginPublicClient(t *testing.T) {
	e, box := pwlEnv(t, nil)
	r := e.postForm("/passwordless/start", url.Values{"client_id": {pwlSPA}, "connection": {"sms"}, "phone_number": {"+1 415 555 0100"}})
	if r.Status != http.StatusOK || r.str("phone_number") != annPhone || r.Body["phone_verified"] != false {
		t.Fatalf("start: got %d %s", r.Status, r.Raw)
	}
	m := e.code(box)
	if m.Channel != "sms" || m.To != annPhone || m.Text != "Code: "+m.Code {
		t.Fatalf("message: got %+v", m)
	}
	tok := e.postForm("/oauth/token", url.Values{"grant_type": {grantPwl}, "client_id": {pwlSPA}, "username": {annPhone},
		"otp": {m.Code}, "realm": {"sms"}, "audience": {apiID}, "scope": {"openid offline_access"}})
	if tok.Status != http.StatusOK || tok.str("refresh_token") == "" {
		t.Fatalf("grant: got %d %s", tok.Status, tok.Raw)
	}
	if sub, _ := e.verify(tok.str("id_token")).Claims["sub"].(string); !strings.HasPrefix(sub, "sms|") {
		t.Errorf("sub: got %q, want sms|…", sub)
	}
	if evs := e.tenantLogs("cs"); len(evs) != 1 {
		t.Errorf("cs events: got %d, want 1", len(evs))
	}
}

// TestPasswordlessWrongCodes covers every way a code stops working: wrong, expired (injected
// clock), replayed, after the third wrong try, replaced by a newer start, sent for another
// connection. Each answers Auth0's 403 with its connection's text and logs fepotpft.
func TestPasswordlessWrongCodes(t *testing.T) {
	wrongEmail := map[string]any{"error": "invalid_grant", "error_description": "Wrong email or verification code."}
	wrongPhone := map[string]any{"error": "invalid_grant", "error_description": "Wrong phone number or verification code."}
	for _, tc := range []struct {
		name string
		// try returns the grant that must fail, after whatever the case does first.
		try  func(e *env, box *mailbox) url.Values
		want map[string]any
	}{
		{"wrong code", func(e *env, box *mailbox) url.Values {
			e.start()
			return otpGrant(annEmail, otherOTP(e.code(box).Code))
		}, wrongEmail},
		{"wrong code by sms", func(e *env, box *mailbox) url.Values {
			e.start("connection", "sms", "email", "", "phone_number", annPhone)
			return otpGrant(annPhone, otherOTP(e.code(box).Code), "realm", "sms")
		}, wrongPhone},
		{"expired", func(e *env, box *mailbox) url.Values {
			e.start()
			code := e.code(box).Code
			e.clock.Advance(180 * time.Second)
			return otpGrant(annEmail, code)
		}, wrongEmail},
		{"replayed", func(e *env, box *mailbox) url.Values {
			e.start()
			code := e.code(box).Code
			if r := e.postForm("/oauth/token", otpGrant(annEmail, code)); r.Status != http.StatusOK {
				e.t.Fatalf("first use: %d %s", r.Status, r.Raw)
			}
			return otpGrant(annEmail, code)
		}, wrongEmail},
		{"third wrong try invalidates", func(e *env, box *mailbox) url.Values {
			e.start()
			code := e.code(box).Code
			for range 3 {
				if r := e.postForm("/oauth/token", otpGrant(annEmail, otherOTP(code))); r.Status != http.StatusForbidden {
					e.t.Fatalf("wrong try: %d %s", r.Status, r.Raw)
				}
			}
			return otpGrant(annEmail, code)
		}, wrongEmail},
		{"a new start replaces the code", func(e *env, box *mailbox) url.Values {
			e.start()
			old := e.code(box).Code
			e.start()
			if e.code(box).Code == old {
				e.t.Skip("the new code happens to equal the old one (one chance in a million)")
			}
			return otpGrant(annEmail, old)
		}, wrongEmail},
		{"code of another connection", func(e *env, box *mailbox) url.Values {
			e.start()
			return otpGrant(annEmail, e.code(box).Code, "realm", "sms")
		}, wrongPhone},
		{"no code was sent", func(e *env, _ *mailbox) url.Values { return otpGrant(annEmail, "123456") }, wrongEmail},
		{"not an address", func(e *env, _ *mailbox) url.Values { return otpGrant("ann", "123456") }, wrongEmail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, box := pwlEnv(t, nil)
			r := e.postForm("/oauth/token", tc.try(e, box))
			if r.Status != http.StatusForbidden || r.str("error") != tc.want["error"] || r.str("error_description") != tc.want["error_description"] {
				t.Fatalf("got %d %s, want 403 %v", r.Status, r.Raw, tc.want)
			}
			if len(e.tenantLogs("fepotpft")) == 0 {
				t.Error("no fepotpft event in the tenant log")
			}
		})
	}
}

// TestPasswordlessParallelGuesses sends, round after round, 30 wrong codes at once for one
// recipient: every one answers the wrong-code error, and the right code is dead afterwards,
// so a burst buys no more guesses than the limit (the store's conformance suite proves that
// exactly three tries are counted however they interleave). With brute-force protection on,
// the user+IP pair is then blocked after the tenant's max_attempts failures.
func TestPasswordlessParallelGuesses(t *testing.T) {
	e, box := pwlEnv(t, map[string]any{"brute_force_protection": false})
	for round := range 20 {
		e.start()
		code := e.code(box).Code
		rs := burst(30, func(int) response { return e.postForm("/oauth/token", otpGrant(annEmail, otherOTP(code))) })
		for _, r := range rs {
			if r.Status != http.StatusForbidden || r.str("error_description") != "Wrong email or verification code." {
				t.Fatalf("round %d: got %d %s", round, r.Status, r.Raw)
			}
		}
		if r := e.postForm("/oauth/token", otpGrant(annEmail, code)); r.Status != http.StatusForbidden {
			t.Fatalf("round %d: the right code worked after 30 parallel wrong ones: %d %s", round, r.Status, r.Raw)
		}
		e.clock.Advance(time.Hour) // the recipient's send bucket refills
	}
	// With brute-force protection (the default), the user+IP pair is blocked after the
	// tenant's max_attempts (10) failures: further tries answer 429 before any code is checked.
	e2, box2 := pwlEnv(t, nil)
	for range 4 {
		e2.start()
		code := e2.code(box2).Code
		for range 3 {
			e2.postForm("/oauth/token", otpGrant(annEmail, otherOTP(code)))
		}
	}
	e2.start()
	r := e2.postForm("/oauth/token", otpGrant(annEmail, e2.code(box2).Code))
	if r.Status != http.StatusTooManyRequests || r.str("error") != "too_many_attempts" {
		t.Fatalf("after 12 failures: got %d %s, want 429 too_many_attempts", r.Status, r.Raw)
	}
}

// TestPasswordlessSignupDisabled: with disable_signup, an unknown address gets the same
// answer as a known one but no code, and cannot log in; a known user can.
func TestPasswordlessSignupDisabled(t *testing.T) {
	e, box := pwlEnv(t, map[string]any{"disable_signup": true})
	now := e.clock.Now()
	if err := e.st.CreateUser(t.Context(), store.User{ID: "email|000000000000000000000001", Connection: "email", Email: "known@example.com",
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	r := e.start()
	if r.Status != http.StatusOK || r.str("email") != annEmail {
		t.Fatalf("start for a stranger: got %d %s", r.Status, r.Raw)
	}
	e.flush()
	if n := box.count(); n != 0 {
		t.Fatalf("a stranger was sent %d messages with signups disabled", n)
	}
	if r := e.postForm("/oauth/token", otpGrant(annEmail, "123456")); r.Status != http.StatusForbidden {
		t.Fatalf("stranger's login: got %d %s", r.Status, r.Raw)
	}
	if len(e.tenantLogs("fs")) != 1 {
		t.Error("no fs event for the refused signup")
	}
	if r := e.start("email", "known@example.com"); r.Status != http.StatusOK {
		t.Fatalf("start for a user: got %d %s", r.Status, r.Raw)
	}
	tok := e.postForm("/oauth/token", otpGrant("known@example.com", e.code(box).Code))
	if tok.Status != http.StatusOK || e.verify(tok.str("id_token")).Claims["sub"] != "email|000000000000000000000001" {
		t.Fatalf("user's login: got %d %s", tok.Status, tok.Raw)
	}
	u, _ := e.st.GetUser(t.Context(), "email|000000000000000000000001")
	if !u.EmailVerified {
		t.Error("the code did not mark the address verified")
	}
}

// TestPasswordlessSendLimits sends bursts of starts, 20 rounds each: one recipient gets
// exactly the per-recipient limit of codes however the requests interleave, and one IP
// exactly the per-IP limit across recipients; the rest answer 429 too_many_requests and
// send nothing.
func TestPasswordlessSendLimits(t *testing.T) {
	const perRecipient, perIP = 4, 9
	e, box := pwlEnv(t, nil, func(c *oauthserver.Config) {
		c.PasswordlessSendLimits = oauthserver.PasswordlessSendLimits{PerRecipientPerHour: perRecipient, PerIPPerHour: perIP}
	})
	sent := 0
	for round := range 20 {
		rs := burst(12, func(int) response { return e.start() })
		got := tally(rs)
		if got["200 "] != perRecipient || got["429 too_many_requests"] != 12-perRecipient {
			t.Fatalf("round %d, one recipient: got %v, want %d sent and the rest 429", round, got, perRecipient)
		}
		e.flush()
		if sent += perRecipient; box.count() != sent {
			t.Fatalf("round %d: %d messages sent, want %d", round, box.count(), sent)
		}
		e.clock.Advance(time.Hour)
		rs = burst(20, func(i int) response { return e.start("email", fmt.Sprintf("r%d-%d@example.com", round, i)) })
		if got := tally(rs); got["200 "] != perIP || got["429 too_many_requests"] != 20-perIP {
			t.Fatalf("round %d, one IP: got %v, want %d sent and the rest 429", round, got, perIP)
		}
		e.flush()
		if sent += perIP; box.count() != sent {
			t.Fatalf("round %d: %d messages sent, want %d", round, box.count(), sent)
		}
		e.clock.Advance(time.Hour)
	}
}

// TestPasswordlessStartErrors: bad input gets a clear Auth0-style error and sends nothing.
func TestPasswordlessStartErrors(t *testing.T) {
	e, box := pwlEnv(t, nil)
	now := e.clock.Now()
	e.mustClient(store.Client{ClientID: "no-pwl-grant-000000000000000001", Name: "Other", TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"password"}, CreatedAt: now})
	for _, tc := range []struct {
		name   string
		kv     []string
		status int
		code   string
	}{
		{"magic link", []string{"send", "link"}, 400, "bad.send"},
		{"send absent means link for email", []string{"send", ""}, 400, "bad.send"},
		{"bad email", []string{"email", "ann@example.com, bob@example.com"}, 400, "bad.email"},
		{"no email", []string{"email", ""}, 400, "bad.email"},
		{"bad phone", []string{"connection", "sms", "phone_number", "555-0100"}, 400, "bad.phone_number"},
		{"unknown connection", []string{"connection", "whatsapp"}, 400, "bad.connection"},
		{"database connection", []string{"connection", connName}, 400, "bad.connection"},
		{"no connection", []string{"connection", ""}, 400, "bad.connection"},
		{"wrong secret", []string{"client_secret", "nope"}, 401, "access_denied"},
		{"unknown client", []string{"client_id", "nobody"}, 401, "access_denied"},
		{"client without the grant", []string{"client_id", "no-pwl-grant-000000000000000001", "client_secret", ""}, 403, "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.start(tc.kv...)
			if r.Status != tc.status || r.str("error") != tc.code || r.str("error_description") == "" {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
	for _, body := range []string{`[1]`, `{"client_id": ` + "\"" + pwlApp + `", "authParams": "x"}`, `{`, `{"a":1} {}`} {
		if r := e.post("/passwordless/start", "application/json", body); r.Status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Errorf("body %s: got %d %s, want 400 invalid_request", body, r.Status, r.Raw)
		}
	}
	// authParams (an object, as the SDKs send it) is accepted.
	if r := e.post("/passwordless/start", "application/json", `{"client_id":"`+pwlSPA+`","connection":"email","email":"`+annEmail+
		`","send":"code","authParams":{"scope":"openid","state":"x"}}`); r.Status != http.StatusOK {
		t.Fatalf("with authParams: got %d %s", r.Status, r.Raw)
	}
	e.flush()
	if box.count() != 1 {
		t.Errorf("%d messages sent, want only the last request's", box.count())
	}
}

// TestPasswordlessMFAPolicy: the tenant's MFA policy holds for passwordless logins as for
// passwords: the grant answers mfa_required with an mfa_token.
func TestPasswordlessMFAPolicy(t *testing.T) {
	e, box := pwlEnv(t, nil)
	if err := e.st.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.MFAPolicy = store.MFAAlways; return nil }); err != nil {
		t.Fatal(err)
	}
	e.start()
	r := e.postForm("/oauth/token", otpGrant(annEmail, e.code(box).Code))
	if r.Status != http.StatusForbidden || r.str("error") != "mfa_required" || r.str("mfa_token") == "" {
		t.Fatalf("got %d %s, want 403 mfa_required", r.Status, r.Raw)
	}
}

// TestPasswordlessGrantErrors: requests that never reach a code.
func TestPasswordlessGrantErrors(t *testing.T) {
	e, _ := pwlEnv(t, nil)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"database realm", otpGrant(annEmail, "123456", "realm", connName), 400, "invalid_request"},
		{"unknown realm", otpGrant(annEmail, "123456", "realm", "nope"), 400, "invalid_request"},
		{"no realm", otpGrant(annEmail, "123456", "realm", ""), 400, "invalid_request"},
		{"no otp", otpGrant(annEmail, ""), 400, "invalid_request"},
		{"client without the grant", otpGrant(annEmail, "123456", "client_id", appID, "client_secret", appSecret), 403, "unauthorized_client"},
		{"unknown audience", otpGrant(annEmail, "123456", "audience", "https://nope.example.com"), 403, "access_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postForm("/oauth/token", tc.form)
			if r.Status != tc.status || r.str("error") != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
}

// TestPasswordlessActions: post-login Actions run for passwordless logins as for passwords:
// they see the connection's strategy and the user, add claims, and can deny the login.
func TestPasswordlessActions(t *testing.T) {
	e, box := pwlEnv(t, nil)
	e.putAction("tag", action(`
if (event.connection.strategy === 'email' && event.user.email === '`+annEmail+`') {
  api.accessToken.setCustomClaim('https://example.com/via', event.connection.name);
  api.idToken.setCustomClaim('https://example.com/verified', event.user.email_verified);
}
if (event.user.username === '+14155550199') api.access.deny('no texts today');`), nil)
	e.bind("tag")
	e.start()
	tok := e.postForm("/oauth/token", otpGrant(annEmail, e.code(box).Code))
	if tok.Status != http.StatusOK {
		t.Fatalf("grant: %d %s", tok.Status, tok.Raw)
	}
	if got := e.verify(tok.str("access_token")).Claims["https://example.com/via"]; got != "email" {
		t.Errorf("access token claim: got %v, want email", got)
	}
	if got := e.verify(tok.str("id_token")).Claims["https://example.com/verified"]; got != true {
		t.Errorf("ID token claim: got %v, want true", got)
	}
	e.start("connection", "sms", "email", "", "phone_number", "+14155550199")
	r := e.postForm("/oauth/token", otpGrant("+14155550199", e.code(box).Code, "realm", "sms"))
	if r.Status != http.StatusForbidden || r.str("error") != "access_denied" || r.str("error_description") != "no texts today" {
		t.Fatalf("denied login: got %d %s", r.Status, r.Raw)
	}
}

// BenchmarkPasswordlessLogin is one start and one grant (a code issued, mailed to an
// in-memory sender, verified and spent, tokens minted) over loopback HTTP and SQLite.
//
//	go test -run '^$' -bench BenchmarkPasswordlessLogin -benchtime 200x ./internal/oauthserver
func BenchmarkPasswordlessLogin(b *testing.B) {
	e, box := pwlEnv(b, nil, func(c *oauthserver.Config) {
		c.PasswordlessSendLimits = oauthserver.PasswordlessSendLimits{PerRecipientPerHour: -1, PerIPPerHour: -1}
	})
	for i := 0; b.Loop(); i++ {
		to := fmt.Sprintf("u%d@example.com", i)
		if r := e.start("email", to); r.Status != http.StatusOK {
			b.Fatalf("start: %d %s", r.Status, r.Raw)
		}
		if r := e.postForm("/oauth/token", otpGrant(to, e.code(box).Code, "scope", "openid")); r.Status != http.StatusOK {
			b.Fatalf("grant: %d %s", r.Status, r.Raw)
		}
	}
}

// TestPasswordlessSignupTurnedOff: a code sent while signups were on does not sign a stranger
// up once the connection disables them.
func TestPasswordlessSignupTurnedOff(t *testing.T) {
	e, box := pwlEnv(t, nil)
	e.start()
	code := e.code(box).Code
	if err := e.st.UpdateConnection(t.Context(), "email", func(c *store.Connection) error {
		c.Options = map[string]any{"disable_signup": true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := e.postForm("/oauth/token", otpGrant(annEmail, code)); r.Status != http.StatusForbidden || r.str("error_description") != "Wrong email or verification code." {
		t.Fatalf("got %d %s, want 403", r.Status, r.Raw)
	}
	if n, _ := e.st.CountUsers(t.Context(), "email"); n != 0 {
		t.Errorf("%d users signed up", n)
	}
}

package oauthserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/mfa/deliver"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

const (
	grantMFAOTP      = "http://auth0.com/oauth/grant-type/mfa-otp"
	grantMFAOOB      = "http://auth0.com/oauth/grant-type/mfa-oob"
	grantMFARecovery = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
)

// switchSender is the server's MFA code sender in tests: codes go nowhere until a test points
// it at a real sender (the SMTP sender and a loopback SMTP server).
type switchSender struct {
	mu    sync.Mutex
	inner mfa.Sender
}

func (s *switchSender) set(inner mfa.Sender) { s.mu.Lock(); s.inner = inner; s.mu.Unlock() }

func (s *switchSender) Send(ctx context.Context, m mfa.Message) error {
	s.mu.Lock()
	inner := s.inner
	s.mu.Unlock()
	if inner == nil {
		return nil
	}
	return inner.Send(ctx, m)
}

// mfaEnv is newEnv with MFA always required and the confidential app allowed the MFA grants.
func mfaEnv(t *testing.T, factors store.MFAFactors, opts ...func(*oauthserver.Config)) *env {
	t.Helper()
	e := newEnv(t, opts...)
	ctx := t.Context()
	if err := e.st.UpdateTenant(ctx, func(tn *store.Tenant) error {
		tn.MFAPolicy, tn.MFAFactors = store.MFAAlways, factors
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UpdateClient(ctx, appID, func(c *store.Client) error {
		c.GrantTypes = append(c.GrantTypes, grantMFAOTP, grantMFAOOB, grantMFARecovery)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// mfaToken logs alice in and returns the mfa_token of the mfa_required answer.
func (e *env) mfaToken() (string, response) {
	e.t.Helper()
	r := e.postForm("/oauth/token", passwordForm("scope", "openid offline_access"))
	if r.Status != http.StatusForbidden || r.str("error") != "mfa_required" ||
		r.str("error_description") != "Multifactor authentication required" || r.str("mfa_token") == "" {
		e.t.Fatalf("password grant: got %d %s, want 403 mfa_required with an mfa_token", r.Status, r.Raw)
	}
	return r.str("mfa_token"), r
}

// bearer sends a request with tok as its bearer token, a JSON body and more headers given as
// name, value pairs.
func (e *env) bearer(method, path, tok, body string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// e.do decodes objects only; GET /mfa/authenticators answers an array.
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if strings.HasPrefix(string(raw), "{") {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out
}

// enrolOTP associates an OTP authenticator and returns its secret and recovery code.
func (e *env) enrolOTP(tok string) (secret, recovery string) {
	e.t.Helper()
	r := e.bearer(http.MethodPost, "/mfa/associate", tok, `{"authenticator_types":["otp"]}`)
	if r.Status != http.StatusOK {
		e.t.Fatalf("associate: got %d %s, want 200", r.Status, r.Raw)
	}
	codes, _ := r.Body["recovery_codes"].([]any)
	if len(codes) != 1 {
		e.t.Fatalf("associate: got recovery_codes %v, want one", r.Body["recovery_codes"])
	}
	return r.str("secret"), codes[0].(string)
}

func (e *env) otpCode(secret string, at time.Time) string {
	e.t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) mfaGrant(grant string, kv ...string) response {
	e.t.Helper()
	f := url.Values{"grant_type": {grant}, "client_id": {appID}, "client_secret": {appSecret}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return e.postForm("/oauth/token", f)
}

func wantError(t *testing.T, what string, r response, status int, code, desc string) {
	t.Helper()
	if r.Status != status || r.str("error") != code || r.str("error_description") != desc {
		t.Errorf("%s: got %d %s, want %d %s %q", what, r.Status, r.Raw, status, code, desc)
	}
}

func TestMFAGate(t *testing.T) {
	cases := []struct {
		name     string
		policy   string
		enrolled bool
		want     map[string]any
	}{
		{"policy never issues tokens", store.MFANever, false, nil},
		{"policy always, not enrolled: enroll", store.MFAAlways, false,
			map[string]any{"enroll": []any{map[string]any{"type": "otp"}}}},
		{"policy always, enrolled: challenge", store.MFAAlways, true,
			map[string]any{"challenge": []any{map[string]any{"type": "otp"}, map[string]any{"type": "recovery-code"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := mfaEnv(t, store.MFAFactors{})
			if c.enrolled {
				tok, _ := e.mfaToken()
				secret, _ := e.enrolOTP(tok)
				if r := e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", e.otpCode(secret, e.clock.Now())); r.Status != http.StatusOK {
					t.Fatalf("mfa-otp: got %d %s, want 200", r.Status, r.Raw)
				}
			}
			if err := e.st.UpdateTenant(t.Context(), func(tn *store.Tenant) error { tn.MFAPolicy = c.policy; return nil }); err != nil {
				t.Fatal(err)
			}
			r := e.postForm("/oauth/token", passwordForm())
			if c.want == nil {
				if r.Status != http.StatusOK {
					t.Errorf("password grant: got %d %s, want 200", r.Status, r.Raw)
				}
				return
			}
			wantError(t, "password grant", r, http.StatusForbidden, "mfa_required", "Multifactor authentication required")
			diff(t, "mfa_requirements", r.Body["mfa_requirements"], any(c.want))
		})
	}
}

func TestMFAOTPFlow(t *testing.T) {
	e := mfaEnv(t, store.MFAFactors{})
	tok, _ := e.mfaToken()
	e.enrolOTP(tok) // a pending enrolment, replaced below
	r := e.bearer(http.MethodPost, "/mfa/associate", tok, `{"authenticator_types":["otp"]}`)
	if r.Status != http.StatusOK || r.str("barcode_uri") != "otpauth://totp/Test:"+aliceEmail+"?secret="+r.str("secret")+"&issuer=Test&algorithm=SHA1&digits=6&period=30" {
		t.Errorf("re-associate before confirmation: got %d %s, want 200 with the otpauth URI", r.Status, r.Raw)
	}
	secret := r.str("secret") // the pending enrolment was replaced

	wantError(t, "wrong code", e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", "000000"),
		http.StatusForbidden, "invalid_grant", "Invalid otp_code.")
	code := e.otpCode(secret, e.clock.Now())
	r = e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", code)
	if r.Status != http.StatusOK || r.str("refresh_token") == "" {
		t.Fatalf("mfa-otp: got %d %s, want 200 with a refresh token", r.Status, r.Raw)
	}
	if amr := e.verify(r.str("id_token")).Claims["amr"]; !slices.Equal(toStrings(amr), []string{"mfa"}) {
		t.Errorf("ID token amr: got %v, want [mfa]", amr)
	}
	refresh := r.str("refresh_token")
	wantError(t, "mfa_token replayed after success", e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", e.otpCode(secret, e.clock.Now().Add(30*time.Second))),
		http.StatusForbidden, "expired_token", "mfa_token is expired")

	// A new login: the user is enrolled now, so the code of a used step is refused.
	tok2, _ := e.mfaToken()
	r = e.postForm("/mfa/challenge", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "mfa_token": {tok2}, "challenge_type": {"otp"}})
	if r.Status != http.StatusOK || r.str("challenge_type") != "otp" {
		t.Errorf("challenge: got %d %s, want 200 otp", r.Status, r.Raw)
	}
	wantError(t, "replayed code (same step)", e.mfaGrant(grantMFAOTP, "mfa_token", tok2, "otp", code),
		http.StatusForbidden, "invalid_grant", "Invalid otp_code.")
	e.clock.Advance(30 * time.Second)
	if r := e.mfaGrant(grantMFAOTP, "mfa_token", tok2, "otp", e.otpCode(secret, e.clock.Now())); r.Status != http.StatusOK {
		t.Errorf("next step's code: got %d %s, want 200", r.Status, r.Raw)
	}

	// Refresh tokens issued after MFA keep working without a second factor.
	r = e.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret}, "refresh_token": {refresh}})
	if r.Status != http.StatusOK {
		t.Fatalf("refresh after MFA: got %d %s, want 200", r.Status, r.Raw)
	}
	if amr := e.verify(r.str("id_token")).Claims["amr"]; !slices.Equal(toStrings(amr), []string{"mfa"}) {
		t.Errorf("refreshed ID token amr: got %v, want [mfa]", amr)
	}
	e.mfaLogs(map[string]int{"mfar": 2, "gd_start_enroll": 2, "gd_auth_failed": 2, "feotpft": 3,
		"gd_enrollment_complete": 1, "gd_auth_succeed": 1, "seotpft": 2, "sertft": 1, "fepft": 0})
}

// flipFirst changes the first character of a token to another base64url one.
func flipFirst(tok string) string {
	if tok[0] == 'A' {
		return "B" + tok[1:]
	}
	return "A" + tok[1:]
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: got != want (-want +got):\n%s", what, d)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// mfaLogs checks that the tenant log holds want events of each type, once everything emitted
// so far is written.
func (e *env) mfaLogs(want map[string]int) {
	e.t.Helper()
	for typ, n := range want {
		if got := len(e.tenantLogs(typ)); got != n {
			e.t.Errorf("log events %s: got %d, want %d", typ, got, n)
		}
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestMFATokenErrors(t *testing.T) {
	cases := []struct {
		name   string
		token  func(e *env, tok string) string
		status int
		code   string
		desc   string
	}{
		{"malformed", func(*env, string) string { return "not-an-mfa-token" }, http.StatusForbidden, "invalid_grant", "Malformed mfa_token"},
		{"tampered", func(_ *env, tok string) string { return flipFirst(tok) }, http.StatusForbidden, "invalid_grant", "Malformed mfa_token"},
		{"expired after 10 minutes", func(e *env, tok string) string { e.clock.Advance(10 * time.Minute); return tok }, http.StatusForbidden, "expired_token", "mfa_token is expired"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := mfaEnv(t, store.MFAFactors{})
			tok, _ := e.mfaToken()
			secret, _ := e.enrolOTP(tok)
			r := e.mfaGrant(grantMFAOTP, "mfa_token", c.token(e, tok), "otp", e.otpCode(secret, e.clock.Now()))
			wantError(t, "mfa-otp", r, c.status, c.code, c.desc)
		})
	}
	t.Run("grant not allowed for the client", func(t *testing.T) {
		e := newEnv(t)
		r := e.mfaGrant(grantMFAOTP, "mfa_token", "x", "otp", "123456")
		wantError(t, "mfa-otp", r, http.StatusForbidden, "unauthorized_client", "Grant type '"+grantMFAOTP+"' not allowed for the client.")
	})
}

func TestMFARecoveryCode(t *testing.T) {
	e := mfaEnv(t, store.MFAFactors{})
	tok, _ := e.mfaToken()
	secret, recovery := e.enrolOTP(tok)
	if r := e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", e.otpCode(secret, e.clock.Now())); r.Status != http.StatusOK {
		t.Fatalf("mfa-otp: got %d %s", r.Status, r.Raw)
	}
	tok2, _ := e.mfaToken()
	wantError(t, "wrong recovery code", e.mfaGrant(grantMFARecovery, "mfa_token", tok2, "recovery_code", strings.Repeat("A", 24)),
		http.StatusForbidden, "invalid_grant", "Invalid recovery_code.")
	r := e.mfaGrant(grantMFARecovery, "mfa_token", tok2, "recovery_code", recovery)
	next := r.str("recovery_code")
	if r.Status != http.StatusOK || r.str("access_token") == "" || !regexp.MustCompile(`^[A-Z0-9]{24}$`).MatchString(next) || next == recovery {
		t.Fatalf("mfa-recovery-code: got %d %s, want 200 with tokens and a new 24-character recovery_code", r.Status, r.Raw)
	}
	tok3, _ := e.mfaToken()
	wantError(t, "used recovery code", e.mfaGrant(grantMFARecovery, "mfa_token", tok3, "recovery_code", recovery),
		http.StatusForbidden, "invalid_grant", "Invalid recovery_code.")
	if r := e.mfaGrant(grantMFARecovery, "mfa_token", tok3, "recovery_code", next); r.Status != http.StatusOK {
		t.Errorf("rotated recovery code: got %d %s, want 200", r.Status, r.Raw)
	}
	e.mfaLogs(map[string]int{"gd_recovery_failed": 2, "fercft": 2, "gd_recovery_succeed": 2, "sercft": 2})
}

func TestMFAFailureLimit(t *testing.T) {
	e := mfaEnv(t, store.MFAFactors{})
	tok, _ := e.mfaToken()
	secret, _ := e.enrolOTP(tok)
	for i := range 10 {
		r := e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", "000000")
		if r.Status != http.StatusForbidden {
			t.Fatalf("failure %d: got %d %s, want 403", i+1, r.Status, r.Raw)
		}
	}
	r := e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", e.otpCode(secret, e.clock.Now()))
	if r.Status != http.StatusTooManyRequests || r.str("error") != "too_many_attempts" {
		t.Errorf("right code after 10 failures: got %d %s, want 429 too_many_attempts", r.Status, r.Raw)
	}
	e.mfaLogs(map[string]int{"gd_otp_rate_limit_exceed": 1})
	e.clock.Advance(6 * time.Minute)
	tok2, _ := e.mfaToken()
	if r := e.mfaGrant(grantMFAOTP, "mfa_token", tok2, "otp", e.otpCode(secret, e.clock.Now())); r.Status != http.StatusOK {
		t.Errorf("after 6 minutes: got %d %s, want 200", r.Status, r.Raw)
	}
}

func TestMFAAuthenticatorsEndpoints(t *testing.T) {
	e := mfaEnv(t, store.MFAFactors{})
	tok, _ := e.mfaToken()
	wantError(t, "no bearer", e.bearer(http.MethodGet, "/mfa/authenticators", "", ""), http.StatusUnauthorized, "unauthorized", "Missing mfa_token.")
	e.enrolOTP(tok)
	r := e.bearer(http.MethodGet, "/mfa/authenticators", tok, "")
	var got []string
	for _, m := range mustList(t, r) {
		got = append(got, m["authenticator_type"].(string)+" active="+boolStr(m["active"]))
	}
	diff(t, "authenticators", got, []string{"otp active=false", "recovery-code active=false"})
	id := mustList(t, r)[0]["id"].(string)
	if !strings.HasPrefix(id, "totp|dev_") {
		t.Errorf("authenticator id: got %q, want totp|dev_…", id)
	}
	if r := e.bearer(http.MethodDelete, "/mfa/authenticators/"+id, tok, ""); r.Status != http.StatusNoContent {
		t.Errorf("delete pending: got %d %s, want 204", r.Status, r.Raw)
	}
	secret, _ := e.enrolOTP(tok)
	if r := e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", e.otpCode(secret, e.clock.Now())); r.Status != http.StatusOK {
		t.Fatalf("mfa-otp: got %d %s", r.Status, r.Raw)
	}
	tok2, _ := e.mfaToken()
	r = e.bearer(http.MethodGet, "/mfa/authenticators", tok2, "")
	confirmed := mustList(t, r)[0]["id"].(string)
	wantError(t, "delete confirmed with an mfa_token", e.bearer(http.MethodDelete, "/mfa/authenticators/"+confirmed, tok2, ""),
		http.StatusForbidden, "access_denied", "An enrolled authenticator can only be removed by an administrator.")
	wantError(t, "associate when enrolled", e.bearer(http.MethodPost, "/mfa/associate", tok2, `{"authenticator_types":["otp"]}`),
		http.StatusForbidden, "access_denied", "User is already enrolled.")
	r = e.postForm("/mfa/challenge", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "mfa_token": {tok2}, "challenge_type": {"oob"}})
	if r.Status != http.StatusBadRequest || r.str("error") != "unsupported_challenge_type" {
		t.Errorf("oob challenge without oob factor: got %d %s, want 400 unsupported_challenge_type", r.Status, r.Raw)
	}
}

func mustList(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := jsonUnmarshal(r.Raw, &out); err != nil || r.Status != http.StatusOK {
		t.Fatalf("list: got %d %s, want 200 and a JSON array", r.Status, r.Raw)
	}
	return out
}

func boolStr(v any) string {
	if b, _ := v.(bool); b {
		return "true"
	}
	return "false"
}

// smtpServer is a loopback SMTP server (RFC 5321) speaking just enough to accept mail; each
// message's data arrives on the channel.
func smtpServer(t *testing.T) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				say := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
				say("220 localhost ESMTP")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case cmd == "DATA":
						say("354 go ahead")
						var b strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil || l == ".\r\n" {
								break
							}
							b.WriteString(l)
						}
						ch <- b.String()
						say("250 queued")
					case cmd == "QUIT":
						say("221 bye")
						return
					default:
						say("250 OK")
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), ch
}

var codeRE = regexp.MustCompile(`code is: (\d{6})`)

func TestMFAEmailOOB(t *testing.T) {
	e := mfaEnv(t, store.MFAFactors{Email: true, RecoveryCode: true})
	addr, mail := smtpServer(t)
	e.mfaSender.set(deliver.SMTPSender{Addr: addr, From: "sesame@example.com"})
	received := func() string {
		t.Helper()
		select {
		case m := <-mail:
			if !strings.Contains(m, "To: "+aliceEmail) {
				t.Errorf("mail: got %q, want it addressed to %s", m, aliceEmail)
			}
			c := codeRE.FindStringSubmatch(m)
			if c == nil {
				t.Fatalf("mail: got %q, want a 6-digit code", m)
			}
			return c[1]
		case <-time.After(5 * time.Second):
			t.Fatal("no mail received")
		}
		return ""
	}
	tok, r := e.mfaToken()
	diff(t, "mfa_requirements", r.Body["mfa_requirements"], any(map[string]any{"enroll": []any{map[string]any{"type": "email"}}}))
	r = e.bearer(http.MethodPost, "/mfa/associate", tok, `{"authenticator_types":["oob"],"oob_channels":["email"],"email":"`+aliceEmail+`"}`)
	if r.Status != http.StatusOK || r.str("oob_code") == "" || r.str("binding_method") != "prompt" || r.str("oob_channel") != "email" {
		t.Fatalf("associate oob: got %d %s, want 200 with oob_code and binding_method prompt", r.Status, r.Raw)
	}
	oob, code := r.str("oob_code"), received()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	wantError(t, "wrong binding", e.mfaGrant(grantMFAOOB, "mfa_token", tok, "oob_code", oob, "binding_code", wrong),
		http.StatusForbidden, "invalid_grant", "Invalid binding_code.")
	if r := e.mfaGrant(grantMFAOOB, "mfa_token", tok, "oob_code", oob, "binding_code", code); r.Status != http.StatusOK {
		t.Fatalf("mfa-oob: got %d %s, want 200", r.Status, r.Raw)
	}
	// A later login: the challenge mails a fresh code.
	tok2, _ := e.mfaToken()
	r = e.post("/mfa/challenge", "application/json",
		`{"client_id":"`+appID+`","client_secret":"`+appSecret+`","mfa_token":"`+tok2+`","challenge_type":"otp oob"}`)
	if r.Status != http.StatusOK || r.str("challenge_type") != "oob" || r.str("oob_code") == "" {
		t.Fatalf("challenge: got %d %s, want 200 oob with an oob_code", r.Status, r.Raw)
	}
	oob2, code2 := r.str("oob_code"), received()
	if r := e.mfaGrant(grantMFAOOB, "mfa_token", tok2, "oob_code", oob2, "binding_code", code2); r.Status != http.StatusOK {
		t.Errorf("mfa-oob after challenge: got %d %s, want 200", r.Status, r.Raw)
	}
}

func TestMFASMSWebhook(t *testing.T) {
	e := mfaEnv(t, store.MFAFactors{SMS: true})
	codes := make(chan map[string]string, 2)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		codes <- m
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	e.mfaSender.set(deliver.WebhookSender{URL: hook.URL})
	tok, r := e.mfaToken()
	diff(t, "mfa_requirements", r.Body["mfa_requirements"], any(map[string]any{"enroll": []any{map[string]any{"type": "phone"}}}))
	cases := []struct {
		name  string
		body  string
		want  int
		error string
	}{
		{"phone number required", `{"authenticator_types":["oob"],"oob_channels":["sms"]}`, http.StatusBadRequest, "invalid_request"},
		{"email channel not enabled", `{"authenticator_types":["oob"],"oob_channels":["email"],"email":"a@example.com"}`, http.StatusBadRequest, "invalid_request"},
		{"otp not enabled", `{"authenticator_types":["otp"]}`, http.StatusBadRequest, "invalid_request"},
		{"sms enrolment", `{"authenticator_types":["oob"],"oob_channels":["sms"],"phone_number":"+15555550100"}`, http.StatusOK, ""},
	}
	var oob string
	for _, c := range cases {
		r := e.bearer(http.MethodPost, "/mfa/associate", tok, c.body)
		if r.Status != c.want || r.str("error") != c.error {
			t.Errorf("%s: got %d %s, want %d %q", c.name, r.Status, r.Raw, c.want, c.error)
		}
		oob = r.str("oob_code")
	}
	var m map[string]string
	select {
	case m = <-codes:
	case <-time.After(5 * time.Second):
		t.Fatal("webhook not called")
	}
	if m["channel"] != "sms" || m["to"] != "+15555550100" || len(m["code"]) != 6 {
		t.Fatalf("webhook body: got %v, want a 6-digit sms code for +15555550100", m)
	}
	if r := e.mfaGrant(grantMFAOOB, "mfa_token", tok, "oob_code", oob, "binding_code", m["code"]); r.Status != http.StatusOK {
		t.Fatalf("mfa-oob: got %d %s, want 200", r.Status, r.Raw)
	}
	tok2, _ := e.mfaToken()
	r = e.bearer(http.MethodGet, "/mfa/authenticators", tok2, "")
	l := mustList(t, r)
	if len(l) != 1 || l[0]["oob_channel"] != "sms" || l[0]["name"] != "XXXXXXXX0100" || l[0]["active"] != true {
		t.Errorf("authenticators: got %v, want one active sms authenticator with a masked number", l)
	}
	// Expired oob_code: five minutes after the challenge.
	r = e.postForm("/mfa/challenge", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "mfa_token": {tok2}, "challenge_type": {"oob"}})
	if r.Status != http.StatusOK {
		t.Fatalf("challenge: got %d %s", r.Status, r.Raw)
	}
	m = <-codes
	e.clock.Advance(5 * time.Minute)
	wantError(t, "expired oob_code", e.mfaGrant(grantMFAOOB, "mfa_token", tok2, "oob_code", r.str("oob_code"), "binding_code", m["code"]),
		http.StatusForbidden, "invalid_grant", "Invalid oob_code.")
}

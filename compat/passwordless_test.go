package compat_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/authentication"
	"github.com/auth0/go-auth0/v3/authentication/oauth"
	"github.com/auth0/go-auth0/v3/authentication/passwordless"
)

// The passwordless tenant: its own server, whose sender mails codes through a real SMTP
// listener of the test and posts SMS codes to a webhook of the test (mfa_sender smtp with
// webhook_url), so the shared server's configuration stays as it is.
const (
	pwlClientID     = "compat-pwl-app-0000000000000001"
	pwlClientSecret = "compat-pwl-secret-0123456789abcdef0123456789ab"
	pwlJWTClientID  = "compat-pwl-jwt-app-0000000000002"
	pwlAPI          = "https://api.pwl.compat.test"
	pwlEmail        = "paula@example.com"
	pwlPhone        = "+14155550123"
)

func pwlTenantYAML(jwtPublicKeyPEM string) string {
	pemScalar, _ := json.Marshal(jwtPublicKeyPEM)
	return `tenant:
  friendly_name: Passwordless Compat
resourceServers:
  - name: Passwordless API
    identifier: ` + pwlAPI + `
    allow_offline_access: true
    scopes: [{value: read:data, description: Read}]
clients:
  - name: Passwordless App
    client_id: ` + pwlClientID + `
    client_secret: ` + pwlClientSecret + `
    app_type: native
    token_endpoint_auth_method: client_secret_post
    grant_types: ["http://auth0.com/oauth/grant-type/passwordless/otp", refresh_token]
    refresh_token: {rotation_type: rotating, expiration_type: expiring}
  - name: Passwordless JWT App
    client_id: ` + pwlJWTClientID + `
    app_type: non_interactive
    token_endpoint_auth_method: private_key_jwt
    grant_types: ["http://auth0.com/oauth/grant-type/passwordless/otp", refresh_token]
    refresh_token: {rotation_type: rotating, expiration_type: expiring}
    client_authentication_methods:
      private_key_jwt:
        credentials: [{name: k1, credential_type: public_key, pem: ` + string(pemScalar) + `}]
connections:
  - name: email
    strategy: email
    enabled_clients: [Passwordless App, Passwordless JWT App]
    options:
      totp: {length: 6, time_step: 300}
      email:
        from: "{{ application.name }} <login@compat.test>"
        subject: "Your code for {{ application.name }}"
        body: "<p>Hello {{ email }}, your code for {{ application.name }} is <b>{{ code }}</b>.</p>"
        syntax: liquid
      brute_force_protection: true
  - name: sms
    strategy: sms
    enabled_clients: [Passwordless App, Passwordless JWT App]
    options:
      template: "Your Passwordless Compat code is {{ code }}"
`
}

// codeBox collects the codes delivered per recipient, in order, and serves the n-th at
// GET /?to=…&n=… (waiting for it) to the Node.js script.
type codeBox struct {
	mu    sync.Mutex
	codes map[string][]string
	// mails are the messages the SMTP listener accepted, hooks the SMS webhook's requests,
	// by recipient.
	mails map[string][]string
	hooks map[string][]map[string]string
	added chan struct{}
}

func newCodeBox() *codeBox {
	return &codeBox{codes: map[string][]string{}, mails: map[string][]string{}, hooks: map[string][]map[string]string{},
		added: make(chan struct{}, 64)}
}

// wait returns the n-th code delivered to `to`, waiting for it.
func (b *codeBox) wait(t *testing.T, to string, n int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, ok := b.get(to, n); ok {
			return c
		}
		select {
		case <-b.added:
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no code %d for %s", n, to)
	return ""
}

func (b *codeBox) add(to, code string) {
	b.mu.Lock()
	b.codes[to] = append(b.codes[to], code)
	b.mu.Unlock()
	select {
	case b.added <- struct{}{}:
	default:
	}
}

func (b *codeBox) get(to string, n int) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.codes[to]) < n {
		return "", false
	}
	return b.codes[to][n-1], true
}

func (b *codeBox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	deadline := time.After(20 * time.Second)
	for {
		if c, ok := b.get(r.URL.Query().Get("to"), n); ok {
			fmt.Fprintln(w, c)
			return
		}
		select {
		case <-b.added:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			http.Error(w, "no such code", http.StatusNotFound)
			return
		}
	}
}

var (
	mailCode = regexp.MustCompile(`<b>([0-9]{6})</b>`)
	smsCode  = regexp.MustCompile(`code is ([0-9]{6})$`)
)

// smtpListener is a loopback SMTP server (RFC 5321, the commands net/smtp sends) that files
// the code of each mail it accepts, read from the message body as a user would.
func smtpListener(t *testing.T, box *codeBox) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
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
				say("220 localhost ESMTP compat")
				var to string
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.TrimSpace(line)
					switch up := strings.ToUpper(cmd); {
					case strings.HasPrefix(up, "EHLO"), strings.HasPrefix(up, "HELO"):
						say("250 localhost")
					case strings.HasPrefix(up, "RCPT TO:"):
						to = strings.Trim(cmd[len("RCPT TO:"):], " <>")
						say("250 OK")
					case strings.HasPrefix(up, "MAIL FROM"), up == "RSET", up == "NOOP":
						say("250 OK")
					case up == "DATA":
						say("354 go ahead")
						var b strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
							b.WriteString(strings.TrimPrefix(l, "."))
						}
						msg := b.String()
						box.mu.Lock()
						box.mails[to] = append(box.mails[to], msg)
						box.mu.Unlock()
						if m := mailCode.FindStringSubmatch(msg); m != nil {
							box.add(to, m[1])
						}
						say("250 queued")
					case up == "QUIT":
						say("221 bye")
						return
					default:
						say("502 not implemented")
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// startPasswordlessServer starts a second `sesame serve` (the binary TestMain built) over its
// own database with the passwordless tenant and the given SMTP relay and SMS webhook.
func startPasswordlessServer(t *testing.T, smtpAddr, webhookURL, jwtPublicKeyPEM string) *sesameServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "sesame-compat-pwl-")
	if err != nil {
		t.Fatal(err)
	}
	s := &sesameServer{dir: dir, bin: srv.bin, logs: &lockedBuffer{}}
	t.Cleanup(s.stop)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.hostPort = net.JoinHostPort("127.0.0.1", port)
	s.issuer = "https://" + s.hostPort + "/"
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	s.certFile = certFile
	if s.roots, err = writeSelfSignedCert(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	s.kekFile = filepath.Join(dir, "kek")
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	if err := os.WriteFile(s.kekFile, []byte(base64.StdEncoding.EncodeToString(kek)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.dbDSN = "sqlite://" + filepath.Join(dir, "sesame.db")
	tenantFile := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(tenantFile, []byte(pwlTenantYAML(jwtPublicKeyPEM)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := s.command(t.Context(), "apply", "-f", tenantFile).CombinedOutput(); err != nil {
		t.Fatalf("sesame apply: %v\n%s", err, out)
	}
	s.cmd = s.command(context.Background(), "serve", "--addr", s.hostPort, "--issuer", s.issuer,
		"--tls-cert", certFile, "--tls-key", keyFile,
		"--mfa-sender", "smtp", "--smtp-addr", smtpAddr, "--smtp-from", "relay@compat.test", "--webhook-url", webhookURL)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(); err != nil {
		t.Fatalf("%v\n%s", err, s.logs.String())
	}
	return s
}

// passwordlessEnv is the second server with its SMTP listener, SMS webhook and code box, and
// the private key of its private_key_jwt client.
type passwordlessEnv struct {
	s       *sesameServer
	box     *codeBox
	codes   string // URL of the code box
	jwtPriv string
}

func newPasswordlessEnv(t *testing.T) *passwordlessEnv {
	t.Helper()
	box := newCodeBox()
	smtpAddr := smtpListener(t, box)
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		box.mu.Lock()
		box.hooks[m["to"]] = append(box.hooks[m["to"]], m)
		box.mu.Unlock()
		if c := smsCode.FindStringSubmatch(m["text"]); m["channel"] == "sms" && c != nil {
			box.add(m["to"], c[1])
		}
	}))
	t.Cleanup(webhook.Close)
	codes := httptest.NewServer(box)
	t.Cleanup(codes.Close)
	jwtPub, jwtPriv, err := rsaKeyPEMs()
	if err != nil {
		t.Fatal(err)
	}
	return &passwordlessEnv{s: startPasswordlessServer(t, smtpAddr, webhook.URL, jwtPub), box: box, codes: codes.URL, jwtPriv: jwtPriv}
}

// TestPasswordlessClients runs clients we did not write against a server with passwordless
// connections: the Auth0 Node SDK and go-auth0 (subtests share the server; each uses its own
// recipients).
func TestPasswordlessClients(t *testing.T) {
	pe := newPasswordlessEnv(t)
	t.Run("node-auth0", func(t *testing.T) { testNodeAuth0Passwordless(t, pe) })
	t.Run("go-auth0", func(t *testing.T) { testGoAuth0Passwordless(t, pe) })
}

// testNodeAuth0Passwordless drives the Auth0 Node SDK's AuthenticationClient.passwordless
// against a real server: an email code mailed through a real SMTP listener (read from the
// mail), loginWithEmail and a refresh for a client with a secret; an SMS code posted to the
// SMS webhook, loginWithSMS and a refresh for a private_key_jwt client (the SDK signs the
// assertions); Auth0's wrong-code errors and the refusal of magic links. (The SDK refuses to
// call passwordless endpoints without client authentication, so public clients are proven by
// the Go tests of internal/oauthserver.)
func testNodeAuth0Passwordless(t *testing.T, pe *passwordlessEnv) {
	s := pe.s
	r := runNode(t, "auth0-passwordless.cjs", pwlEmail,
		"NODE_EXTRA_CA_CERTS="+s.certFile,
		"SESAME_ISSUER="+s.issuer,
		"SESAME_CLIENT_ID="+pwlClientID,
		"SESAME_CLIENT_SECRET="+pwlClientSecret,
		"SESAME_JWT_CLIENT_ID="+pwlJWTClientID,
		"SESAME_JWT_KEY_PEM="+pe.jwtPriv,
		"SESAME_AUDIENCE="+pwlAPI,
		"SESAME_CODES_URL="+pe.codes,
		"SESAME_PWL_EMAIL="+pwlEmail,
		"SESAME_PWL_PHONE="+pwlPhone,
	)
	type tokens struct {
		TokenType       string   `json:"token_type"`
		Scope           string   `json:"scope"`
		HasRefreshToken bool     `json:"has_refresh_token"`
		IDToken         jwtParts `json:"id_token"`
		AccessToken     jwtParts `json:"access_token"`
	}
	for _, flow := range []struct{ name, client, prefix string }{
		{"email", pwlClientID, "email|"},
		{"sms", pwlJWTClientID, "sms|"},
	} {
		if got := ok[struct{ Status int }](t, r, flow.name+"/send"); got.Status != 200 {
			t.Errorf("%s/send: got status %d, want 200", flow.name, got.Status)
		}
		var sub string
		for _, step := range []string{"login", "refresh"} {
			got := ok[tokens](t, r, flow.name+"/"+step)
			gty := map[string]string{"login": "password", "refresh": "refresh_token"}[step]
			if got.TokenType != "Bearer" || !got.HasRefreshToken {
				t.Errorf("%s/%s: got token_type %q, refresh token %v", flow.name, step, got.TokenType, got.HasRefreshToken)
			}
			checkScopes(t, flow.name+"/"+step, got.Scope, []string{"openid", "profile", "email", "offline_access", "read:data"}, nil)
			checkFields(t, flow.name+"/"+step+" access_token", got.AccessToken.Claims, map[string]any{
				"iss": s.issuer, "azp": flow.client, "gty": gty, "aud": []any{pwlAPI, s.issuer + "userinfo"}})
			checkFields(t, flow.name+"/"+step+" id_token", got.IDToken.Claims, map[string]any{"iss": s.issuer, "aud": flow.client})
			got1, _ := got.IDToken.Claims["sub"].(string)
			if !strings.HasPrefix(got1, flow.prefix) || (sub != "" && got1 != sub) {
				t.Errorf("%s/%s: sub %q, want %s… and the same after refresh (%q)", flow.name, step, got1, flow.prefix, sub)
			}
			sub = got1
		}
	}
	checkFields(t, "email id_token", ok[tokens](t, r, "email/login").IDToken.Claims, map[string]any{"email": pwlEmail, "email_verified": true})
	checkFields(t, "email/wrong_code", failed(t, r, "email/wrong_code"), map[string]any{
		"name": "AuthApiError", "error": "invalid_grant", "error_description": "Wrong email or verification code.", "statusCode": 403})
	checkFields(t, "sms/wrong_code", failed(t, r, "sms/wrong_code"), map[string]any{
		"name": "AuthApiError", "error": "invalid_grant", "error_description": "Wrong phone number or verification code.", "statusCode": 403})
	checkFields(t, "email/link", failed(t, r, "email/link"), map[string]any{"name": "AuthApiError", "error": "bad.send", "statusCode": 400})

	pe.box.mu.Lock()
	defer pe.box.mu.Unlock()
	// The mail is the connection's: its From and Subject rendered, an HTML body.
	if mails := pe.box.mails[pwlEmail]; len(mails) != 2 {
		t.Errorf("got %d mails to %s, want 2", len(mails), pwlEmail)
	} else {
		for _, want := range []string{"From: Passwordless App <login@compat.test>", "Subject: Your code for Passwordless App",
			"Content-Type: text/html", "Hello " + pwlEmail} {
			if !strings.Contains(mails[0], want) {
				t.Errorf("mail lacks %q:\n%s", want, mails[0])
			}
		}
	}
	if hooks := pe.box.hooks[pwlPhone]; len(hooks) != 2 || hooks[0]["channel"] != "sms" || hooks[0]["kind"] != "passwordless" {
		t.Errorf("SMS webhook requests: got %v, want two passwordless sms posts to %s", hooks, pwlPhone)
	}
	// Codes never reach the server's log (the smtp and webhook senders do not log them).
	for _, c := range append(slices.Clone(pe.box.codes[pwlEmail]), pe.box.codes[pwlPhone]...) {
		if strings.Contains(s.logs.String(), c) {
			t.Errorf("the code %s is in the server's output", c)
		}
	}
}

// testGoAuth0Passwordless drives go-auth0's authentication.Passwordless (SendEmail,
// LoginWithEmail, SendSMS, LoginWithSMS; JSON bodies, ID tokens validated by the SDK).
func testGoAuth0Passwordless(t *testing.T, pe *passwordlessEnv) {
	t.Parallel()
	const email, phone = "gopher@example.com", "+14155550199"
	ctx := t.Context()
	newClient := func(opts ...authentication.Option) *authentication.Authentication {
		a, err := authentication.New(ctx, pe.s.hostPort, append([]authentication.Option{authentication.WithClient(pe.s.httpClient())}, opts...)...)
		if err != nil {
			t.Fatalf("authentication.New: %v", err)
		}
		return a
	}
	secret := newClient(authentication.WithClientID(pwlClientID), authentication.WithClientSecret(pwlClientSecret))
	jwt := newClient(authentication.WithClientID(pwlJWTClientID), authentication.WithClientAssertion(pe.jwtPriv, "RS256"))
	scope := "openid profile email offline_access"

	sent, err := secret.Passwordless.SendEmail(ctx, passwordless.SendEmailRequest{Email: email, Send: "code"})
	if err != nil || sent.Email != email || sent.ID == "" || sent.EmailVerified {
		t.Fatalf("SendEmail: got %+v, %v", sent, err)
	}
	tok, err := secret.Passwordless.LoginWithEmail(ctx, passwordless.LoginWithEmailRequest{Email: email, Code: pe.box.wait(t, email, 1),
		Audience: pwlAPI, Scope: scope}, oauth.IDTokenValidationOptions{})
	if err != nil || tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("LoginWithEmail: got %+v, %v", tok, err)
	}
	if _, err := secret.Passwordless.SendEmail(ctx, passwordless.SendEmailRequest{Email: email, Send: "code"}); err != nil {
		t.Fatal(err)
	}
	code := pe.box.wait(t, email, 2)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	_, err = secret.Passwordless.LoginWithEmail(ctx, passwordless.LoginWithEmailRequest{Email: email, Code: wrong}, oauth.IDTokenValidationOptions{})
	wantAuth0Error(t, err, 403, "invalid_grant", "Wrong email or verification code.")
	_, err = secret.Passwordless.SendEmail(ctx, passwordless.SendEmailRequest{Email: email})
	if ae, ok := errorsAs[*authentication.Error](err); !ok || ae.StatusCode != 400 || ae.Err != "bad.send" {
		t.Errorf("SendEmail without send (a link): got %v, want 400 bad.send", err)
	}
	_, err = secret.Passwordless.SendEmail(ctx, passwordless.SendEmailRequest{Email: "not an address", Send: "code"})
	if ae, ok := errorsAs[*authentication.Error](err); !ok || ae.StatusCode != 400 || ae.Err != "bad.email" {
		t.Errorf("SendEmail to a bad address: got %v, want 400 bad.email", err)
	}

	sms, err := jwt.Passwordless.SendSMS(ctx, passwordless.SendSMSRequest{PhoneNumber: phone})
	if err != nil || sms.PhoneNumber != phone || sms.PhoneVerified {
		t.Fatalf("SendSMS: got %+v, %v", sms, err)
	}
	tok, err = jwt.Passwordless.LoginWithSMS(ctx, passwordless.LoginWithSMSRequest{PhoneNumber: phone, Code: pe.box.wait(t, phone, 1),
		Audience: pwlAPI, Scope: scope}, oauth.IDTokenValidationOptions{})
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("LoginWithSMS: got %+v, %v", tok, err)
	}
	_, err = jwt.Passwordless.SendSMS(ctx, passwordless.SendSMSRequest{PhoneNumber: "0777777777"})
	if ae, ok := errorsAs[*authentication.Error](err); !ok || ae.StatusCode != 400 || ae.Err != "bad.phone_number" {
		t.Errorf("SendSMS to a number without country code: got %v, want 400 bad.phone_number", err)
	}
}

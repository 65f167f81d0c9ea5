package oauthserver_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/mfa/deliver"
	"github.com/sesameauth/sesame/internal/mfa/deliver/delivertest"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

// outboxEnv is a server whose notices go to a development outbox directory.
func outboxEnv(t *testing.T, opts ...func(*oauthserver.Config)) (*env, string) {
	dir := filepath.Join(t.TempDir(), "outbox")
	e := newEnv(t, append([]func(*oauthserver.Config){func(c *oauthserver.Config) {
		c.Notifier = deliver.Outbox{Dir: dir}
	}}, opts...)...)
	e.trustForwardedFor()
	return e, dir
}

// outbox returns the messages in the outbox dir, oldest first, once the notices the requests
// so far caused are delivered, and fails the test unless there are n.
func (e *env) outbox(dir string, n int) []string {
	e.t.Helper()
	e.flush()
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, string(b))
	}
	if len(out) != n {
		e.t.Fatalf("outbox: got %d messages, want %d", len(out), n)
	}
	return out
}

var linkRE = regexp.MustCompile(`http://[^\s]+/unblock\?ticket=[A-Za-z0-9_.%-]+`)

// page fetches or posts to the unblock page like a browser and returns status, headers, body.
func (e *env) page(method, target string, form url.Values) (int, http.Header, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// blockAlice fails alice's password max times from ip and checks she is then blocked.
func (e *env) blockAlice(ip string, max int) {
	e.t.Helper()
	e.setAttackProtection(func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = max })
	e.attempts(append(wrong(aliceEmail, ip, max), blockedBF(aliceEmail, alicePass, ip)))
}

func TestUnblockLink(t *testing.T) {
	const ip = "192.0.2.60"
	e, dir := outboxEnv(t)
	e.blockAlice(ip, 3)
	mail := e.outbox(dir, 1)[0]
	if !strings.Contains(mail, "To: "+aliceEmail) || !strings.Contains(mail, ip) {
		t.Fatalf("notice: got %q, want it addressed to alice and naming %s", mail, ip)
	}
	link := linkRE.FindString(mail)
	if link == "" || !strings.HasPrefix(link, e.issuer+"unblock?") {
		t.Fatalf("notice: no unblock link to %s in %q", e.issuer, mail)
	}
	u, _ := url.Parse(link)
	ticket := u.Query().Get("ticket")

	// GET shows a confirmation page and spends nothing (mail scanners fetch links).
	for range 2 {
		status, h, body := e.page(http.MethodGet, link, nil)
		if status != http.StatusOK || !strings.Contains(body, `<form method="post" action="unblock">`) || !strings.Contains(body, ticket) {
			t.Fatalf("GET link: got %d %q, want the confirmation form", status, body)
		}
		for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
			"Content-Type": "text/html; charset=utf-8"} {
			if got := h.Get(k); got != want {
				t.Errorf("GET link: %s %q, want %q", k, got, want)
			}
		}
	}
	e.attempts([]attempt{blockedBF(aliceEmail, alicePass, ip)})

	// POST releases the block, once.
	status, _, body := e.page(http.MethodPost, e.srv.URL+"/unblock", url.Values{"ticket": {ticket}})
	if status != http.StatusOK || !strings.Contains(body, "Your account is unblocked") {
		t.Fatalf("POST ticket: got %d %q, want the unblocked page", status, body)
	}
	e.attempts([]attempt{right(aliceEmail, alicePass, ip)})
	evs := e.tenantLogs("ublkdu")
	if len(evs) != 1 || evs[0].UserID != e.alice {
		t.Fatalf("ublkdu events: got %+v, want one for alice", evs)
	}
	status, _, body = e.page(http.MethodPost, e.srv.URL+"/unblock", url.Values{"ticket": {ticket}})
	if status != http.StatusBadRequest || !strings.Contains(body, "already used") {
		t.Errorf("second POST: got %d %q, want 400 (single use)", status, body)
	}
}

func TestUnblockLinkRefused(t *testing.T) {
	const ip = "192.0.2.61"
	tests := []struct {
		name   string
		ticket func(e *env, good string) string
	}{
		{"tampered", func(_ *env, good string) string { return "x" + good[1:] }},
		{"forged with another key", func(e *env, _ string) string {
			t, _ := guard.MintTicket([]byte("not the server's key, not at all"), e.alice, e.clock.Now(), time.Hour)
			return t
		}},
		{"expired", func(e *env, good string) string { e.clock.Advance(guard.UnblockTicketTTL); return good }},
		{"empty", func(*env, string) string { return "" }},
		{"absurdly long", func(*env, string) string { return strings.Repeat("A", 3000) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, dir := outboxEnv(t)
			e.blockAlice(ip, 2)
			u, _ := url.Parse(linkRE.FindString(e.outbox(dir, 1)[0]))
			ticket := tc.ticket(e, u.Query().Get("ticket"))
			if status, _, body := e.page(http.MethodGet, e.srv.URL+"/unblock?"+url.Values{"ticket": {ticket}}.Encode(), nil); status != http.StatusBadRequest || strings.Contains(body, "<form") {
				t.Errorf("GET: got %d %q, want 400 without a form", status, body)
			}
			if status, _, _ := e.page(http.MethodPost, e.srv.URL+"/unblock", url.Values{"ticket": {ticket}}); status != http.StatusBadRequest {
				t.Errorf("POST: got %d, want 400", status)
			}
			e.attempts([]attempt{blockedBF(aliceEmail, alicePass, ip)})
		})
	}
}

func TestBlockNotices(t *testing.T) {
	tests := []struct {
		name     string
		settings func(*store.AttackProtection)
		user     string
		wantMail int
	}{
		{"no user_notification shield: no mail", func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts, ap.BruteForce.Shields = 2, []string{guard.ShieldBlock}
		}, aliceEmail, 0},
		{"unknown user: no mail", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 }, "nobody@example.com", 0},
		{"by username: mailed to the email", func(ap *store.AttackProtection) { ap.BruteForce.MaxAttempts = 2 }, "bob", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, dir := outboxEnv(t)
			e.setAttackProtection(tc.settings)
			e.attempts(wrong(tc.user, "192.0.2.62", 2))
			if tc.wantMail > 0 {
				if mail := e.outbox(dir, tc.wantMail)[0]; !strings.Contains(mail, "To: "+bobEmail) {
					t.Errorf("notice: got %q, want it to %s", mail, bobEmail)
				}
				return
			}
			e.outbox(dir, 0)
		})
	}
}

func TestUnblockLinkBySMTP(t *testing.T) {
	addr, msgs := delivertest.SMTPServer(t)
	e := newEnv(t, func(c *oauthserver.Config) { c.Notifier = deliver.SMTPSender{Addr: addr, From: "sesame@example.com"} })
	e.trustForwardedFor()
	e.blockAlice("192.0.2.63", 2)
	e.flush() // the relay hands a message over before it accepts it
	var mail string
	select {
	case mail = <-msgs:
	default:
		t.Fatal("no mail reached the SMTP server")
	}
	// Quoted-printable is not used: the link is one line as sent.
	link := linkRE.FindString(mail)
	u, err := url.Parse(link)
	if link == "" || err != nil {
		t.Fatalf("mail: no link in %q", mail)
	}
	if status, _, _ := e.page(http.MethodPost, e.srv.URL+"/unblock", url.Values{"ticket": {u.Query().Get("ticket")}}); status != http.StatusOK {
		t.Fatalf("POST ticket: got %d, want 200", status)
	}
	e.attempts([]attempt{right(aliceEmail, alicePass, "192.0.2.63")})
}

func TestAdminNotification(t *testing.T) {
	const ip = "198.51.100.70"
	tests := []struct {
		name     string
		shields  []string
		wantMail int
	}{
		{"admin_notification mails every admin", []string{guard.ShieldAdminNotification, guard.ShieldBlock}, 2},
		{"block only: no mail", []string{guard.ShieldBlock}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, dir := outboxEnv(t, func(c *oauthserver.Config) { c.AdminEmails = []string{"ops@example.com", "sec@example.com"} })
			e.setAttackProtection(func(ap *store.AttackProtection) {
				ap.SuspiciousIP.Shields = tc.shields
				ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: 3, Rate: 864000}
			})
			for i := range 3 {
				e.attempts(wrong("user"+string(rune('a'+i))+"@example.com", ip, 1))
			}
			if tc.wantMail == 0 {
				e.outbox(dir, 0)
				return
			}
			mails := strings.Join(e.outbox(dir, tc.wantMail), "\n")
			for _, want := range []string{"To: ops@example.com", "To: sec@example.com", ip, "Suspicious login activity"} {
				if !strings.Contains(mails, want) {
					t.Errorf("notices: got %q, want them to contain %q", mails, want)
				}
			}
		})
	}
}

func TestUnblockNoticesAreRateLimited(t *testing.T) {
	e, dir := outboxEnv(t)
	e.blockAlice("192.0.2.70", 2)
	e.outbox(dir, 1)
	// Blocked again from another address within the hour: the first link releases that too.
	e.attempts(append(wrong(aliceEmail, "192.0.2.71", 2), blockedBF(aliceEmail, alicePass, "192.0.2.71")))
	e.outbox(dir, 1)
	e.clock.Advance(time.Hour)
	e.attempts(wrong(aliceEmail, "192.0.2.72", 2))
	e.outbox(dir, 2)
}

func TestBreachedPasswordNotices(t *testing.T) {
	const leaky, pass = "leaky@example.com", "AUTH0-TEST-secret"
	tests := []struct {
		name    string
		shields []string
		want    attempt
		wantTo  []string // recipients, sorted
	}{
		{"user_notification mails the user", []string{guard.ShieldUserNotification},
			right("", "", ""), []string{leaky}},
		{"admin_notification mails the admins", []string{guard.ShieldAdminNotification},
			right("", "", ""), []string{"ops@example.com"}},
		{"block and both notices", []string{guard.ShieldBlock, guard.ShieldUserNotification, guard.ShieldAdminNotification},
			attempt{wantStatus: http.StatusUnauthorized, wantError: "password_leaked", wantText: leakedText}, []string{leaky, "ops@example.com"}},
		{"block only: no mail", []string{guard.ShieldBlock},
			attempt{wantStatus: http.StatusUnauthorized, wantError: "password_leaked", wantText: leakedText}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, dir := outboxEnv(t, func(c *oauthserver.Config) { c.AdminEmails = []string{"ops@example.com"} })
			e.setAttackProtection(func(ap *store.AttackProtection) {
				ap.Breached.Enabled, ap.Breached.Shields = true, tc.shields
			})
			e.mustUser(store.User{Connection: connName, Email: leaky}, pass)
			a := tc.want
			a.user, a.pass, a.ip = leaky, pass, "192.0.2.51"
			// Two logins: the second notice of the hour is not sent.
			e.attempts([]attempt{a, a})
			if len(tc.wantTo) == 0 {
				e.outbox(dir, 0)
				return
			}
			mails := e.outbox(dir, len(tc.wantTo))
			all := strings.Join(mails, "\n")
			for _, to := range tc.wantTo {
				if !strings.Contains(all, "To: "+to) {
					t.Errorf("notices: got %q, want one to %s", all, to)
				}
			}
			if strings.Contains(all, pass) || strings.Contains(all, "unblock?ticket=") {
				t.Errorf("notices: got %q, want neither the password nor an unblock link", all)
			}
			if !strings.Contains(all, "breach") {
				t.Errorf("notices: got %q, want them to say the password is in a breach list", all)
			}
		})
	}
}

// gatedNotifier holds each notice until the test releases it.
type gatedNotifier struct {
	entered chan deliver.Notice
	release chan struct{}
}

func (g gatedNotifier) Notify(_ context.Context, n deliver.Notice) error {
	g.entered <- n
	<-g.release
	return nil
}

// TestFlushWaitsForNotices: Server.Flush returns only once the notice a blocked login caused
// is delivered, and with its context's error while the delivery hangs.
func TestFlushWaitsForNotices(t *testing.T) {
	g := gatedNotifier{entered: make(chan deliver.Notice, 1), release: make(chan struct{})}
	e := newEnv(t, func(c *oauthserver.Config) { c.Notifier = g })
	e.trustForwardedFor()
	e.blockAlice("192.0.2.64", 2)
	flushed := make(chan error, 1)
	go func() { flushed <- e.server.Flush(context.Background()) }()
	if n := <-g.entered; n.Kind != "unblock" || n.To != aliceEmail {
		t.Fatalf("notice: got %s to %s, want unblock to %s", n.Kind, n.To, aliceEmail)
	}
	if err := e.sink.Flush(t.Context()); err != nil { // the login's events are written
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := e.server.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with an ended context while the notice hangs: got %v, want context.Canceled", err)
	}
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) while the notice was still being delivered", err)
	default:
	}
	close(g.release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	e.flush() // nothing in flight: returns at once
}

// Package deliver holds the ways MFA email and SMS codes, and notices (unblock links, admin
// alerts), reach people: an SMTP relay, a webhook to a gateway, and two development senders,
// one that only logs them and an outbox directory of mail files. Each is an mfa.Sender and a
// Notifier; the composition root picks one from the server config (mfa_sender).
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/smtp"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/mfa"
)

// LogSender is the development sender: it writes the code to the server log instead of
// delivering it. Never use it in production: the log then holds live codes.
type LogSender struct {
	Log *slog.Logger
	// WithholdCodes keeps codes out of the log: Send then logs that nothing was delivered and
	// fails. The server sets it unless dev_log_mfa_codes is on, so that a tenant which enables
	// the email or SMS factor while the server runs never gets its codes logged.
	WithholdCodes bool
}

// ErrCodeWithheld is Send's error when WithholdCodes is set.
var ErrCodeWithheld = errors.New("deliver: mfa_sender is log and dev_log_mfa_codes is off: the code was not delivered")

// Send logs m, or with WithholdCodes logs that m was not delivered and fails.
func (l LogSender) Send(ctx context.Context, m mfa.Message) error {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	if l.WithholdCodes {
		log.ErrorContext(ctx, "mfa code not delivered: mfa_sender is log; set mfa_sender to smtp or webhook (or dev_log_mfa_codes: true in development)",
			"channel", m.Channel, "to", m.To)
		return ErrCodeWithheld
	}
	log.InfoContext(ctx, "mfa code (development sender)", "channel", m.Channel, "to", m.To, "code", m.Code)
	return nil
}

// SMTPSender mails codes through an SMTP relay (RFC 5321) without authentication; it only
// handles the email channel.
type SMTPSender struct {
	// Addr is host:port of the relay.
	Addr string
	From string
}

// Send mails m.Code to m.To.
func (s SMTPSender) Send(_ context.Context, m mfa.Message) error {
	if m.Channel != "email" {
		return fmt.Errorf("deliver: smtp sender cannot deliver to channel %q", m.Channel)
	}
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(s.From, "\r\n") {
		return fmt.Errorf("deliver: address contains a line break")
	}
	subject := "Your verification code"
	if m.Tenant != "" && !strings.ContainsAny(m.Tenant, "\r\n") {
		subject += " for " + m.Tenant
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		s.From, m.To, subject, time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Your verification code is: %s\r\n\r\nIt expires in 5 minutes.\r\n", m.Code)
	if err := smtp.SendMail(s.Addr, nil, s.From, []string{m.To}, []byte(b.String())); err != nil {
		return fmt.Errorf("deliver: sending mail: %w", err)
	}
	return nil
}

// WebhookSender POSTs each message as JSON ({"channel","to","code","tenant"}) to URL, for a
// gateway that delivers it (an SMS provider, a mail service).
type WebhookSender struct {
	URL    string
	Client *http.Client
}

// Send posts m to the webhook; any status but 2xx is an error.
func (w WebhookSender) Send(ctx context.Context, m mfa.Message) error {
	return w.post(ctx, map[string]string{"channel": m.Channel, "to": m.To, "code": m.Code, "tenant": m.Tenant})
}

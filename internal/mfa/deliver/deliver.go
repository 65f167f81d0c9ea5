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
	"mime"
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
	log.InfoContext(ctx, "mfa code (development sender)", "channel", m.Channel, "to", m.To, "code", m.Code, "kind", m.Kind)
	return nil
}

// SMTPSender mails codes through an SMTP relay (RFC 5321) without authentication; it only
// handles the email channel.
type SMTPSender struct {
	// Addr is host:port of the relay.
	Addr string
	From string
}

// Send mails m.Code to m.To: in the message the connection rendered (m.Text, from m.From when
// set; the envelope sender stays the relay's From), or in Sesame's own wording.
func (s SMTPSender) Send(_ context.Context, m mfa.Message) error {
	if m.Channel != "email" {
		return fmt.Errorf("deliver: smtp sender cannot deliver to channel %q", m.Channel)
	}
	msg, err := codeMail(s.From, m)
	if err != nil {
		return err
	}
	if err := smtp.SendMail(s.Addr, nil, s.From, []string{m.To}, msg); err != nil {
		return fmt.Errorf("deliver: sending mail: %w", err)
	}
	return nil
}

// codeMail is the RFC 5322 message that carries m's code. Header values with line breaks are
// refused: they would let a value inject headers.
func codeMail(from string, m mfa.Message) ([]byte, error) {
	subject, text, ctype := "Your verification code", "Your verification code is: "+m.Code+"\r\n\r\nIt expires in 5 minutes.\r\n", "text/plain"
	if m.Tenant != "" && !strings.ContainsAny(m.Tenant, "\r\n") {
		subject += " for " + m.Tenant
	}
	if m.Text != "" {
		subject, text = m.Subject, strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")+"\r\n"
		if m.From != "" {
			from = m.From
		}
		if m.HTML {
			ctype = "text/html"
		}
	}
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(from, "\r\n") || strings.ContainsAny(subject, "\r\n") {
		return nil, fmt.Errorf("deliver: header value contains a line break")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: %s; charset=utf-8\r\n\r\n",
		from, m.To, mime.QEncoding.Encode("utf-8", subject), time.Now().UTC().Format(time.RFC1123Z), ctype)
	b.WriteString(text)
	return []byte(b.String()), nil
}

// WebhookSender POSTs each message as JSON ({"channel","to","code","tenant"}) to URL, for a
// gateway that delivers it (an SMS provider, a mail service).
type WebhookSender struct {
	URL    string
	Client *http.Client
}

// Send posts m to the webhook; any status but 2xx is an error.
func (w WebhookSender) Send(ctx context.Context, m mfa.Message) error {
	body := map[string]string{"channel": m.Channel, "to": m.To, "code": m.Code, "tenant": m.Tenant}
	// A passwordless code comes with the text its connection rendered, for the gateway to send
	// as it is.
	if m.Kind != "" {
		body["kind"] = m.Kind
	}
	if m.Text != "" {
		body["text"] = m.Text
		if m.Channel == "email" {
			body["from"], body["subject"] = m.From, m.Subject
		}
	}
	return w.post(ctx, body)
}

// ByChannel sends email through Email and text messages through SMS, so that a tenant mails
// codes through its relay and texts them through its SMS gateway's webhook. Notices are mail.
type ByChannel struct {
	Email, SMS mfa.Sender
}

var _ Notifier = ByChannel{}

// Send hands m to the sender of its channel.
func (b ByChannel) Send(ctx context.Context, m mfa.Message) error {
	if m.Channel == "sms" {
		return b.SMS.Send(ctx, m)
	}
	return b.Email.Send(ctx, m)
}

// Notify hands n to the email sender when it delivers notices.
func (b ByChannel) Notify(ctx context.Context, n Notice) error {
	if nf, ok := b.Email.(Notifier); ok {
		return nf.Notify(ctx, n)
	}
	return fmt.Errorf("deliver: the email sender cannot deliver notices")
}

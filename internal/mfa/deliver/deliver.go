// Package deliver holds the ways MFA email and SMS codes reach users: an SMTP relay, a
// webhook to a gateway, and a development sender that only logs them. Each is an mfa.Sender;
// the composition root picks one from the server config (mfa_sender).
package deliver

import (
	"bytes"
	"context"
	"encoding/json"
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
type LogSender struct{ Log *slog.Logger }

// Send logs m.
func (l LogSender) Send(ctx context.Context, m mfa.Message) error {
	log := l.Log
	if log == nil {
		log = slog.Default()
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
	body, err := json.Marshal(map[string]string{"channel": m.Channel, "to": m.To, "code": m.Code, "tenant": m.Tenant})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("deliver: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("deliver: webhook: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("deliver: webhook answered %s", resp.Status)
	}
	return nil
}

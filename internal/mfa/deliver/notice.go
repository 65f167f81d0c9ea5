package deliver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/mfa"
)

// Notice is a message to a person that is not an MFA code: a user's unblock link after a
// brute-force block, an administrator's alert after suspicious-IP throttling. The senders of
// MFA codes deliver notices too, so a server configures one delivery for both.
type Notice struct {
	// Kind names the notice for gateways that template their own messages
	// ("unblock", "ip_throttled").
	Kind string
	// To is the recipient's email address.
	To string
	// Subject and Text are the message, plain text.
	Subject, Text string
	// Tenant is the tenant's friendly name.
	Tenant string
}

// Notifier delivers notices; every sender of this package is one.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

var (
	_ Notifier = LogSender{}
	_ Notifier = SMTPSender{}
	_ Notifier = WebhookSender{}
	_ Notifier = Outbox{}
)

// Notify logs that n was not delivered, without its text: log is the default sender, and a
// notice's text can hold a live unblock link, which must not sit in a production log. Use the
// outbox sender to read notices in development.
func (l LogSender) Notify(ctx context.Context, n Notice) error {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.WarnContext(ctx, "notice not delivered: mfa_sender is log (use smtp or webhook; outbox in development)",
		"kind", n.Kind, "to", n.To, "subject", n.Subject)
	return nil
}

// Notify mails n through the relay.
func (s SMTPSender) Notify(_ context.Context, n Notice) error {
	msg, err := mailText(s.From, n.To, n.Subject, n.Tenant, n.Text)
	if err != nil {
		return err
	}
	if err := smtp.SendMail(s.Addr, nil, s.From, []string{n.To}, msg); err != nil {
		return fmt.Errorf("deliver: sending mail: %w", err)
	}
	return nil
}

// Notify posts n as {"channel":"email","kind","to","subject","text","tenant"}.
func (w WebhookSender) Notify(ctx context.Context, n Notice) error {
	return w.post(ctx, map[string]string{"channel": "email", "kind": n.Kind, "to": n.To, "subject": n.Subject,
		"text": n.Text, "tenant": n.Tenant})
}

// mailText is an RFC 5322 plain-text message. Header values with line breaks are refused:
// they would let a value inject headers.
func mailText(from, to, subject, tenant, text string) ([]byte, error) {
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(from, "\r\n") || strings.ContainsAny(subject, "\r\n") {
		return nil, fmt.Errorf("deliver: header value contains a line break")
	}
	if tenant != "" && !strings.ContainsAny(tenant, "\r\n") {
		subject += " (" + tenant + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		from, to, subject, time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n"))
	b.WriteString("\r\n")
	return []byte(b.String()), nil
}

// Outbox is a development sender that writes each message, codes and notices alike, as a
// mail file (.eml) in Dir instead of sending it, so that a developer (or a test) reads what a
// user would have received. Files are created with mode 0600: they hold live codes and links.
type Outbox struct{ Dir string }

// Send writes an MFA code message to the outbox.
func (o Outbox) Send(_ context.Context, m mfa.Message) error {
	if m.Text != "" {
		return o.write(m.To, m.Subject, "", m.Text)
	}
	text := "Your verification code is: " + m.Code + "\n\nIt expires in 5 minutes."
	return o.write(m.To, "Your verification code", m.Tenant, text)
}

// Notify writes a notice to the outbox.
func (o Outbox) Notify(_ context.Context, n Notice) error {
	return o.write(n.To, n.Subject, n.Tenant, n.Text)
}

func (o Outbox) write(to, subject, tenant, text string) error {
	msg, err := mailText("sesame@localhost", to, subject, tenant, text)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("deliver: outbox: %w", err)
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	// Names sort by time, so the newest message is the last file.
	name := fmt.Sprintf("%d-%s.eml", time.Now().UnixNano(), hex.EncodeToString(r[:]))
	// The temporary name must not end in .eml: readers glob for *.eml, and Go's globs (unlike a
	// shell's) match a leading dot.
	tmp := filepath.Join(o.Dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, msg, 0o600); err != nil {
		return fmt.Errorf("deliver: outbox: %w", err)
	}
	// Renamed into place so that a reader never sees half a message.
	if err := os.Rename(tmp, filepath.Join(o.Dir, name)); err != nil {
		return fmt.Errorf("deliver: outbox: %w", err)
	}
	return nil
}

// post sends body as JSON to the webhook; any status but 2xx is an error.
func (w WebhookSender) post(ctx context.Context, body map[string]string) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(b))
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

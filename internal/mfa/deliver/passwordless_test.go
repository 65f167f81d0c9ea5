package deliver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/mfa"
)

// passwordlessMail is a passwordless code in the message its connection rendered.
var passwordlessMail = mfa.Message{Channel: "email", To: "ann@example.com", Code: "123456", Kind: "passwordless",
	From: "Shop <login@example.com>", Subject: "Your code for Shop", Text: "<p>Your code is 123456</p>", HTML: true}

// TestSenderRenderedMessages: each sender delivers a passwordless code in the connection's
// own message (From, Subject, HTML body), and ByChannel mails email and posts SMS.
func TestSenderRenderedMessages(t *testing.T) {
	addr, msgs := smtpServer(t)
	var posts []map[string]string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		posts = append(posts, m)
	}))
	defer hook.Close()
	both := ByChannel{Email: SMTPSender{Addr: addr, From: "relay@example.com"}, SMS: WebhookSender{URL: hook.URL}}

	if err := both.Send(t.Context(), passwordlessMail); err != nil {
		t.Fatal(err)
	}
	mail := <-msgs
	for _, want := range []string{"From: Shop <login@example.com>\r\n", "Subject: Your code for Shop\r\n",
		"Content-Type: text/html; charset=utf-8\r\n", "\r\n\r\n<p>Your code is 123456</p>\r\n"} {
		if !strings.Contains(mail, want) {
			t.Errorf("mail lacks %q:\n%s", want, mail)
		}
	}
	sms := mfa.Message{Channel: "sms", To: "+14155550100", Code: "654321", Kind: "passwordless", Text: "Code 654321"}
	if err := both.Send(t.Context(), sms); err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || posts[0]["text"] != "Code 654321" || posts[0]["kind"] != "passwordless" || posts[0]["channel"] != "sms" || posts[0]["subject"] != "" {
		t.Errorf("webhook posts: %v", posts)
	}
	// A header injected through a rendered subject is refused, not sent.
	bad := passwordlessMail
	bad.Subject = "x\r\nBcc: victim@example.com"
	if err := both.Send(t.Context(), bad); err == nil {
		t.Error("a subject with a line break was sent")
	}
	dir := t.TempDir()
	if err := (Outbox{Dir: dir}).Send(t.Context(), passwordlessMail); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), "Subject: Your code for Shop") || !strings.Contains(string(b), "Your code is 123456") {
		t.Errorf("outbox message:\n%s", b)
	}
}

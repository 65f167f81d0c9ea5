package deliver

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/mfa"
)

var testNotice = Notice{Kind: "unblock", To: "alice@example.com", Subject: "Your account has been blocked",
	Text: "Unblock here:\nhttps://auth.example.com/unblock?ticket=abc", Tenant: "Acme"}

func TestSMTPNotify(t *testing.T) {
	addr, msgs := smtpServer(t)
	cases := []struct {
		name    string
		n       Notice
		wantErr bool
	}{
		{"notice is mailed", testNotice, false},
		{"header injection in the subject is refused", Notice{To: "a@example.com", Subject: "x\r\nBcc: evil@example.com"}, true},
		{"header injection in the address is refused", Notice{To: "a@example.com\nBcc: evil@example.com", Subject: "x"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := SMTPSender{Addr: addr, From: "sesame@example.com"}.Notify(t.Context(), c.n)
			if (err != nil) != c.wantErr {
				t.Fatalf("Notify: got %v, want error %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			got := <-msgs
			for _, want := range []string{"To: alice@example.com", "Subject: Your account has been blocked (Acme)",
				"Unblock here:\r\nhttps://auth.example.com/unblock?ticket=abc\r\n"} {
				if !strings.Contains(got, want) {
					t.Errorf("message: got %q, want it to contain %q", got, want)
				}
			}
		})
	}
}

func TestWebhookNotify(t *testing.T) {
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	if err := (WebhookSender{URL: srv.URL}).Notify(t.Context(), testNotice); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"channel": "email", "kind": "unblock", "to": "alice@example.com", "subject": testNotice.Subject,
		"text": testNotice.Text, "tenant": "Acme"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("body %s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := Outbox{Dir: dir}
	if err := o.Send(t.Context(), mfa.Message{Channel: "email", To: "bob@example.com", Code: "123456"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Notify(t.Context(), testNotice); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) != 2 {
		t.Fatalf("outbox: got %v, %v, want 2 messages", files, err)
	}
	for i, want := range []string{"Your verification code is: 123456", "https://auth.example.com/unblock?ticket=abc"} {
		b, _ := os.ReadFile(files[i])
		if !strings.Contains(string(b), want) {
			t.Errorf("message %d: got %q, want it to contain %q", i, b, want)
		}
		if fi, _ := os.Stat(files[i]); fi.Mode().Perm() != 0o600 {
			t.Errorf("message %d: mode %v, want 0600 (it holds a live code or link)", i, fi.Mode().Perm())
		}
	}
}

func TestLogSenderKeepsNoticeTextOutOfTheLog(t *testing.T) {
	var buf strings.Builder
	if err := (LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}).Notify(t.Context(), testNotice); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "ticket=abc") || !strings.Contains(buf.String(), "alice@example.com") {
		t.Errorf("log: got %q, want the recipient but not the link", buf.String())
	}
}

// TestLogSenderWithholdsCodes checks that the log sender outside development neither logs the
// code nor pretends to have delivered it.
func TestLogSenderWithholdsCodes(t *testing.T) {
	var buf bytes.Buffer
	err := LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil)), WithholdCodes: true}.Send(t.Context(),
		mfa.Message{Channel: "email", To: "alice@example.com", Code: "493817"})
	if !errors.Is(err, ErrCodeWithheld) {
		t.Errorf("Send: got %v, want ErrCodeWithheld", err)
	}
	if strings.Contains(buf.String(), "493817") || !strings.Contains(buf.String(), "mfa code not delivered") {
		t.Errorf("log: got %q, want a not-delivered line without the code", buf.String())
	}
}

package deliver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/mfa/deliver/delivertest"
)

func smtpServer(t *testing.T) (string, <-chan string) { return delivertest.SMTPServer(t) }

func TestSMTPSender(t *testing.T) {
	addr, msgs := smtpServer(t)
	cases := []struct {
		name    string
		m       mfa.Message
		wantErr bool
	}{
		{"email is delivered", mfa.Message{Channel: "email", To: "alice@example.com", Code: "123456", Tenant: "Acme"}, false},
		{"sms is refused", mfa.Message{Channel: "sms", To: "+15555550100", Code: "123456"}, true},
		{"header injection is refused", mfa.Message{Channel: "email", To: "a@example.com\r\nBcc: x@example.com", Code: "1"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := SMTPSender{Addr: addr, From: "sesame@example.com"}.Send(t.Context(), c.m)
			if (err != nil) != c.wantErr {
				t.Fatalf("Send: got %v, want error %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			got := <-msgs
			for _, want := range []string{"To: alice@example.com", "Subject: Your verification code for Acme", "Your verification code is: 123456"} {
				if !strings.Contains(got, want) {
					t.Errorf("message: got %q, want it to contain %q", got, want)
				}
			}
		})
	}
}

func TestWebhookSender(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		wantErr bool
	}{
		{"2xx delivers", http.StatusNoContent, false},
		{"5xx is an error", http.StatusBadGateway, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got map[string]string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type: got %q, want application/json", ct)
				}
				_ = json.NewDecoder(r.Body).Decode(&got)
				w.WriteHeader(c.status)
			}))
			defer srv.Close()
			err := WebhookSender{URL: srv.URL}.Send(t.Context(), mfa.Message{Channel: "sms", To: "+15555550100", Code: "654321", Tenant: "Acme"})
			if (err != nil) != c.wantErr {
				t.Fatalf("Send: got %v, want error %v", err, c.wantErr)
			}
			want := map[string]string{"channel": "sms", "to": "+15555550100", "code": "654321", "tenant": "Acme"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("body %s: got %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

package deliver

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/mfa"
)

// smtpServer is a loopback SMTP server (RFC 5321) that speaks just enough to accept mail and
// hands each message's data to the returned channel.
func smtpServer(t *testing.T) (addr string, msgs <-chan string) {
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
			go serveSMTP(c, ch)
		}
	}()
	return ln.Addr().String(), ch
}

func serveSMTP(c net.Conn, out chan<- string) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
	say("220 localhost ESMTP test")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 localhost")
		case strings.HasPrefix(cmd, "MAIL FROM"), strings.HasPrefix(cmd, "RCPT TO"), cmd == "RSET", cmd == "NOOP":
			say("250 OK")
		case cmd == "DATA":
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
				b.WriteString(l)
			}
			out <- b.String()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

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

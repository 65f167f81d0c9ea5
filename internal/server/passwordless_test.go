package server

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
)

// TestPasswordlessLogSenderRefused: a passwordless connection mails or texts live codes
// through mfa_sender, so serve refuses to start with the log sender (as for the email and
// sms factors) unless dev_log_mfa_codes says this is development; smtp with webhook_url
// starts (mail by SMTP, SMS by the webhook).
func TestPasswordlessLogSenderRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mut     func(*config.Server)
		wantErr string
	}{
		{"log", nil, `mfa_sender is log, which writes live MFA codes to the server log, and the connection "sms" sends passwordless codes`},
		{"log in development", func(c *config.Server) { c.DevLogMFACodes = true }, ""},
		{"smtp and an sms webhook", func(c *config.Server) {
			c.MFASender, c.SMTPAddr, c.SMTPFrom, c.WebhookURL = "smtp", "127.0.0.1:25", "a@example.com", "https://sms.example.com/send"
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.DefaultServer()
			cfg.DB = "sqlite://" + filepath.Join(t.TempDir(), "s.db")
			if tc.mut != nil {
				tc.mut(&cfg)
			}
			cfg.Normalize()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			kek := seal.NewKEK()
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			srv, err := Open(t.Context(), cfg, Options{KEK: kek, Migrate: true, Logger: quiet})
			if err != nil {
				t.Fatalf("first start (no connections yet): %v", err)
			}
			if _, err := srv.Admin.CreateConnection(t.Context(), "sms", "sms", nil); err != nil {
				t.Fatal(err)
			}
			srv.Close()
			srv, err = Open(t.Context(), cfg, Options{KEK: kek, Migrate: true, Logger: quiet})
			if err == nil {
				srv.Close()
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Open: got error %v, want %q", err, tc.wantErr)
			}
		})
	}
	cfg := config.DefaultServer()
	cfg.MFASender, cfg.SMTPAddr, cfg.SMTPFrom, cfg.WebhookURL = "smtp", "127.0.0.1:25", "a@example.com", "ftp://x"
	cfg.Normalize()
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "webhook_url") {
		t.Errorf("smtp with a bad webhook_url: got %v, want a webhook_url problem", err)
	}
}

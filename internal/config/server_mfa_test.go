package config

import (
	"strings"
	"testing"
)

// validateCase is one server config change and the key Validate must name ("" for valid).
type validateCase struct {
	name    string
	set     func(s *Server)
	wantErr string
}

// checkValidate applies each case to the default config and checks Validate's verdict.
func checkValidate(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := DefaultServer()
			s.DB = "sqlite:///tmp/x.db"
			c.set(&s)
			err := s.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("Validate: got %v, want nil", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("Validate: got %v, want a problem at %s", err, c.wantErr)
			}
		})
	}
}

func TestValidateMFASender(t *testing.T) {
	cases := []validateCase{
		{"default log", func(*Server) {}, ""},
		{"smtp with relay and sender", func(s *Server) { s.MFASender, s.SMTPAddr, s.SMTPFrom = "smtp", "127.0.0.1:25", "auth@example.com" }, ""},
		{"smtp without relay", func(s *Server) { s.MFASender, s.SMTPFrom = "smtp", "auth@example.com" }, "smtp_addr"},
		{"smtp without sender", func(s *Server) { s.MFASender, s.SMTPAddr = "smtp", "127.0.0.1:25" }, "smtp_from"},
		{"webhook with URL", func(s *Server) { s.MFASender, s.WebhookURL = "webhook", "https://hooks.example.com/mfa" }, ""},
		{"webhook without URL", func(s *Server) { s.MFASender = "webhook" }, "webhook_url"},
		{"unknown sender", func(s *Server) { s.MFASender = "pigeon" }, "mfa_sender"},
	}
	checkValidate(t, cases)
}

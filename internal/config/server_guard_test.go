package config

import (
	"net/netip"
	"testing"
	"time"
)

func TestValidateProtectionAndLogSettings(t *testing.T) {
	cases := []validateCase{
		{"defaults", func(*Server) {}, ""},
		{"trusted proxies", func(s *Server) { s.TrustedProxies = "10.0.0.0/8, 192.0.2.1 ,fd00::/8" }, ""},
		{"bad trusted proxy", func(s *Server) { s.TrustedProxies = "10.0.0.0/8,lb.internal" }, "trusted_proxies"},
		{"zoned trusted proxy", func(s *Server) { s.TrustedProxies = "fe80::1%eth0" }, "trusted_proxies"},
		{"rate limits", func(s *Server) {
			s.RateLimitIPPerMinute, s.RateLimitClientPerMinute, s.RateLimitRefreshPerMinute = 600, 3000, 30
		}, ""},
		{"negative rate limit", func(s *Server) { s.RateLimitIPPerMinute = -1 }, "rate_limit_ip_per_minute"},
		{"IPv6 client prefix", func(s *Server) { s.IPv6ClientPrefix = 56 }, ""},
		{"IPv6 client prefix too short", func(s *Server) { s.IPv6ClientPrefix = 16 }, "ipv6_client_prefix"},
		{"IPv6 client prefix too long", func(s *Server) { s.IPv6ClientPrefix = 129 }, "ipv6_client_prefix"},
		{"MFA send limits", func(s *Server) {
			s.MFASendsPerToken, s.MFASendsPerUserPerHour, s.MFASendsPerIPPerHour, s.MFAEnrollRecipientsPerHour = 3, 20, -1, 5
		}, ""},
		{"MFA send limit below -1", func(s *Server) { s.MFAEnrollRecipientsPerHour = -2 }, "mfa_enroll_recipients_per_hour"},
		{"retention in days", func(s *Server) { s.LogRetention = "7d" }, ""},
		{"retention as duration", func(s *Server) { s.LogRetention = "48h" }, ""},
		{"retention unreadable", func(s *Server) { s.LogRetention = "a month" }, "log_retention"},
		{"retention too short", func(s *Server) { s.LogRetention = "5m" }, "log_retention"},
		{"stream to stdout", func(s *Server) { s.LogStream = "stdout" }, ""},
		{"stream to both", func(s *Server) { s.LogStream, s.LogStreamURL = "stdout,webhook", "https://logs.example.com/in" }, ""},
		{"stream webhook without URL", func(s *Server) { s.LogStream = "webhook" }, "log_stream_url"},
		{"unknown stream", func(s *Server) { s.LogStream = "syslog" }, "log_stream"},
		{"outbox without dir", func(s *Server) { s.MFASender = "outbox" }, "outbox_dir"},
		{"outbox", func(s *Server) { s.MFASender, s.OutboxDir = "outbox", "/tmp/outbox" }, ""},
		{"admin emails", func(s *Server) { s.AdminEmails = "ops@example.com, sec@example.com" }, ""},
		{"bad admin email", func(s *Server) { s.AdminEmails = "ops@example.com,nobody" }, "admin_emails"},
	}
	checkValidate(t, cases)
}

func TestParsedProtectionSettings(t *testing.T) {
	s := DefaultServer()
	s.TrustedProxies = "10.1.2.3/8, ::ffff:192.0.2.0/120, 2001:db8::1"
	got, err := s.TrustedProxyPrefixes()
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}
	if err != nil || len(got) != len(want) {
		t.Fatalf("TrustedProxyPrefixes: got %v, %v, want %v", got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("prefix %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if d, err := s.LogRetentionDuration(); err != nil || d != 30*24*time.Hour {
		t.Errorf("default retention: got %v, %v, want 720h", d, err)
	}
	env := map[string]string{"SESAME_TRUSTED_PROXIES": "10.0.0.0/8", "SESAME_RATE_LIMIT_IP_PER_MINUTE": "120", "SESAME_LOG_RETENTION": "14d"}
	if err := s.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if s.TrustedProxies != "10.0.0.0/8" || s.RateLimitIPPerMinute != 120 || s.LogRetention != "14d" {
		t.Errorf("from the environment: got %q %d %q", s.TrustedProxies, s.RateLimitIPPerMinute, s.LogRetention)
	}
}

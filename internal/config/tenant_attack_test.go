package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAttackProtection(t *testing.T) {
	yes, ten, rate, mode, method := true, 10, 864000, "count_per_identifier", "standard"
	tests := []struct {
		name        string
		yaml        string
		want        *AttackProtection
		wantErr     string // a substring of the error; "" for none
		wantIgnored []string
	}{
		{"absent", "tenant: {friendly_name: x}\n", nil, "", nil},
		{"full", `
attackProtection:
  bruteForceProtection: {enabled: true, shields: [block], mode: count_per_identifier, allowlist: [10.0.0.0/8], max_attempts: 10}
  suspiciousIpThrottling:
    enabled: true
    shields: []
    stage: {pre-login: {max_attempts: 10, rate: 864000}}
  breachedPasswordDetection: {enabled: true, shields: [block], method: standard, admin_notification_frequency: []}
`, &AttackProtection{
			BruteForce: &BruteForceProtection{Enabled: &yes, Shields: []string{"block"}, Mode: &mode,
				Allowlist: []string{"10.0.0.0/8"}, MaxAttempts: &ten},
			SuspiciousIP: &SuspiciousIPThrottling{Enabled: &yes, Shields: []string{}, PreLogin: &ThrottleStage{MaxAttempts: &ten, Rate: &rate}},
			Breached:     &BreachedPasswordDetection{Enabled: &yes, Shields: []string{"block"}, Method: &method},
		}, "", []string{"attackProtection.breachedPasswordDetection.admin_notification_frequency"}},
		{"partial", "attackProtection: {bruteForceProtection: {max_attempts: 10}}\n",
			&AttackProtection{BruteForce: &BruteForceProtection{MaxAttempts: &ten}}, "", nil},
		{"wrong type", "attackProtection: {bruteForceProtection: {max_attempts: ten}}\n", nil,
			"attackProtection.bruteForceProtection.max_attempts: must be an integer", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf, err := ParseTenantFile([]byte(tt.yaml), TenantOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTenantFile: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTenantFile: got error %v, want nil", err)
			}
			if d := cmp.Diff(tt.want, tf.AttackProtection); d != "" {
				t.Errorf("AttackProtection mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantIgnored, tf.Ignored); d != "" {
				t.Errorf("Ignored mismatch (-want +got):\n%s", d)
			}
		})
	}
}

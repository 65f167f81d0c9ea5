package admin_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

func TestApplyAttackProtection(t *testing.T) {
	tests := []struct {
		name        string
		files       []string                      // applied in order
		want        func(*store.AttackProtection) // edits guard.Defaults(); nil: nothing stored
		wantChanged bool                          // the last apply reports "attack protection" changed
		wantProblem []string
	}{
		{"defaults change nothing", []string{"attackProtection: {bruteForceProtection: {enabled: true, max_attempts: 10}}\n"}, nil, false, nil},
		{"file values over the defaults", []string{`
attackProtection:
  bruteForceProtection: {max_attempts: 5, allowlist: [10.0.0.0/8], shields: []}
  suspiciousIpThrottling: {stage: {pre-login: {max_attempts: 20, rate: 1000}}}
  breachedPasswordDetection: {enabled: true, shields: [block]}
`}, func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts, ap.BruteForce.Allowlist, ap.BruteForce.Shields = 5, []string{"10.0.0.0/8"}, []string{}
			ap.SuspiciousIP.Stage.PreLogin = store.ThrottleStage{MaxAttempts: 20, Rate: 1000}
			ap.Breached.Enabled, ap.Breached.Shields = true, []string{"block"}
		}, true, nil},
		{"a later file changes only what it names", []string{
			"attackProtection: {bruteForceProtection: {max_attempts: 5}}\n",
			"attackProtection: {breachedPasswordDetection: {enabled: true}}\n",
		}, func(ap *store.AttackProtection) {
			ap.BruteForce.MaxAttempts = 5
			ap.Breached.Enabled = true
		}, true, nil},
		{"bad values are problems", []string{
			"attackProtection: {bruteForceProtection: {max_attempts: 0, allowlist: [10.0.0.300]}, suspiciousIpThrottling: {shields: [sms]}}\n",
		}, nil, false, []string{
			`attackProtection.bruteForceProtection.allowlist: "10.0.0.300": not an IP address or CIDR range`,
			"attackProtection.bruteForceProtection.max_attempts: 0 is not between 1 and 100",
			`attackProtection.suspiciousIpThrottling.shields: unknown shield "sms" (want one of block, admin_notification)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := applyService(t)
			var changed []string
			for i, f := range tt.files {
				r, err := s.Apply(t.Context(), applyParse(t, f))
				if i == len(tt.files)-1 && tt.wantProblem != nil {
					if d := cmp.Diff(tt.wantProblem, applyProblems(t, err)); d != "" {
						t.Errorf("problems (-want +got):\n%s", d)
					}
					break
				}
				if err != nil {
					t.Fatalf("Apply %d: %v", i, err)
				}
				changed = r.Changed
			}
			if got := len(changed) == 1 && changed[0] == "attack protection"; got != tt.wantChanged && tt.wantProblem == nil {
				t.Errorf("changed: got %q, want attack protection changed %v", changed, tt.wantChanged)
			}
			tenant, err := s.Store.GetTenant(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var want *store.AttackProtection
			if tt.want != nil {
				d := guard.Defaults()
				tt.want(&d)
				want = &d
			}
			if d := cmp.Diff(want, tenant.AttackProtection); d != "" {
				t.Errorf("stored attack protection (-want +got):\n%s", d)
			}
		})
	}
}

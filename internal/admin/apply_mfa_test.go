package admin_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/store"
)

func TestApplyMFA(t *testing.T) {
	cases := []struct {
		name        string
		files       []string // applied in order
		wantPolicy  string
		wantFactors store.MFAFactors
	}{
		{"no guardian sections leave MFA off", []string{"tenant: {friendly_name: Acme}\n"}, "", store.MFAFactors{}},
		{"all-applications requires MFA",
			[]string{"guardianPolicies: {policies: [all-applications]}\nguardianFactors:\n  - {name: otp, enabled: true}\n  - {name: recovery-code, enabled: true}\n"},
			store.MFAAlways, store.MFAFactors{OTP: true, RecoveryCode: true}},
		{"empty policies turn it off, factors named change only",
			[]string{
				"guardianPolicies: {policies: [all-applications]}\nguardianFactors: [{name: otp, enabled: true}, {name: email, enabled: true}]\n",
				"guardianPolicies: {policies: []}\nguardianFactors: [{name: email, enabled: false}, {name: push-notification, enabled: false}]\n",
			},
			store.MFANever, store.MFAFactors{OTP: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := applyService(t)
			for _, f := range c.files {
				applyOK(t, s, applyParse(t, f))
			}
			tn, err := s.Store.GetTenant(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if tn.MFAPolicy != c.wantPolicy {
				t.Errorf("policy: got %q, want %q", tn.MFAPolicy, c.wantPolicy)
			}
			if d := cmp.Diff(c.wantFactors, tn.MFAFactors); d != "" {
				t.Errorf("factors (-want +got):\n%s", d)
			}
		})
	}
	t.Run("unknown policy and nameless factor are refused at their paths", func(t *testing.T) {
		s := applyService(t)
		tf := applyParse(t, "guardianPolicies: {policies: [confidence-score, sometimes]}\nguardianFactors: [{name: duo, enabled: true}, {enabled: true}]\n")
		_, err := s.Apply(t.Context(), tf)
		want := []string{
			`guardianPolicies.policies[1]: "sometimes" is not supported (only all-applications, or none)`,
			"guardianFactors[1]: name is required",
		}
		if d := cmp.Diff(want, applyProblems(t, err)); d != "" {
			t.Errorf("problems (-want +got):\n%s", d)
		}
		tn, _ := s.Store.GetTenant(t.Context())
		if tn.MFAPolicy != "" && tn.MFAPolicy != store.MFANever {
			t.Errorf("a file with problems set the MFA policy %q", tn.MFAPolicy)
		}
	})
}

package admin_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/config"
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
	t.Run("unknown policy is refused by the parser", func(t *testing.T) {
		_, err := config.ParseTenantFile([]byte("guardianPolicies: {policies: [sometimes]}\n"), config.TenantOptions{})
		if err == nil || !strings.Contains(err.Error(), "guardianPolicies.policies[0]") {
			t.Errorf("ParseTenantFile: got %v, want a problem at guardianPolicies.policies[0]", err)
		}
	})
}

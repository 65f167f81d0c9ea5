package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/store"
)

// GuardianFactorNames are Auth0's MFA factor names, in the order Auth0 lists them. Sesame
// runs otp, email, sms and recovery-code; the others are always disabled.
var GuardianFactorNames = []string{"sms", "push-notification", "email", "duo", "otp", "webauthn-roaming",
	"webauthn-platform", "recovery-code"}

// GuardianFactor is one MFA factor and whether users may enrol it.
type GuardianFactor struct {
	Name    string
	Enabled bool
}

// GuardianPolicyAll is the guardian policy that requires MFA at every login.
const GuardianPolicyAll = "all-applications"

// factorField returns the switch of a factor Sesame runs (nil for one it does not).
func factorField(f *store.MFAFactors, name string) *bool {
	switch name {
	case "otp":
		return &f.OTP
	case "email":
		return &f.Email
	case "sms":
		return &f.SMS
	case "recovery-code":
		return &f.RecoveryCode
	}
	return nil
}

// setFactor turns a factor on or off. Turning on a factor Sesame does not run is a
// ValidationError; turning it off is accepted and changes nothing (the Deploy CLI sends every
// factor of an Auth0 export); an unknown name is a NotFoundError.
func setFactor(f *store.MFAFactors, name string, enabled bool) error {
	if !slices.Contains(GuardianFactorNames, name) {
		return &NotFoundError{Kind: "guardian factor", ID: name}
	}
	p := factorField(f, name)
	if p == nil {
		if enabled {
			return invalid("enabled", "the %s factor is not supported by this server", name)
		}
		return nil
	}
	*p = enabled
	return nil
}

// policyOf is the tenant MFA policy for Auth0's guardian policies: all-applications requires
// MFA at every login, [] leaves it to Rules and Actions.
func policyOf(policies []string) (string, error) {
	policy := store.MFANever
	for i, p := range policies {
		if p != GuardianPolicyAll {
			return "", invalid(fmt.Sprintf("policies[%d]", i), "%q is not supported (only %s, or none)", p, GuardianPolicyAll)
		}
		policy = store.MFAAlways
	}
	return policy, nil
}

// GuardianFactors lists every Auth0 factor with whether it is enabled. A tenant that never
// chose factors runs OTP with recovery codes (package mfa), and is shown so.
func (s *Service) GuardianFactors(ctx context.Context) ([]GuardianFactor, error) {
	t, err := s.Store.GetTenant(ctx)
	if err != nil {
		return nil, err
	}
	f := mfa.Factors(t.MFAFactors)
	out := make([]GuardianFactor, 0, len(GuardianFactorNames))
	for _, name := range GuardianFactorNames {
		p := factorField(&f, name)
		out = append(out, GuardianFactor{Name: name, Enabled: p != nil && *p})
	}
	return out, nil
}

// SetGuardianFactor enables or disables one factor (Auth0: PUT /guardian/factors/{name}).
// It starts from what GuardianFactors shows, so that disabling a factor of a tenant that
// never chose any leaves the other default factor on.
func (s *Service) SetGuardianFactor(ctx context.Context, name string, enabled bool) (GuardianFactor, error) {
	err := s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
		f := mfa.Factors(t.MFAFactors)
		if err := setFactor(&f, name, enabled); err != nil {
			return err
		}
		t.MFAFactors = f
		return nil
	})
	return GuardianFactor{Name: name, Enabled: enabled}, err
}

// GuardianPolicies returns Auth0's guardian policies for the tenant: [all-applications] or [].
func (s *Service) GuardianPolicies(ctx context.Context) ([]string, error) {
	t, err := s.Store.GetTenant(ctx)
	if err != nil {
		return nil, err
	}
	if t.MFAPolicy == store.MFAAlways {
		return []string{GuardianPolicyAll}, nil
	}
	return []string{}, nil
}

// SetGuardianPolicies sets the guardian policies (Auth0: PUT /guardian/policies).
func (s *Service) SetGuardianPolicies(ctx context.Context, policies []string) ([]string, error) {
	policy, err := policyOf(policies)
	if err != nil {
		return nil, err
	}
	if err := s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
		t.MFAPolicy = policy
		return nil
	}); err != nil {
		return nil, err
	}
	return s.GuardianPolicies(ctx)
}

// PhoneMessageTypes are how the phone factor delivers codes: "sms", through the server's
// mfa_sender. Sesame has no voice delivery.
func (s *Service) PhoneMessageTypes() []string { return []string{"sms"} }

// SetPhoneMessageTypes accepts what Sesame does ([sms]) and refuses voice (Auth0: PUT
// /guardian/factors/phone/message-types). An empty list, what an Auth0 export holds for a
// tenant that never set up the phone factor, is accepted and changes nothing: whether codes
// go out by SMS is the sms factor's enabled flag. A missing list (nil) is refused.
func (s *Service) SetPhoneMessageTypes(types []string) ([]string, error) {
	if types == nil {
		return nil, invalid("message_types", "is required")
	}
	for i, t := range types {
		if t != "sms" {
			return nil, invalid(fmt.Sprintf("message_types[%d]", i), "%q is not supported (only sms)", t)
		}
	}
	return s.PhoneMessageTypes(), nil
}

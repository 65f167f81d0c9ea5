package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store"
)

// planMFA applies guardianPolicies (all-applications: MFA for every password login) and
// guardianFactors (only the factors the file names change).
func (p *applyPlan) planMFA(ctx context.Context) error {
	if p.tf.GuardianPolicies == nil && p.tf.GuardianFactors == nil {
		return nil
	}
	cur, err := p.s.Store.GetTenant(ctx)
	if err != nil {
		return err
	}
	pol, fac := cmp.Or(cur.MFAPolicy, store.MFANever), cur.MFAFactors
	if gp := p.tf.GuardianPolicies; gp != nil {
		// Each policy is checked by policyOf (the Management API's rule) at its own index;
		// the parser reported confidence-score (adaptive MFA) as ignored.
		kept := []string{}
		for i, name := range gp.Policies {
			if name == "confidence-score" {
				continue
			}
			if _, err := policyOf([]string{name}); err != nil {
				var ve *ValidationError
				if errors.As(err, &ve) {
					p.problem(fmt.Sprintf("guardianPolicies.policies[%d]", i), "%s", ve.Message)
				}
				continue
			}
			kept = append(kept, name)
		}
		pol, _ = policyOf(kept)
	}
	for _, f := range p.tf.GuardianFactors {
		if f.Name == "" {
			p.problem(f.Path, "name is required")
			continue
		}
		if err := setFactor(&fac, f.Name, f.Enabled); err != nil {
			p.validationProblems(f.Path, err)
		}
	}
	changed := pol != cmp.Or(cur.MFAPolicy, store.MFANever) || fac != cur.MFAFactors
	p.step("MFA policy and factors", false, changed, func(ctx context.Context) error {
		return p.s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
			t.MFAPolicy, t.MFAFactors = pol, fac
			return nil
		})
	})
	return nil
}

// setSlice sets *dst to v when the file gave a list (an empty list is a value).
func setSlice(dst *[]string, v []string) {
	if v != nil {
		*dst = slices.Clone(v)
	}
}

// applyMergeProblems reports the file's own problems, then those found against the store at
// paths the file's problems do not already cover (the same rule is often checked by both).
func applyMergeProblems(file, plan []config.Problem) []config.Problem {
	out := slices.Clone(file)
	covered := map[string]bool{}
	for _, p := range file {
		covered[p.Path] = true
	}
	for _, p := range plan {
		if !covered[p.Path] {
			out = append(out, p)
		}
	}
	return out
}

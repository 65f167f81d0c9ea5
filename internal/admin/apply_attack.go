package admin

import (
	"context"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store"
)

// planAttackProtection applies the attackProtection section over the stored settings (Auth0's
// defaults when none are stored): only what the file names changes.
func (p *applyPlan) planAttackProtection(ctx context.Context) error {
	f := p.tf.AttackProtection
	if f == nil {
		return nil
	}
	cur, err := p.s.Store.GetTenant(ctx)
	if err != nil {
		return err
	}
	want, err := changeAttackProtection(storedAttackProtection(cur), func(want *store.AttackProtection) error {
		if bf := f.BruteForce; bf != nil {
			w := &want.BruteForce
			setIf(&w.Enabled, bf.Enabled)
			setSlice(&w.Shields, bf.Shields)
			setIf(&w.Mode, bf.Mode)
			setSlice(&w.Allowlist, bf.Allowlist)
			setIf(&w.MaxAttempts, bf.MaxAttempts)
		}
		if ip := f.SuspiciousIP; ip != nil {
			w := &want.SuspiciousIP
			setIf(&w.Enabled, ip.Enabled)
			setSlice(&w.Shields, ip.Shields)
			setSlice(&w.Allowlist, ip.Allowlist)
			for _, st := range []struct {
				file *config.ThrottleStage
				dst  *store.ThrottleStage
			}{{ip.PreLogin, &w.Stage.PreLogin}, {ip.PreUserRegistration, &w.Stage.PreUserRegistration}} {
				if st.file != nil {
					setIf(&st.dst.MaxAttempts, st.file.MaxAttempts)
					if st.file.Rate != nil {
						st.dst.Rate = int64(*st.file.Rate)
					}
				}
			}
		}
		if br := f.Breached; br != nil {
			w := &want.Breached
			setIf(&w.Enabled, br.Enabled)
			setSlice(&w.Shields, br.Shields)
			setIf(&w.Method, br.Method)
		}
		return nil
	})
	if err != nil {
		p.validationProblems("attackProtection", err)
		return nil
	}
	p.step("attack protection", false, !sameAttackProtection(cur, want), func(ctx context.Context) error {
		return p.s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
			t.AttackProtection = &want
			return nil
		})
	})
	return nil
}

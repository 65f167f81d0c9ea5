package admin

import (
	"context"

	"github.com/sesameauth/sesame/internal/store"
)

func (p *applyPlan) planTenant(ctx context.Context) error {
	f := p.tf.Tenant
	if f == nil {
		return nil
	}
	cur, err := p.s.Store.GetTenant(ctx)
	if err != nil {
		return err
	}
	want := cur
	setIf(&want.FriendlyName, f.FriendlyName)
	setIf(&want.DefaultDirectory, f.DefaultDirectory)
	setIf(&want.DefaultAudience, f.DefaultAudience)
	setIf(&want.RevokeDeletesGrant, f.RevokeRefreshTokenGrant)
	if d := want.DefaultDirectory; d != "" && f.DefaultDirectory != nil {
		switch strategy, ok := p.connections[d]; {
		case !ok:
			p.problem("tenant.default_directory", "no connection is named %q", d)
		case !isDirectoryStrategy(strategy):
			p.problem("tenant.default_directory", "the connection %q has strategy %q: the password grant needs an auth0, ad or ldap connection", d, strategy)
		}
	}
	if a := want.DefaultAudience; a != "" && f.DefaultAudience != nil {
		if _, ok := p.apis[a]; !ok {
			p.problem("tenant.default_audience", "no API has identifier %q", a)
		}
	}
	changed := !applySame(applyStampless(cur), applyStampless(want))
	want.UpdatedAt = p.s.now()
	p.step("tenant settings", false, changed, func(ctx context.Context) error {
		return p.s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
			// Written by the attack-protection and MFA steps.
			ap, pol, fac := t.AttackProtection, t.MFAPolicy, t.MFAFactors
			*t = want
			t.AttackProtection, t.MFAPolicy, t.MFAFactors = ap, pol, fac
			return nil
		})
	})
	return nil
}

package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/sesameauth/sesame/internal/store"
)

// TenantPatch is a partial change of the tenant settings (Auth0's PATCH
// /api/v2/tenants/settings): nil fields keep their value; an empty default directory or
// audience clears it.
type TenantPatch struct {
	FriendlyName     *string
	DefaultDirectory *string
	DefaultAudience  *string
	// RevokeDeletesGrant is flags.revoke_refresh_token_grant.
	RevokeDeletesGrant *bool
}

// UpdateTenant applies p: the default directory must name an auth0 connection (the password
// grant's directory), the default audience an API (https://<host>/api/v2/ is the Management
// API, as in a client grant).
func (s *Service) UpdateTenant(ctx context.Context, p TenantPatch) (store.Tenant, error) {
	var errs []error
	if p.FriendlyName != nil && len(*p.FriendlyName) > 255 {
		errs = append(errs, invalid("friendly_name", "longer than 255 characters"))
	}
	if p.DefaultDirectory != nil && *p.DefaultDirectory != "" {
		c, err := s.Store.GetConnection(ctx, *p.DefaultDirectory)
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs = append(errs, invalid("default_directory", "no connection is named %q", *p.DefaultDirectory))
		case err != nil:
			return store.Tenant{}, err
		case !isDirectoryStrategy(c.Strategy):
			errs = append(errs, invalid("default_directory", "the connection %q has strategy %q: the password grant needs an auth0, ad or ldap connection", c.Name, c.Strategy))
		}
	}
	var audience *string
	if p.DefaultAudience != nil {
		a := s.CanonicalAudience(strings.TrimSpace(*p.DefaultAudience))
		audience = &a
		if a != "" {
			if _, err := s.Store.GetResourceServer(ctx, a); errors.Is(err, store.ErrNotFound) {
				errs = append(errs, invalid("default_audience", "no API has the identifier %q", a))
			} else if err != nil {
				return store.Tenant{}, err
			}
		}
	}
	if len(errs) > 0 {
		return store.Tenant{}, errors.Join(errs...)
	}
	now := s.now()
	var out store.Tenant
	err := s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
		setIf(&t.FriendlyName, p.FriendlyName)
		setIf(&t.DefaultDirectory, p.DefaultDirectory)
		setIf(&t.DefaultAudience, audience)
		setIf(&t.RevokeDeletesGrant, p.RevokeDeletesGrant)
		t.UpdatedAt = now
		out = *t
		return nil
	})
	return out, err
}

// GetTenant returns the tenant settings.
func (s *Service) GetTenant(ctx context.Context) (store.Tenant, error) {
	return s.Store.GetTenant(ctx)
}

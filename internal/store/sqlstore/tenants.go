package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sesameauth/sesame/internal/store"
)

// The tenant is the one row with id 1.
const (
	tenantCols = `friendly_name, default_directory, default_audience, revoke_deletes_grant, updated_at`
	getTenant  = `SELECT ` + tenantCols + `, attack_protection, mfa_policy, mfa_factors FROM tenant WHERE id = 1`
	putTenant  = `INSERT INTO tenant (id, ` + tenantCols + `) VALUES (1, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET friendly_name = excluded.friendly_name,
  default_directory = excluded.default_directory, default_audience = excluded.default_audience,
  revoke_deletes_grant = excluded.revoke_deletes_grant, updated_at = excluded.updated_at`
	// putAttackProtection is a statement of its own so that putTenant keeps its arguments
	// (Copy writes a tenant with it).
	putAttackProtection = `UPDATE tenant SET attack_protection = ? WHERE id = 1`
	putMFA              = `UPDATE tenant SET mfa_policy = ?, mfa_factors = ? WHERE id = 1`
)

func readTenant(ctx context.Context, q querier) (store.Tenant, error) {
	var t store.Tenant
	err := q.QueryRowContext(ctx, getTenant).Scan(&t.FriendlyName, &t.DefaultDirectory, &t.DefaultAudience,
		&t.RevokeDeletesGrant, timeCol{&t.UpdatedAt}, jsonCol{&t.AttackProtection}, &t.MFAPolicy, jsonCol{&t.MFAFactors})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Tenant{}, nil
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("sqlstore: reading tenant: %w", unavailable(err))
	}
	return t, nil
}

// GetTenant returns the tenant settings, or the zero Tenant when none were stored.
func (s *Store) GetTenant(ctx context.Context) (store.Tenant, error) {
	return through(&s.cache, &s.cache.tenant, "", cloneTenant, func() (store.Tenant, error) {
		return readTenant(ctx, s.read)
	})
}

// UpdateTenant applies fn to the settings, creating them if absent, in one transaction.
func (s *Store) UpdateTenant(ctx context.Context, fn func(*store.Tenant) error) error {
	defer s.cache.invalidate()
	return s.inTx(ctx, func(tx querier) error {
		t, err := readTenant(ctx, tx)
		if err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(putTenant), t.FriendlyName, t.DefaultDirectory, t.DefaultAudience,
			t.RevokeDeletesGrant, timeVal(t.UpdatedAt)); err != nil {
			return fmt.Errorf("sqlstore: writing tenant: %w", err)
		}
		var ap any // NULL for nil: the defaults
		if t.AttackProtection != nil {
			var e encoder
			if ap = e.json(t.AttackProtection); e.err != nil {
				return fmt.Errorf("sqlstore: encoding attack protection: %w", e.err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(putAttackProtection), ap); err != nil {
			return fmt.Errorf("sqlstore: writing attack protection: %w", err)
		}
		var factors any // NULL for none
		if t.MFAFactors != (store.MFAFactors{}) {
			var e encoder
			if factors = e.json(t.MFAFactors); e.err != nil {
				return fmt.Errorf("sqlstore: encoding MFA factors: %w", e.err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(putMFA), t.MFAPolicy, factors); err != nil {
			return fmt.Errorf("sqlstore: writing MFA settings: %w", err)
		}
		return nil
	})
}

package admin

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// AttackProtection returns the tenant's attack-protection settings: the stored ones, or
// Auth0's defaults (package guard) when none were ever written.
func (s *Service) AttackProtection(ctx context.Context) (store.AttackProtection, error) {
	t, err := s.Store.GetTenant(ctx)
	if err != nil {
		return store.AttackProtection{}, err
	}
	return storedAttackProtection(t), nil
}

func storedAttackProtection(t store.Tenant) store.AttackProtection {
	if t.AttackProtection != nil {
		return *t.AttackProtection
	}
	return guard.Defaults()
}

// changeAttackProtection applies change to a copy of cur and validates the result, the one
// place where attack-protection settings are checked (guard.Validate's problems become
// ValidationErrors whose Field is the Auth0 path, e.g. bruteForceProtection.max_attempts).
func changeAttackProtection(cur store.AttackProtection, change func(*store.AttackProtection) error) (store.AttackProtection, error) {
	want := cloneAttackProtection(cur)
	if err := change(&want); err != nil {
		return cur, err
	}
	if err := guard.Validate(want); err != nil {
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		var out []error
		for _, e := range errs {
			path, msg, _ := strings.Cut(e.Error(), ": ")
			out = append(out, invalid(path, "%s", msg))
		}
		return cur, errors.Join(out...)
	}
	return want, nil
}

// cloneAttackProtection copies the settings deeply, so that a change never writes through to
// the slices of the value it started from.
func cloneAttackProtection(ap store.AttackProtection) store.AttackProtection {
	c := ap
	for _, s := range []*[]string{&c.BruteForce.Shields, &c.BruteForce.Allowlist, &c.SuspiciousIP.Shields,
		&c.SuspiciousIP.Allowlist, &c.Breached.Shields} {
		*s = append([]string{}, (*s)...)
	}
	return c
}

// UpdateAttackProtection changes the attack-protection settings (Auth0: PATCH
// /attack-protection/brute-force-protection, suspicious-ip-throttling and
// breached-password-detection): change runs on the current settings inside the store's
// transaction, the result is validated and stored, and returned. Running servers apply it at
// their next settings read.
func (s *Service) UpdateAttackProtection(ctx context.Context, change func(*store.AttackProtection) error) (store.AttackProtection, error) {
	var out store.AttackProtection
	err := s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
		want, err := changeAttackProtection(storedAttackProtection(*t), change)
		if err != nil {
			return err
		}
		t.AttackProtection, out = &want, want
		return nil
	})
	return out, err
}

// sameAttackProtection reports whether want changes nothing of what t holds (nothing stored
// means the defaults, so restating them is no change).
func sameAttackProtection(t store.Tenant, want store.AttackProtection) bool {
	def := guard.Defaults()
	return applySame(cmp.Or(t.AttackProtection, &def), want)
}

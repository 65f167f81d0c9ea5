package oauthserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// refreshGrant serves the refresh_token grant (RFC 6749 §6) with rotation and reuse detection
// (RFC 9700 §4.14.2): a rotated token presented again outside the leeway revokes its family.
type refreshGrant struct{ s *Server }

func (refreshGrant) events() (string, string) { return "sertft", "fertft" }

var errScopeExceeded = oauthErr(http.StatusBadRequest, "invalid_scope",
	"The requested scope exceeds the scope granted by the resource owner.")

func (g refreshGrant) login(ctx context.Context, ex *exchange) error {
	s := g.s
	raw, err := ex.p.require("refresh_token")
	if err != nil {
		return err
	}
	hash, ok := token.HashRefreshToken(raw)
	if !ok {
		return errInvalidRefresh.withCause(errors.New("malformed refresh token"))
	}
	// Everything that can refuse the exchange is checked before the token is spent: the checks
	// here, then (in the dispatcher) Rules and Actions, and only then ex.spend redeems it. A
	// refused exchange thus leaves the presented token as usable as it was. This read goes to
	// SQLite's reader pool, beside the single writer; the redemption re-checks atomically.
	fam, tok, err := s.store.GetRefreshToken(ctx, hash)
	if err != nil {
		return storeErr(err, errInvalidRefresh)
	}
	now := s.now()
	switch {
	case fam.ClientID != ex.client.ClientID:
		// RFC 6749 §6: the token must have been issued to the authenticated client.
		return errInvalidRefresh.withCause(errors.New("refresh token of another client"))
	case !fam.RevokedAt.IsZero():
		return errInvalidRefresh.withCause(store.ErrRevoked)
	case expired(fam.ExpiresAt, now) || expired(tok.IdleExpiresAt, now):
		return errInvalidRefresh.withCause(store.ErrExpired)
	}
	pol := ex.client.RefreshToken
	red := store.Redemption{Hash: hash, Now: now, Leeway: time.Duration(pol.Leeway) * time.Second}
	var next string
	if pol.RotationType == "rotating" {
		var nextHash string
		next, nextHash = token.NewRefreshToken()
		red.Next = &store.RefreshToken{Hash: nextHash, FamilyID: fam.ID, CreatedAt: now, IdleExpiresAt: idleExpiry(pol, now)}
	} else {
		red.IdleExpiresAt = idleExpiry(pol, now)
	}
	redeem := func(ctx context.Context) error {
		if _, err := s.store.RedeemRefreshToken(ctx, red); err != nil {
			if errors.Is(err, store.ErrReused) {
				s.emit(ex, "ferrt", "Unsuccessful Refresh Token exchange, reused refresh token detected")
			}
			return storeErr(mapRedeemErr(err), errInvalidRefresh)
		}
		ex.refresh = next
		return nil
	}
	if err := s.limitRefresh(ctx, ex, fam.ID); err != nil {
		return err
	}
	if ex.connection, err = s.store.GetConnection(ctx, fam.Connection); err != nil {
		return storeErr(err, errRefreshDeletedUser)
	}
	dir, err := s.dirs.Directory(ex.connection)
	if err != nil {
		return err
	}
	err = s.stage(ctx, "directory.lookup", func(ctx context.Context) (err error) {
		ex.user, err = dir.Lookup(ctx, fam.UserID)
		return err
	})
	switch {
	case errors.Is(err, directory.ErrUserNotFound):
		ex.user = directory.Identity{UserID: fam.UserID}
		return errRefreshDeletedUser.withCause(err)
	case err != nil:
		return err
	case ex.user.Blocked:
		return errRefreshBlocked
	}
	granted := splitScope(fam.Scope)
	ex.scopes = granted
	if req := splitScope(ex.p.get("scope")); len(req) > 0 {
		// The refresh grant may narrow the scope, never widen it (RFC 6749 §6).
		for _, sc := range req {
			if !slices.Contains(granted, sc) {
				return errScopeExceeded
			}
		}
		ex.scopes = slices.DeleteFunc(slices.Clone(granted), func(sc string) bool { return !slices.Contains(req, sc) })
	}
	if fam.Audience != "" {
		api, err := s.store.GetResourceServer(ctx, fam.Audience)
		if err != nil {
			return storeErr(err, errInvalidRefresh)
		}
		ex.api = &api
		if api.EnforcePolicies {
			// Permissions are read anew: a permission removed since login is gone at refresh.
			var rbac []string
			rbacScopes, perms := grantScopes(nil, &api, ex.user.Permissions, ex.client.Client)
			for _, sc := range ex.scopes {
				if slices.Contains(rbacScopes, sc) || !apiDefines(&api, sc) {
					rbac = append(rbac, sc)
				}
			}
			ex.scopes, ex.perms = rbac, perms
		}
	}
	ex.family, ex.authTime, ex.amr = &fam, fam.AuthTime, fam.AMR
	if red.Replays(tok.RotatedAt) {
		// A replay of a spent token (with rotation outside the leeway, or with a policy switched
		// to non-rotating since): the redemption revokes the family (RFC 9700 §4.14.2) whatever
		// Rules and Actions would say, so it runs now and they never do.
		return redeem(ctx)
	}
	ex.spend = redeem
	return nil
}

// mapRedeemErr folds every way a refresh token can be dead into one not-found answer.
func mapRedeemErr(err error) error {
	if errors.Is(err, store.ErrExpired) || errors.Is(err, store.ErrReused) || errors.Is(err, store.ErrRevoked) {
		return errInvalidRefresh.withCause(err)
	}
	return err
}

func expired(at, now time.Time) bool { return !at.IsZero() && !now.Before(at) }

func apiDefines(api *store.ResourceServer, scope string) bool {
	for _, sc := range api.Scopes {
		if sc.Value == scope {
			return true
		}
	}
	return false
}

package admin

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/store"
)

// UserPatch is a change to a user (PATCH /api/v2/users/{id}); nil fields are left alone.
//
// Metadata follows Auth0's merge: the given object's top-level keys replace the stored ones,
// a key given as null (a nil value) is removed, other keys stay; an empty object removes every
// key. Password, Email and Username need the user's own Connection when given (as at Auth0).
type UserPatch struct {
	Connection    *string
	Email         *string
	Username      *string
	Password      *string
	EmailVerified *bool
	Blocked       *bool
	Name          *string
	Nickname      *string
	Picture       *string
	GivenName     *string
	FamilyName    *string
	UserMetadata  map[string]any
	AppMetadata   map[string]any
}

// UpdateUser applies a patch after checking all of it, in one store update. A new password
// is checked against the connection's policy and hashed first, and releases brute-force
// blocks as SetPassword does.
func (s *Service) UpdateUser(ctx context.Context, userID string, p UserPatch) (store.User, error) {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return store.User{}, storeErr(err, "user", userID)
	}
	var errs []error
	if p.Connection != nil && *p.Connection != u.Connection {
		errs = append(errs, invalid("connection", "the user is in connection %q, not %q", u.Connection, *p.Connection))
	}
	for field, given := range map[string]bool{"password": p.Password != nil, "email": p.Email != nil, "username": p.Username != nil} {
		if given && p.Connection == nil {
			errs = append(errs, invalid("connection", "is required to change %s", field))
		}
	}
	var email string
	if p.Email != nil {
		if email, err = CheckEmail(*p.Email); err != nil {
			errs = append(errs, err)
		}
	}
	if p.Username != nil && *p.Username != "" {
		if err := CheckUsername(*p.Username); err != nil {
			errs = append(errs, err)
		}
	}
	var conn store.Connection
	if p.Password != nil || p.Username != nil {
		if conn, err = s.databaseConnection(ctx, u.Connection); err != nil {
			return store.User{}, err
		}
	}
	if p.Username != nil && *p.Username == "" && requiresUsername(conn) {
		errs = append(errs, invalid("username", "is required by connection %q", conn.Name))
	}
	if p.Password != nil {
		policy, minLen := PasswordPolicy(conn)
		if err := CheckPassword(policy, minLen, *p.Password); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range reservedAppMetadata {
		if _, ok := p.AppMetadata[k]; ok {
			errs = append(errs, invalid("app_metadata."+k, "is a reserved name"))
		}
	}
	if len(errs) > 0 {
		return store.User{}, errors.Join(errs...)
	}
	// Without import_mode a custom database keeps the password and the email in its legacy
	// store: its change_password and change_email scripts change them there first.
	legacy, err := s.customDB(ctx, u.Connection)
	if err != nil {
		return store.User{}, err
	}
	if legacy != nil && legacy.ImportMode() {
		legacy = nil
	}
	if legacy != nil && p.Password != nil {
		if err := legacy.ChangePassword(ctx, u.Email, *p.Password); err != nil {
			return store.User{}, scriptErr(err, u.Email)
		}
	}
	if legacy != nil && p.Email != nil && email != u.Email {
		verified := p.EmailVerified != nil && *p.EmailVerified
		if err := legacy.ChangeEmail(ctx, u.Email, email, verified); err != nil {
			return store.User{}, scriptErr(err, u.Email)
		}
	}
	var hash string
	if p.Password != nil && legacy == nil {
		if hash, err = s.hash(ctx, *p.Password); err != nil {
			return store.User{}, err
		}
	}
	now := s.now()
	var out store.User
	err = s.Store.UpdateUser(ctx, userID, func(u *store.User) error {
		if p.Email != nil && email != u.Email {
			u.Email = email
			// A new address is unverified unless the same request says otherwise (Auth0).
			u.EmailVerified = false
		}
		applyProfile(u, profileFields{Username: p.Username, GivenName: p.GivenName, FamilyName: p.FamilyName, Name: p.Name,
			Nickname: p.Nickname, Picture: p.Picture, EmailVerified: p.EmailVerified, Blocked: p.Blocked})
		if hash != "" {
			u.PasswordHash = hash
		}
		u.UserMetadata = mergeMetadata(u.UserMetadata, p.UserMetadata)
		u.AppMetadata = mergeMetadata(u.AppMetadata, p.AppMetadata)
		u.UpdatedAt = now
		out = *u
		return nil
	})
	if err != nil {
		return store.User{}, userConflict(storeErr(err, "user", userID), out)
	}
	if p.Password != nil {
		// A password change releases brute-force blocks (WIRE.md §5).
		if _, err := s.guard().Unblock(ctx, u.ID, u.Email, u.Username); err != nil {
			return out, err
		}
	}
	return out, nil
}

// mergeMetadata applies Auth0's metadata merge of patch onto have (see UserPatch).
func mergeMetadata(have, patch map[string]any) map[string]any {
	if patch == nil {
		return have
	}
	if len(patch) == 0 {
		return map[string]any{}
	}
	out := maps.Clone(have)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// UserPermission is a permission of a user with its API's name (GET
// /api/v2/users/{id}/permissions).
type UserPermission struct {
	store.Permission
	ResourceServerName string
	Description        string
}

// UserPermissions returns the user's directly assigned permissions, ordered by API then name.
func (s *Service) UserPermissions(ctx context.Context, userID string) ([]UserPermission, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]UserPermission, 0, len(u.Permissions))
	apis := map[string]store.ResourceServer{}
	for _, p := range u.Permissions {
		rs, ok := apis[p.ResourceServerIdentifier]
		if !ok {
			rs, _ = s.Store.GetResourceServer(ctx, p.ResourceServerIdentifier)
			apis[p.ResourceServerIdentifier] = rs
		}
		up := UserPermission{Permission: p, ResourceServerName: rs.Name}
		for _, sc := range rs.Scopes {
			if sc.Value == p.PermissionName {
				up.Description = sc.Description
			}
		}
		out = append(out, up)
	}
	slices.SortFunc(out, func(a, b UserPermission) int {
		return cmp.Or(strings.Compare(a.ResourceServerIdentifier, b.ResourceServerIdentifier), strings.Compare(a.PermissionName, b.PermissionName))
	})
	return out, nil
}

// checkPermissions requires each permission to name an existing API and one of its scopes.
func (s *Service) checkPermissions(ctx context.Context, ps []store.Permission) error {
	if len(ps) == 0 {
		return invalid("permissions", "must name at least one permission")
	}
	var errs []error
	for i, p := range ps {
		rs, err := s.Store.GetResourceServer(ctx, p.ResourceServerIdentifier)
		if errors.Is(err, store.ErrNotFound) {
			errs = append(errs, invalid("permissions", "[%d]: no resource server %q", i, p.ResourceServerIdentifier))
			continue
		}
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rs.Scopes, func(sc store.Scope) bool { return sc.Value == p.PermissionName }) {
			errs = append(errs, invalid("permissions", "[%d]: resource server %q has no permission %q", i, p.ResourceServerIdentifier, p.PermissionName))
		}
	}
	return errors.Join(errs...)
}

// AddUserPermissions assigns permissions to the user (POST /api/v2/users/{id}/permissions);
// ones it already has are kept once.
func (s *Service) AddUserPermissions(ctx context.Context, userID string, ps []store.Permission) error {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return err
	}
	if err := s.checkPermissions(ctx, ps); err != nil {
		return err
	}
	now := s.now()
	return storeErr(s.Store.UpdateUser(ctx, userID, func(u *store.User) error {
		for _, p := range ps {
			if !slices.Contains(u.Permissions, p) {
				u.Permissions = append(u.Permissions, p)
			}
		}
		u.UpdatedAt = now
		return nil
	}), "user", userID)
}

// RemoveUserPermissions withdraws permissions from the user (DELETE
// /api/v2/users/{id}/permissions); ones the user does not have are ignored.
func (s *Service) RemoveUserPermissions(ctx context.Context, userID string, ps []store.Permission) error {
	if len(ps) == 0 {
		return invalid("permissions", "must name at least one permission")
	}
	now := s.now()
	return storeErr(s.Store.UpdateUser(ctx, userID, func(u *store.User) error {
		u.Permissions = slices.DeleteFunc(u.Permissions, func(p store.Permission) bool { return slices.Contains(ps, p) })
		u.UpdatedAt = now
		return nil
	}), "user", userID)
}

// UserRefreshTokens returns one checkpoint page of the user's live refresh tokens (one per
// login: Sesame's refresh-token families), oldest first.
func (s *Service) UserRefreshTokens(ctx context.Context, userID string, p ListParams) ([]store.RefreshFamily, string, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, "", err
	}
	p.Checkpoint = true
	win, err := p.window()
	if err != nil {
		return nil, "", err
	}
	fs, next, err := s.searchStore().ListUserRefreshFamilies(ctx, userID, s.now(), win)
	if fs == nil {
		fs = []store.RefreshFamily{}
	}
	return fs, next, err
}

// GetRefreshToken returns a refresh token (a family) by ID (GET /api/v2/refresh-tokens/{id}).
func (s *Service) GetRefreshToken(ctx context.Context, id string) (store.RefreshFamily, error) {
	f, err := s.searchStore().GetRefreshFamily(ctx, id)
	return f, storeErr(err, "refresh token", id)
}

// RevokeRefreshToken revokes one refresh token and its rotations (DELETE
// /api/v2/refresh-tokens/{id}).
func (s *Service) RevokeRefreshToken(ctx context.Context, id string) error {
	return storeErr(s.searchStore().RevokeRefreshFamilyByID(ctx, id, s.now()), "refresh token", id)
}

// DeleteMultifactorProvider removes the user's authenticators of one MFA provider (DELETE
// /api/v2/users/{id}/multifactor/{provider}). Sesame's one provider-style factor is the OTP
// app, Auth0's "google-authenticator"; "duo" is not a factor Sesame has.
func (s *Service) DeleteMultifactorProvider(ctx context.Context, userID, provider string) (int, error) {
	if provider != "google-authenticator" {
		return 0, invalid("provider", "%q: Sesame's only provider is google-authenticator (OTP)", provider)
	}
	as, err := s.ListMFAAuthenticators(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range as {
		if a.Kind != store.AuthenticatorTOTP {
			continue
		}
		if err := s.Store.DeleteMFAAuthenticator(ctx, userID, a.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

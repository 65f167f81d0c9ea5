package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

// APIPatch is a partial change of an API (Auth0's PATCH /api/v2/resource-servers/{id}): nil
// fields keep their value; the identifier never changes.
type APIPatch struct {
	Name               *string
	Scopes             *[]store.Scope
	SigningAlg         *string
	AllowOfflineAccess *bool
	TokenLifetime      *int
	TokenDialect       *string
	EnforcePolicies    *bool
}

// UpdateAPI applies p to an API (by identifier or id) under CheckAPI's rules. The Management
// API's own resource server is refused, as Auth0 refuses changes to a system API. An API moved
// to HS256 gets a signing secret; one moved to an asymmetric algorithm gets keys for it.
func (s *Service) UpdateAPI(ctx context.Context, idOrIdentifier string, p APIPatch) (store.ResourceServer, error) {
	cur, err := s.GetAPI(ctx, idOrIdentifier)
	if err != nil {
		return store.ResourceServer{}, err
	}
	if s.IsManagementAPI(cur) {
		return store.ResourceServer{}, errSystemAPI
	}
	rs := cur
	setIf(&rs.Name, p.Name)
	if p.Scopes != nil {
		rs.Scopes = slices.Clone(*p.Scopes)
	}
	setIf(&rs.SigningAlg, p.SigningAlg)
	setIf(&rs.AllowOfflineAccess, p.AllowOfflineAccess)
	setIf(&rs.TokenLifetime, p.TokenLifetime)
	setIf(&rs.TokenDialect, p.TokenDialect)
	setIf(&rs.EnforcePolicies, p.EnforcePolicies)
	if err := CheckAPI(rs); err != nil {
		return store.ResourceServer{}, err
	}
	switch {
	case rs.SigningAlg == "HS256" && rs.SigningSecretSealed == nil:
		if s.Box == nil {
			return store.ResourceServer{}, errors.New("admin: no key-encryption key to seal the HS256 signing secret")
		}
		rs.SigningSecretSealed = s.Box.Seal([]byte(password.NewSecret()), store.APISecretAAD(rs.Identifier))
	case rs.SigningAlg != "HS256" && rs.SigningAlg != cur.SigningAlg && s.Keys != nil:
		if err := s.Keys.Ensure(ctx, rs.SigningAlg); err != nil {
			return store.ResourceServer{}, fmt.Errorf("making %s signing keys: %w", rs.SigningAlg, err)
		}
	}
	rs.UpdatedAt = s.now()
	err = s.Store.UpdateResourceServer(ctx, cur.Identifier, func(stored *store.ResourceServer) error {
		*stored = rs
		return nil
	})
	return rs, storeErr(err, "resource server", idOrIdentifier)
}

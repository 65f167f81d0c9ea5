package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/store"
)

// ClientGrantInput describes a new client grant (Auth0's POST /api/v2/client-grants body).
type ClientGrantInput struct {
	ClientID string
	// Audience is the identifier of the API the grant is for.
	Audience string
	// Scope lists the API's scopes the client may ask for; empty means none (a token with no
	// scope, as Auth0 issues it).
	Scope []string
}

// CheckClientGrantScope validates a grant's scopes against the scopes its API defines: each
// must be one of them (Auth0 refuses a grant of an undefined scope), listed once.
func CheckClientGrantScope(scope []string, api []store.Scope) error {
	var errs []error
	for i, sc := range scope {
		switch {
		case !slices.ContainsFunc(api, func(d store.Scope) bool { return d.Value == sc }):
			errs = append(errs, invalid(fmt.Sprintf("scope[%d]", i), "%q is not a scope of the API", sc))
		case slices.Index(scope, sc) != i:
			errs = append(errs, invalid(fmt.Sprintf("scope[%d]", i), "%q is listed twice", sc))
		}
	}
	return errors.Join(errs...)
}

// clientGrantConflict is the answer to a second grant for the same client and API.
func clientGrantConflict(clientID, audience string) error {
	return &ConflictError{Kind: "client grant", ID: clientID + " " + audience,
		Message: fmt.Sprintf("a client grant for client %q and audience %q already exists", clientID, audience)}
}

// CreateClientGrant lets a client get client-credentials tokens for an API. The client and
// the API must exist (NotFoundError), the scopes must be the API's (ValidationError), and a
// client has one grant per API (ConflictError).
func (s *Service) CreateClientGrant(ctx context.Context, in ClientGrantInput) (store.ClientGrant, error) {
	now := s.now()
	g := store.ClientGrant{ID: store.NewClientGrantID(), ClientID: strings.TrimSpace(in.ClientID),
		Audience: s.CanonicalAudience(strings.TrimSpace(in.Audience)), Scope: slices.Clone(in.Scope), CreatedAt: now, UpdatedAt: now}
	if g.Scope == nil {
		g.Scope = []string{}
	}
	var errs []error
	if g.ClientID == "" {
		errs = append(errs, invalid("client_id", "is required"))
	}
	if g.Audience == "" {
		errs = append(errs, invalid("audience", "is required"))
	}
	if len(errs) > 0 {
		return store.ClientGrant{}, errors.Join(errs...)
	}
	if _, err := s.Store.GetClient(ctx, g.ClientID); err != nil {
		return store.ClientGrant{}, storeErr(err, "client", g.ClientID)
	}
	api, err := s.Store.GetResourceServer(ctx, g.Audience)
	if err != nil {
		return store.ClientGrant{}, storeErr(err, "resource server", g.Audience)
	}
	if err := CheckClientGrantScope(g.Scope, api.Scopes); err != nil {
		return store.ClientGrant{}, err
	}
	err = s.Store.CreateClientGrant(ctx, g)
	switch {
	case errors.Is(err, store.ErrConflict):
		if _, ferr := s.Store.FindClientGrant(ctx, g.ClientID, g.Audience); ferr == nil {
			return store.ClientGrant{}, clientGrantConflict(g.ClientID, g.Audience)
		}
		return store.ClientGrant{}, storeErr(err, "client grant", g.ID)
	case errors.Is(err, store.ErrNotFound):
		// The client or the API was deleted meanwhile.
		return store.ClientGrant{}, &NotFoundError{Kind: "client or resource server", ID: g.ClientID + " " + g.Audience}
	case err != nil:
		return store.ClientGrant{}, err
	}
	return g, nil
}

// UpdateClientGrant replaces a grant's scopes (Auth0's PATCH /api/v2/client-grants/{id}: the
// client and the audience of a grant cannot change).
func (s *Service) UpdateClientGrant(ctx context.Context, id string, scope []string) (store.ClientGrant, error) {
	g, err := s.GetClientGrant(ctx, id)
	if err != nil {
		return store.ClientGrant{}, err
	}
	api, err := s.Store.GetResourceServer(ctx, g.Audience)
	if err != nil {
		return store.ClientGrant{}, storeErr(err, "resource server", g.Audience)
	}
	scope = slices.Clone(scope)
	if scope == nil {
		scope = []string{}
	}
	if err := CheckClientGrantScope(scope, api.Scopes); err != nil {
		return store.ClientGrant{}, err
	}
	now := s.now()
	err = s.Store.UpdateClientGrant(ctx, id, func(cur *store.ClientGrant) error {
		cur.Scope, cur.UpdatedAt = scope, now
		g = *cur
		return nil
	})
	return g, storeErr(err, "client grant", id)
}

// GetClientGrant returns a grant by id.
func (s *Service) GetClientGrant(ctx context.Context, id string) (store.ClientGrant, error) {
	g, err := s.Store.GetClientGrant(ctx, id)
	return g, storeErr(err, "client grant", id)
}

// ListClientGrants returns the grants matching f, ordered by id (the order Auth0's checkpoint
// paging of GET /api/v2/client-grants walks).
func (s *Service) ListClientGrants(ctx context.Context, f store.ClientGrantFilter) ([]store.ClientGrant, error) {
	if f.Audience != "" {
		f.Audience = s.CanonicalAudience(f.Audience)
	}
	return s.Store.ListClientGrants(ctx, f)
}

// DeleteClientGrant deletes a grant: the client's next client-credentials request for that API
// is refused; tokens already issued stay valid until they expire, as at Auth0.
func (s *Service) DeleteClientGrant(ctx context.Context, id string) error {
	return storeErr(s.Store.DeleteClientGrant(ctx, id), "client grant", id)
}

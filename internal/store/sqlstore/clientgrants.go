package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/sesameauth/sesame/internal/store"
)

var clientGrants = build(&table[store.ClientGrant]{
	name: "client_grants", what: "client grant", key: "id",
	cols:  []string{"id", "client_id", "audience", "scope", "created_at", "updated_at"},
	keyOf: func(g *store.ClientGrant) string { return g.ID },
	values: func(e *encoder, g *store.ClientGrant) []any {
		return []any{g.ID, g.ClientID, g.Audience, e.json(g.Scope), timeVal(g.CreatedAt), timeVal(g.UpdatedAt)}
	},
	scan: func(g *store.ClientGrant) []any {
		return []any{&g.ID, &g.ClientID, &g.Audience, jsonCol{&g.Scope}, timeCol{&g.CreatedAt}, timeCol{&g.UpdatedAt}}
	},
})

// GetClientGrant returns the client grant with this id.
func (s *Store) GetClientGrant(ctx context.Context, id string) (store.ClientGrant, error) {
	return getRow(ctx, s, s.read, clientGrants, id)
}

// findClientGrant is the token endpoint's look-up, served by the (client_id, audience) index.
const findClientGrant = "WHERE client_id = ? AND audience = ?"

// FindClientGrant returns the client's grant for the audience.
func (s *Store) FindClientGrant(ctx context.Context, clientID, audience string) (store.ClientGrant, error) {
	gs, err := listRows(ctx, s, s.read, clientGrants, findClientGrant, clientID, audience)
	if err != nil {
		return store.ClientGrant{}, unavailable(err)
	}
	if len(gs) == 0 {
		return store.ClientGrant{}, fmt.Errorf("sqlstore: client grant of %q for %q: %w", clientID, audience, store.ErrNotFound)
	}
	return gs[0], nil
}

// ListClientGrants returns the grants matching f ordered by id.
func (s *Store) ListClientGrants(ctx context.Context, f store.ClientGrantFilter) ([]store.ClientGrant, error) {
	var where []string
	var args []any
	if f.ClientID != "" {
		where, args = append(where, "client_id = ?"), append(args, f.ClientID)
	}
	if f.Audience != "" {
		where, args = append(where, "audience = ?"), append(args, f.Audience)
	}
	rest := "ORDER BY id"
	if len(where) > 0 {
		rest = "WHERE " + strings.Join(where, " AND ") + " " + rest
	}
	return listRows(ctx, s, s.read, clientGrants, rest, args...)
}

// CreateClientGrant stores a new grant. The client and the API are looked up in the same
// transaction, so that a grant never outlives a concurrent delete of either (the foreign keys
// would refuse it too, but with an error no caller could tell from others).
func (s *Store) CreateClientGrant(ctx context.Context, g store.ClientGrant) error {
	return s.inTx(ctx, func(q querier) error {
		if _, err := getRow(ctx, s, q, clients, g.ClientID); err != nil {
			return fmt.Errorf("sqlstore: creating client grant %q: %w", g.ID, err)
		}
		if _, err := getRow(ctx, s, q, resourceServers, g.Audience); err != nil {
			return fmt.Errorf("sqlstore: creating client grant %q: %w", g.ID, err)
		}
		return insertRow(ctx, s, q, clientGrants, &g)
	})
}

// UpdateClientGrant applies fn to the grant in one transaction; its id, client and audience
// cannot change.
func (s *Store) UpdateClientGrant(ctx context.Context, id string, fn func(*store.ClientGrant) error) error {
	return updateRow(ctx, s, clientGrants, id, func(g *store.ClientGrant) error {
		clientID, audience := g.ClientID, g.Audience
		if err := fn(g); err != nil {
			return err
		}
		if g.ClientID != clientID || g.Audience != audience {
			return fmt.Errorf("sqlstore: updating client grant %q: the client and audience cannot change", id)
		}
		return nil
	})
}

// DeleteClientGrant deletes the grant.
func (s *Store) DeleteClientGrant(ctx context.Context, id string) error {
	return deleteRow(ctx, s, s.write, clientGrants, id)
}

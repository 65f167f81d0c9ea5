package sqlstore

import (
	"context"

	"github.com/sesameauth/sesame/internal/store"
)

var clients = build(&table[store.Client]{
	name: "clients", what: "client", key: "client_id",
	cols: []string{"client_id", "name", "description", "app_type", "secret_hash", "secret_sealed",
		"grant_types", "token_endpoint_auth_method", "id_token_alg", "id_token_lifetime", "credentials",
		"refresh_token", "ip_header_trusted", "metadata", "web_origins", "created_at", "updated_at"},
	keyOf: func(c *store.Client) string { return c.ClientID },
	values: func(e *encoder, c *store.Client) []any {
		return []any{c.ClientID, c.Name, c.Description, c.AppType, c.SecretHash, c.SecretSealed,
			e.json(c.GrantTypes), c.TokenEndpointAuthMethod, c.IDTokenAlg, c.IDTokenLifetime, e.json(c.Credentials),
			e.json(c.RefreshToken), c.IsTokenEndpointIPHeaderTrusted, e.json(c.Metadata), e.json(c.WebOrigins),
			timeVal(c.CreatedAt), timeVal(c.UpdatedAt)}
	},
	scan: func(c *store.Client) []any {
		return []any{&c.ClientID, &c.Name, &c.Description, &c.AppType, &c.SecretHash, &c.SecretSealed,
			jsonCol{&c.GrantTypes}, &c.TokenEndpointAuthMethod, &c.IDTokenAlg, &c.IDTokenLifetime, jsonCol{&c.Credentials},
			jsonCol{&c.RefreshToken}, &c.IsTokenEndpointIPHeaderTrusted, jsonCol{&c.Metadata}, jsonCol{&c.WebOrigins},
			timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}}
	},
})

// GetClient returns the client with this client id.
func (s *Store) GetClient(ctx context.Context, clientID string) (store.Client, error) {
	return through(&s.cache, &s.cache.clients, clientID, cloneClient, func() (store.Client, error) {
		return getRow(ctx, s, s.read, clients, clientID)
	})
}

// ListClients returns every client ordered by name, then client id.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return listRows(ctx, s, s.read, clients, "ORDER BY name, client_id")
}

// CreateClient stores a new client; ErrConflict when the client id is taken.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	defer s.cache.invalidate()
	return insertRow(ctx, s, s.write, clients, &c)
}

// UpdateClient applies fn to the client in one transaction. The client id cannot change.
func (s *Store) UpdateClient(ctx context.Context, clientID string, fn func(*store.Client) error) error {
	defer s.cache.invalidate()
	return updateRow(ctx, s, clients, clientID, fn)
}

// DeleteClient deletes the client.
func (s *Store) DeleteClient(ctx context.Context, clientID string) error {
	defer s.cache.invalidate()
	return deleteRow(ctx, s, s.write, clients, clientID)
}

var resourceServers = build(&table[store.ResourceServer]{
	name: "resource_servers", what: "resource server", key: "identifier",
	cols: []string{"identifier", "id", "name", "scopes", "signing_alg", "signing_secret_sealed",
		"allow_offline_access", "token_lifetime", "token_dialect", "enforce_policies", "created_at", "updated_at"},
	keyOf: func(r *store.ResourceServer) string { return r.Identifier },
	values: func(e *encoder, r *store.ResourceServer) []any {
		return []any{r.Identifier, r.ID, r.Name, e.json(r.Scopes), r.SigningAlg, r.SigningSecretSealed,
			r.AllowOfflineAccess, r.TokenLifetime, r.TokenDialect, r.EnforcePolicies,
			timeVal(r.CreatedAt), timeVal(r.UpdatedAt)}
	},
	scan: func(r *store.ResourceServer) []any {
		return []any{&r.Identifier, &r.ID, &r.Name, jsonCol{&r.Scopes}, &r.SigningAlg, &r.SigningSecretSealed,
			&r.AllowOfflineAccess, &r.TokenLifetime, &r.TokenDialect, &r.EnforcePolicies,
			timeCol{&r.CreatedAt}, timeCol{&r.UpdatedAt}}
	},
})

// GetResourceServer returns the API with this identifier (audience).
func (s *Store) GetResourceServer(ctx context.Context, identifier string) (store.ResourceServer, error) {
	return through(&s.cache, &s.cache.apis, identifier, cloneAPI, func() (store.ResourceServer, error) {
		return getRow(ctx, s, s.read, resourceServers, identifier)
	})
}

// ListResourceServers returns every API ordered by identifier.
func (s *Store) ListResourceServers(ctx context.Context) ([]store.ResourceServer, error) {
	return listRows(ctx, s, s.read, resourceServers, "ORDER BY identifier")
}

// CreateResourceServer stores a new API; ErrConflict when the identifier or ID is taken.
func (s *Store) CreateResourceServer(ctx context.Context, rs store.ResourceServer) error {
	defer s.cache.invalidate()
	return insertRow(ctx, s, s.write, resourceServers, &rs)
}

// UpdateResourceServer applies fn to the API in one transaction. The identifier cannot change.
func (s *Store) UpdateResourceServer(ctx context.Context, identifier string, fn func(*store.ResourceServer) error) error {
	defer s.cache.invalidate()
	return updateRow(ctx, s, resourceServers, identifier, fn)
}

// DeleteResourceServer deletes the API.
func (s *Store) DeleteResourceServer(ctx context.Context, identifier string) error {
	defer s.cache.invalidate()
	return deleteRow(ctx, s, s.write, resourceServers, identifier)
}

package mgmtapi

import (
	"context"
	"net/http"
)

// scopes lists the Management API scopes of which a route's token needs any one.
func scopes(s ...string) []string { return s }

// routes registers every endpoint. Patterns are relative to the API's base (/api/v2); the
// scopes are Auth0's for each endpoint; a write names its tenant log description.
//
// To add a resource: write its handlers in <resource>.go (decode, call one admin method,
// render) and register them here, in one block per resource.
func (a *API) routes() {
	// Tenant settings.
	a.handle("GET /tenants/settings", scopes("read:tenant_settings"), "", a.getTenantSettings)
	a.handle("PATCH /tenants/settings", scopes("update:tenant_settings"), "Update tenant settings", a.patchTenantSettings)

	// Clients (applications).
	a.handle("GET /clients", scopes("read:clients", "read:client_keys"), "", a.listClients)
	a.handle("POST /clients", scopes("create:clients"), "Create a client", a.createClient)
	a.handle("GET /clients/{id}", scopes("read:clients", "read:client_keys"), "", a.getClient)
	a.handle("PATCH /clients/{id}", scopes("update:clients", "update:client_keys"), "Update a client", a.patchClient)
	a.handle("DELETE /clients/{id}", scopes("delete:clients"), "Delete a client", deleteBy(a.cfg.Admin.DeleteClient))
	a.handle("POST /clients/{id}/rotate-secret", scopes("update:client_keys"), "Rotate a client secret", a.rotateClientSecret)
	a.handle("GET /clients/{id}/credentials", scopes("read:client_credentials"), "", a.listClientCredentials)
	a.handle("GET /clients/{id}/credentials/{credential_id}", scopes("read:client_credentials"), "", a.getClientCredential)
	a.handle("POST /clients/{id}/credentials", scopes("create:client_credentials"), "Create a client credential", a.createClientCredential)
	a.handle("DELETE /clients/{id}/credentials/{credential_id}", scopes("delete:client_credentials"), "Delete a client credential", func(w http.ResponseWriter, r *http.Request, c *Caller) error {
		return noContent(w, a.cfg.Admin.DeleteClientCredential(r.Context(), r.PathValue("id"), r.PathValue("credential_id")))
	})

	// Resource servers (APIs).
	a.handle("GET /resource-servers", scopes("read:resource_servers"), "", a.listResourceServers)
	a.handle("GET /resource-servers/{id}", scopes("read:resource_servers"), "", a.getResourceServer)
	a.handle("POST /resource-servers", scopes("create:resource_servers"), "Create a resource server", a.createResourceServer)
	a.handle("PATCH /resource-servers/{id}", scopes("update:resource_servers"), "Update a resource server", a.patchResourceServer)
	a.handle("DELETE /resource-servers/{id}", scopes("delete:resource_servers"), "Delete a resource server", deleteBy(a.cfg.Admin.DeleteAPI))

	// Client grants.
	a.handle("GET /client-grants", scopes("read:client_grants"), "", a.listClientGrants)
	a.handle("GET /client-grants/{id}", scopes("read:client_grants"), "", a.getClientGrant)
	a.handle("POST /client-grants", scopes("create:client_grants"), "Create client grant", a.createClientGrant)
	a.handle("PATCH /client-grants/{id}", scopes("update:client_grants"), "Update client grant", a.patchClientGrant)
	a.handle("DELETE /client-grants/{id}", scopes("delete:client_grants"), "Delete client grant", deleteBy(a.cfg.Admin.DeleteClientGrant))

	// Connections and their enabled clients.
	a.handle("GET /connections", scopes("read:connections"), "", a.listConnections)
	a.handle("GET /connections/{id}", scopes("read:connections"), "", a.getConnection)
	a.handle("POST /connections", scopes("create:connections"), "Create a connection", a.createConnection)
	a.handle("PATCH /connections/{id}", scopes("update:connections"), "Update a connection", a.patchConnection)
	a.handle("DELETE /connections/{id}", scopes("delete:connections"), "Delete a connection", deleteBy(a.cfg.Admin.DeleteConnectionByID))
	a.handle("GET /connections/{id}/clients", scopes("read:connections"), "", a.listConnectionClients)
	a.handle("PATCH /connections/{id}/clients", scopes("update:connections"), "Update enabled clients of a connection", a.patchConnectionClients)

	// Users, user blocks, refresh tokens, jobs and logs (users.go, userblocks.go, jobs.go,
	// logs.go).
	a.handle("GET /users", scopes("read:users"), "", a.listUsers)
	a.handle("POST /users", scopes("create:users"), "Create a user", a.createUser)
	a.handle("GET /users-by-email", scopes("read:users"), "", a.usersByEmail)
	a.handle("GET /users/{id}", scopes("read:users"), "", a.getUser)
	a.handle("PATCH /users/{id}", scopes("update:users"), "Update a user", a.updateUser)
	a.handle("DELETE /users/{id}", scopes("delete:users"), "Delete a user", a.deleteUser)
	a.handle("GET /users/{id}/permissions", scopes("read:users"), "", a.listUserPermissions)
	a.handle("POST /users/{id}/permissions", scopes("update:users"), "Assign permissions to a user", a.addUserPermissions)
	a.handle("DELETE /users/{id}/permissions", scopes("update:users"), "Remove permissions from a user", a.removeUserPermissions)
	a.handle("GET /users/{id}/enrollments", scopes("read:users"), "", a.listEnrollments)
	a.handle("DELETE /users/{id}/authenticators", scopes("delete:guardian_enrollments"), "Delete a user's authenticators", a.deleteAuthenticators)
	a.handle("DELETE /users/{id}/multifactor/{provider}", scopes("update:users"), "Delete a user's multifactor provider", a.deleteMultifactorProvider)
	a.handle("GET /users/{id}/refresh-tokens", scopes("read:refresh_tokens"), "", a.listUserRefreshTokens)
	a.handle("DELETE /users/{id}/refresh-tokens", scopes("delete:refresh_tokens"), "Delete a user's refresh tokens", a.deleteUserRefreshTokens)
	a.handle("GET /refresh-tokens/{id}", scopes("read:refresh_tokens"), "", a.getRefreshToken)
	a.handle("DELETE /refresh-tokens/{id}", scopes("delete:refresh_tokens"), "Delete a refresh token", a.deleteRefreshToken)
	a.handle("GET /user-blocks", scopes("read:users"), "", a.listUserBlocksByIdentifier)
	a.handle("DELETE /user-blocks", scopes("update:users"), "Unblock an identifier", a.deleteUserBlocksByIdentifier)
	a.handle("GET /user-blocks/{id}", scopes("read:users"), "", a.listUserBlocks)
	a.handle("DELETE /user-blocks/{id}", scopes("update:users"), "Unblock a user", a.deleteUserBlocks)
	a.handle("POST /jobs/users-imports", scopes("create:users"), "Import users", a.importUsers)
	a.handle("POST /jobs/users-exports", scopes("read:users"), "Export users", a.exportUsers)
	a.handle("GET /jobs/{id}", scopes("create:users", "read:users"), "", a.getJob)
	a.handle("GET /jobs/{id}/errors", scopes("create:users", "read:users"), "", a.getJobErrors)
	a.handle("GET /jobs/{id}/result", scopes("read:users"), "", a.getJobResult)
	a.handle("GET /logs", scopes("read:logs", "read:logs_users"), "", a.listLogs)
	a.handle("GET /logs/{id}", scopes("read:logs", "read:logs_users"), "", a.getLog)
}

// deleteBy is the handler of DELETE /<resource>/{id}: del(id), then 204 No Content.
// Connections: Auth0 answers 202 for its asynchronous delete; Sesame's is done when it answers,
// and the SDKs accept any 2xx.
func deleteBy(del func(ctx context.Context, id string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) error {
		return noContent(w, del(r.Context(), r.PathValue("id")))
	}
}

// noContent answers 204 when err is nil and returns err otherwise.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

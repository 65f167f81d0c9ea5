package mgmtapi

// scopes lists the Management API scopes of which a route's token needs any one.
func scopes(s ...string) []string { return s }

// routes registers every endpoint. Patterns are relative to the API's base (/api/v2); the
// scopes are Auth0's for each endpoint; a write names its tenant log description.
//
// To add a resource: write its handlers in <resource>.go (decode, call one admin method,
// render) and register them here, in one block per resource.
func (a *API) routes() {
	// Clients (applications).
	a.handle("GET /clients", scopes("read:clients", "read:client_keys"), "", a.listClients)
	a.handle("POST /clients", scopes("create:clients"), "Create a client", a.createClient)

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

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
}

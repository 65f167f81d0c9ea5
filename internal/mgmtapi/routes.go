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
	// Sesame extension: a test login against an ad/ldap connection's directory.
	a.handle("POST /connections/{id}/test", scopes("update:connections"), "Test a connection", a.testConnection)

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

	// Actions, their versions, triggers and bindings (actions.go).
	a.handle("GET /actions/actions", scopes("read:actions"), "", a.listActions)
	a.handle("POST /actions/actions", scopes("create:actions"), "Create an action", a.createAction)
	a.handle("GET /actions/actions/{id}", scopes("read:actions"), "", a.getAction)
	a.handle("PATCH /actions/actions/{id}", scopes("update:actions"), "Update an action", a.updateAction)
	a.handle("DELETE /actions/actions/{id}", scopes("delete:actions"), "Delete an action", a.deleteAction)
	a.handle("POST /actions/actions/{id}/deploy", scopes("create:actions"), "Deploy an action", a.deployAction)
	a.handle("POST /actions/actions/{id}/test", scopes("create:actions"), "Test an action", a.testAction)
	a.handle("GET /actions/actions/{id}/versions", scopes("read:actions"), "", a.listActionVersions)
	a.handle("GET /actions/actions/{id}/versions/{versionId}", scopes("read:actions"), "", versionHandler(http.StatusOK, a.cfg.Admin.ActionVersion))
	a.handle("POST /actions/actions/{id}/versions/{versionId}/deploy", scopes("create:actions"), "Roll back an action", versionHandler(http.StatusAccepted, a.cfg.Admin.RollbackAction))
	a.handle("GET /actions/triggers", scopes("read:actions"), "", a.listTriggers)
	a.handle("GET /actions/triggers/{triggerId}/bindings", scopes("read:actions"), "", a.listBindings)
	a.handle("PATCH /actions/triggers/{triggerId}/bindings", scopes("update:actions"), "Update trigger bindings", a.updateBindings)

	// Rules and rules configuration (rules.go).
	a.handle("GET /rules", scopes("read:rules"), "", a.listRules)
	a.handle("POST /rules", scopes("create:rules"), "Create a rule", a.createRule)
	a.handle("GET /rules/{id}", scopes("read:rules"), "", a.getRule)
	a.handle("PATCH /rules/{id}", scopes("update:rules"), "Update a rule", a.updateRule)
	a.handle("DELETE /rules/{id}", scopes("delete:rules"), "Delete a rule", deleteBy(a.cfg.Admin.DeleteRule))
	a.handle("GET /rules-configs", scopes("read:rules_configs"), "", a.listRulesConfigs)
	a.handle("PUT /rules-configs/{key}", scopes("update:rules_configs"), "Set a rules config", a.setRulesConfig)
	a.handle("DELETE /rules-configs/{key}", scopes("delete:rules_configs"), "Delete a rules config", func(w http.ResponseWriter, r *http.Request, _ *Caller) error {
		return noContent(w, a.cfg.Admin.DeleteRulesConfig(r.Context(), r.PathValue("key")))
	})

	// Attack protection (attackprotection.go).
	for _, ap := range []struct {
		path, what string
		section    attackSection
	}{
		{"brute-force-protection", "brute force protection", bruteForceSection},
		{"suspicious-ip-throttling", "suspicious IP throttling", suspiciousIPSection},
		{"breached-password-detection", "breached password detection", breachedSection},
	} {
		a.handle("GET /attack-protection/"+ap.path, scopes("read:attack_protection"), "", a.getAttackProtection(ap.section))
		a.handle("PATCH /attack-protection/"+ap.path, scopes("update:attack_protection"), "Update "+ap.what+" settings",
			a.patchAttackProtection(ap.section))
	}

	// Guardian: MFA factors and policies (guardian.go).
	a.handle("GET /guardian/factors", scopes("read:guardian_factors"), "", a.listGuardianFactors)
	a.handle("PUT /guardian/factors/{name}", scopes("update:guardian_factors"), "Update a guardian factor", a.setGuardianFactor)
	a.handle("GET /guardian/policies", scopes("read:mfa_policies"), "", a.getGuardianPolicies)
	a.handle("PUT /guardian/policies", scopes("update:mfa_policies"), "Set the MFA policies", a.setGuardianPolicies)
	a.handle("GET /guardian/factors/phone/message-types", scopes("read:guardian_factors"), "", a.getPhoneMessageTypes)
	a.handle("PUT /guardian/factors/phone/message-types", scopes("update:guardian_factors"), "Update the phone message types", a.setPhoneMessageTypes)

	// Signing keys (keys.go).
	a.handle("GET /keys/signing", scopes("read:signing_keys"), "", a.listSigningKeys)
	a.handle("GET /keys/signing/{kid}", scopes("read:signing_keys"), "", a.getSigningKey)
	a.handle("POST /keys/signing/rotate", scopes("create:signing_keys", "update:signing_keys"), "Rotate the signing keys", a.rotateSigningKeys)
	a.handle("PUT /keys/signing/{kid}/revoke", scopes("update:signing_keys"), "Revoke a signing key", a.revokeSigningKey)
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

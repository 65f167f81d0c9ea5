package compat_test

import (
	"fmt"
	"testing"
)

// TestNodeManagementClient drives the Management API with the Auth0 Node SDK's
// ManagementClient (compat/node/management.cjs): CRUD on clients, resource servers, client
// grants, connections and users, user search, paging through 1,000 users, user blocks, logs,
// and Auth0's exact 403 body for a token lacking the scope.
func TestNodeManagementClient(t *testing.T) {
	const domain, count = "node-paging.compat.test", 1000
	// Before runNode makes the test parallel: the import job is the heaviest step here.
	importPagingUsers(t, managementClient(t), domain, count)
	r := runNode(t, "management.cjs", "node.mgmt@example.com",
		"SESAME_MGMT_CLIENT_ID="+mgmtClientID, "SESAME_MGMT_CLIENT_SECRET="+mgmtClientSecret,
		"SESAME_MGMT_RO_CLIENT_ID="+mgmtROClientID, "SESAME_MGMT_RO_CLIENT_SECRET="+mgmtROClientSecret,
		"SESAME_PAGING_DOMAIN="+domain, fmt.Sprintf("SESAME_PAGING_COUNT=%d", count))

	type facts = map[string]any
	checkFields(t, "clients/create", ok[facts](t, r, "clients/create"),
		facts{"has_id": true, "has_secret": true, "name": "Node Mgmt App", "app_type": "non_interactive"})
	// A read never shows a secret: Sesame keeps only its hash.
	checkFields(t, "clients/get", ok[facts](t, r, "clients/get"), facts{"name": "Node Mgmt App", "has_secret": false})
	checkFields(t, "clients/update", ok[facts](t, r, "clients/update"), facts{"name": "Node Mgmt App", "description": "from node-auth0"})
	checkFields(t, "clients/rotate_secret", ok[facts](t, r, "clients/rotate_secret"), facts{"has_secret": true})
	list := ok[facts](t, r, "clients/list_by_twos")
	checkFields(t, "clients/list_by_twos", list, facts{"has_node_app": true, "has_compat_app": true})
	if list["count"] != list["distinct"] {
		t.Errorf("clients/list_by_twos: %v clients but %v distinct ids: a page repeated", list["count"], list["distinct"])
	}

	checkFields(t, "resource_servers/create", ok[facts](t, r, "resource_servers/create"),
		facts{"has_id": true, "identifier": "https://node-mgmt.compat.test/", "scopes": []any{"read:node"}})
	checkFields(t, "resource_servers/get", ok[facts](t, r, "resource_servers/get"), facts{"name": "Node Mgmt API"})
	checkFields(t, "resource_servers/update", ok[facts](t, r, "resource_servers/update"), facts{"token_lifetime": 900, "name": "Node Mgmt API"})
	checkFields(t, "resource_servers/list", ok[facts](t, r, "resource_servers/list"), facts{"has_node_api": true})

	checkFields(t, "client_grants/create", ok[facts](t, r, "client_grants/create"),
		facts{"has_id": true, "client_id_matches": true, "scope": []any{"read:node"}})
	checkFields(t, "client_grants/update", ok[facts](t, r, "client_grants/update"), facts{"scope": []any{}})
	grants := ok[facts](t, r, "client_grants/list_checkpoint")
	checkFields(t, "client_grants/list_checkpoint", grants, facts{"mine": 1})
	if n, _ := grants["count"].(float64); n < 4 || grants["count"] != grants["distinct"] {
		t.Errorf("client_grants/list_checkpoint: %v", grants)
	}
	ok[facts](t, r, "client_grants/delete")

	checkFields(t, "connections/create", ok[facts](t, r, "connections/create"), facts{"has_id": true, "name": "node-mgmt-users", "strategy": "auth0"})
	checkFields(t, "connections/list_by_name", ok[facts](t, r, "connections/list_by_name"), facts{"ids_match": true})
	checkFields(t, "connections/get", ok[facts](t, r, "connections/get"), facts{"name": "node-mgmt-users", "strategy": "auth0"})
	checkFields(t, "connections/update", ok[facts](t, r, "connections/update"), facts{"password_policy": "good"})
	ok[facts](t, r, "connections/delete")

	created := ok[facts](t, r, "users/create")
	checkFields(t, "users/create", created, facts{"email": "node.mgmt@example.com"})
	if id, _ := created["user_id"].(string); len(id) < 7 || id[:6] != "auth0|" {
		t.Errorf("users/create: user_id %q, want auth0|<id>", id)
	}
	checkFields(t, "users/get", ok[facts](t, r, "users/get"), facts{"email": "node.mgmt@example.com"})
	checkFields(t, "users/update_metadata", ok[facts](t, r, "users/update_metadata"),
		facts{"user_metadata": map[string]any{"lang": "en", "team": "a"}})
	checkFields(t, "users/by_email", ok[facts](t, r, "users/by_email"), facts{"count": 1, "id_matches": true})
	checkFields(t, "users/search", ok[facts](t, r, "users/search"), facts{"count": 1, "id_matches": true})
	checkFields(t, "user_blocks/by_identifier", ok[facts](t, r, "user_blocks/by_identifier"), facts{"blocked_for": []any{}})
	checkFields(t, "user_blocks/by_id", ok[facts](t, r, "user_blocks/by_id"), facts{"blocked_for": []any{}})
	ok[facts](t, r, "user_blocks/unblock")
	ok[facts](t, r, "users/delete")
	checkFields(t, "users/get_deleted", ok[facts](t, r, "users/get_deleted"), facts{"name": "NotFoundError", "statusCode": 404})

	checkFields(t, "users/paging", ok[facts](t, r, "users/paging"), facts{"count": count, "in_order": true})

	checkFields(t, "logs/list", ok[facts](t, r, "logs/list"), facts{"type": "sapi", "has_id": true})
	checkFields(t, "logs/get", ok[facts](t, r, "logs/get"), facts{"type": "sapi", "id_matches": true})

	ok[facts](t, r, "clients/delete")
	checkFields(t, "clients/get_deleted", ok[facts](t, r, "clients/get_deleted"), facts{"name": "NotFoundError", "statusCode": 404})

	if n, _ := ok[facts](t, r, "scope/reader_lists_clients")["count"].(float64); n < 1 {
		t.Errorf("scope/reader_lists_clients: the read:clients token listed no clients")
	}
	denied := ok[facts](t, r, "scope/reader_creates_client")
	checkFields(t, "scope/reader_creates_client", denied, facts{"name": "ForbiddenError", "statusCode": 403})
	want := map[string]any{"statusCode": float64(403), "error": "Forbidden",
		"message": "Insufficient scope, expected any of: create:clients", "errorCode": "insufficient_scope"}
	body, _ := denied["body"].(map[string]any)
	if len(body) != len(want) {
		t.Errorf("scope/reader_creates_client: body %v, want exactly %v", denied["body"], want)
	}
	checkFields(t, "scope/reader_creates_client body", body, want)
}

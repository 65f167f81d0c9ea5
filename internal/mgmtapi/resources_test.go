package mgmtapi_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
)

// TestResourceServers: CRUD, the Management API listed as a system API that cannot be
// changed or deleted, look-up by id or identifier.
func TestResourceServers(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:resource_servers", "create:resource_servers", "update:resource_servers", "delete:resource_servers")
	r := e.do(t, "POST", "/resource-servers", tok, map[string]any{"identifier": "https://orders.example.com/", "name": "Orders",
		"scopes": []any{map[string]any{"value": "read:orders", "description": "Read orders"}}, "token_lifetime": 600})
	if r.status != 201 || r.obj(t)["id"] == "" || r.obj(t)["signing_alg"] != "RS256" || r.obj(t)["token_lifetime"] != float64(600) {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["id"].(string)

	list := e.do(t, "GET", "/resource-servers?include_totals=true", tok, nil).obj(t)
	if list["total"] != float64(2) {
		t.Fatalf("list: %v", list)
	}
	var mgmt map[string]any
	for _, it := range list["resource_servers"].([]any) {
		if m := it.(map[string]any); m["name"] == admin.ManagementAPIName {
			mgmt = m
		}
	}
	if mgmt == nil || mgmt["is_system"] != true || mgmt["identifier"] != admin.ManagementAudience(testIssuer) ||
		len(mgmt["scopes"].([]any)) != len(admin.ManagementScopes) {
		t.Fatalf("Management API not listed as Auth0 lists it: %v", mgmt)
	}

	for _, ref := range []string{id, url.PathEscape("https://orders.example.com/")} {
		if r := e.do(t, "GET", "/resource-servers/"+ref, tok, nil); r.status != 200 || r.obj(t)["name"] != "Orders" {
			t.Errorf("get %s: %d %s", ref, r.status, r.raw)
		}
	}
	r = e.do(t, "PATCH", "/resource-servers/"+id, tok, map[string]any{"allow_offline_access": true})
	if p := r.obj(t); r.status != 200 || p["allow_offline_access"] != true || p["name"] != "Orders" || len(p["scopes"].([]any)) != 1 {
		t.Errorf("patch: %d %s", r.status, r.raw)
	}
	mgmtID := mgmt["id"].(string)
	e.runErrCases(t, tok, []errCase{
		{"duplicate", "POST", "/resource-servers", map[string]any{"identifier": "https://orders.example.com/"}, 409, "resource_server_conflict"},
		{"reserved identifier", "POST", "/resource-servers", map[string]any{"identifier": "https://acme.eu.auth0.com/api/v2/"}, 400, "invalid_body"},
		{"bad alg", "PATCH", "/resource-servers/" + id, map[string]any{"signing_alg": "none"}, 400, "invalid_body"},
		{"system patch", "PATCH", "/resource-servers/" + mgmtID, map[string]any{"name": "Mine"}, 400, "invalid_body"},
		{"system delete", "DELETE", "/resource-servers/" + mgmtID, nil, 400, "invalid_body"},
		{"unknown", "GET", "/resource-servers/nope", nil, 404, "inexistent_resource_server"},
	})
	if r := e.do(t, "DELETE", "/resource-servers/"+id, tok, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", "/resource-servers/"+id, tok, nil); r.status != 404 {
		t.Errorf("get after delete: %d", r.status)
	}
}

// TestClientGrants: CRUD with the audience and client_id filters, both paging styles, and an
// Auth0 tenant's Management API audience taken as this server's.
func TestClientGrants(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:client_grants", "create:client_grants", "update:client_grants", "delete:client_grants")
	var ids []string
	for i := range 3 {
		c := e.mustClient(t, admin.ClientInput{Name: fmt.Sprintf("m2m-%d", i), AppType: admin.AppNonInteractive,
			GrantTypes: []string{admin.GrantClientCredentials}})
		ids = append(ids, c.ClientID)
		r := e.do(t, "POST", "/client-grants", tok, map[string]any{"client_id": c.ClientID,
			"audience": "https://acme.eu.auth0.com/api/v2/", "scope": []string{"read:users"}})
		if r.status != 201 || r.obj(t)["audience"] != admin.ManagementAudience(testIssuer) {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
	}
	r := e.do(t, "GET", "/client-grants?client_id="+ids[1], tok, nil)
	if got := r.arr(t); r.status != 200 || len(got) != 1 || got[0].(map[string]any)["client_id"] != ids[1] {
		t.Fatalf("filter client_id: %s", r.raw)
	}
	gid := r.arr(t)[0].(map[string]any)["id"].(string)
	if got := e.do(t, "GET", "/client-grants?audience="+url.QueryEscape("https://other.example/"), tok, nil).arr(t); len(got) != 0 {
		t.Errorf("filter audience: %v", got)
	}
	// Checkpoint paging walks every grant once, in pages of two.
	seen := map[string]bool{}
	q := "?take=2"
	for pages := 0; ; pages++ {
		o := e.do(t, "GET", "/client-grants"+q, tok, nil).obj(t)
		for _, g := range o["client_grants"].([]any) {
			seen[g.(map[string]any)["id"].(string)] = true
		}
		next, ok := o["next"].(string)
		if !ok {
			if pages != 1 {
				t.Errorf("%d pages, want 2", pages+1)
			}
			break
		}
		q = "?take=2&include_totals=true&from=" + next
	}
	if len(seen) != 3 {
		t.Errorf("checkpoint paging saw %d grants, want 3", len(seen))
	}
	if o := e.do(t, "GET", "/client-grants?per_page=2&page=1&include_totals=true", tok, nil).obj(t); o["total"] != float64(3) || len(o["client_grants"].([]any)) != 1 {
		t.Errorf("offset paging: %v", o)
	}
	r = e.do(t, "PATCH", "/client-grants/"+gid, tok, map[string]any{"scope": []string{"read:users", "update:users"}})
	if r.status != 200 || len(r.obj(t)["scope"].([]any)) != 2 {
		t.Errorf("patch: %d %s", r.status, r.raw)
	}
	e.runErrCases(t, tok, []errCase{
		{"duplicate", "POST", "/client-grants", map[string]any{"client_id": ids[0], "audience": admin.ManagementAudience(testIssuer)}, 409, "client_grant_conflict"},
		{"unknown scope", "PATCH", "/client-grants/" + gid, map[string]any{"scope": []string{"launch:rockets"}}, 400, "invalid_body"},
		{"unknown API", "POST", "/client-grants", map[string]any{"client_id": ids[0], "audience": "https://nope.example/"}, 404, "inexistent_resource_server"},
		{"unknown client", "POST", "/client-grants", map[string]any{"client_id": "nope", "audience": admin.ManagementAudience(testIssuer)}, 404, "inexistent_client"},
		{"bad cursor", "GET", "/client-grants?from=!!", nil, 400, "invalid_query_string"},
		{"unknown grant", "DELETE", "/client-grants/cgr_nope", nil, 404, "inexistent_client_grant"},
	})
	if r := e.do(t, "DELETE", "/client-grants/"+gid, tok, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
}

// TestConnections: CRUD with the strategy and name filters (what the Deploy CLI sends), options
// replaced on PATCH, and the enabled clients read and changed through /connections/{id}/clients.
func TestConnections(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:connections", "create:connections", "update:connections", "delete:connections")
	app := e.mustClient(t, admin.ClientInput{Name: "App"})
	other := e.mustClient(t, admin.ClientInput{Name: "Other"})
	r := e.do(t, "POST", "/connections", tok, map[string]any{"name": "Username-Password-Authentication", "strategy": "auth0",
		"options":         map[string]any{"passwordPolicy": "good", "disable_self_service_change_password": false},
		"enabled_clients": []string{app.ClientID}})
	if r.status != 201 || r.obj(t)["strategy"] != "auth0" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["id"].(string)
	if _, err := e.svc.CreateConnection(t.Context(), "staff", "", nil); err != nil {
		t.Fatal(err)
	}
	// What the Deploy CLI does after creating a database.
	o := e.do(t, "GET", "/connections?take=1&name=Username-Password-Authentication&strategy=auth0", tok, nil).obj(t)
	if got := o["connections"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != id || o["next"] != nil {
		t.Fatalf("name filter: %v", o)
	}
	if got := e.do(t, "GET", "/connections?strategy=auth0", tok, nil).arr(t); len(got) != 2 {
		t.Errorf("strategy filter: %v", got)
	}
	if got := e.do(t, "GET", "/connections?strategy=google-oauth2", tok, nil).arr(t); len(got) != 0 {
		t.Errorf("strategy filter: %v", got)
	}
	o = e.do(t, "GET", "/connections?take=1", tok, nil).obj(t)
	if o["next"] == nil {
		t.Fatalf("first of two pages has no next: %v", o)
	}
	if o2 := e.do(t, "GET", "/connections?take=1&from="+o["next"].(string), tok, nil).obj(t); len(o2["connections"].([]any)) != 1 || o2["next"] != nil {
		t.Errorf("second page: %v", o2)
	}

	r = e.do(t, "PATCH", "/connections/"+id, tok, map[string]any{"options": map[string]any{"requires_username": true}})
	if opts := r.obj(t)["options"].(map[string]any); r.status != 200 || opts["requires_username"] != true || opts["passwordPolicy"] != nil {
		t.Errorf("patch options: %d %s", r.status, r.raw)
	}

	if r := e.do(t, "PATCH", "/connections/"+id+"/clients", tok, []any{
		map[string]any{"client_id": other.ClientID, "status": true}, map[string]any{"client_id": app.ClientID, "status": false}}); r.status != 204 {
		t.Fatalf("patch clients: %d %s", r.status, r.raw)
	}
	o = e.do(t, "GET", "/connections/"+id+"/clients", tok, nil).obj(t)
	if got := o["clients"].([]any); len(got) != 1 || got[0].(map[string]any)["client_id"] != other.ClientID {
		t.Errorf("enabled clients: %v", o)
	}
	if got := e.do(t, "GET", "/connections/"+id, tok, nil).obj(t)["enabled_clients"].([]any); len(got) != 1 || got[0] != other.ClientID {
		t.Errorf("enabled_clients: %v", got)
	}

	e.runErrCases(t, tok, []errCase{
		{"duplicate", "POST", "/connections", map[string]any{"name": "staff", "strategy": "auth0"}, 409, "connection_conflict"},
		{"bad strategy", "POST", "/connections", map[string]any{"name": "x", "strategy": "samlp"}, 400, "invalid_body"},
		{"unknown client", "PATCH", "/connections/" + id + "/clients", []any{map[string]any{"client_id": "nope", "status": true}}, 400, "invalid_body"},
		{"no status", "PATCH", "/connections/" + id + "/clients", []any{map[string]any{"client_id": app.ClientID}}, 400, "invalid_body"},
		{"unknown", "GET", "/connections/con_nope", nil, 404, "inexistent_connection"},
	})
	if r := e.do(t, "DELETE", "/connections/"+id, tok, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", "/connections/"+id, tok, nil); r.status != 404 {
		t.Errorf("get after delete: %d", r.status)
	}
}

// TestTenantSettings: read and patch; only the settings given change, and they are checked.
func TestTenantSettings(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:tenant_settings", "update:tenant_settings")
	if _, err := e.svc.CreateConnection(t.Context(), "users", "", nil); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "PATCH", "/tenants/settings", tok, map[string]any{"friendly_name": "Acme", "default_directory": "users",
		"support_email": "ignored@example.com", "flags": map[string]any{"revoke_refresh_token_grant": true, "enable_client_connections": false}})
	if r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	r = e.do(t, "PATCH", "/tenants/settings", tok, map[string]any{"default_audience": "https://acme.eu.auth0.com/api/v2/"})
	got := r.obj(t)
	if r.status != 200 || got["friendly_name"] != "Acme" || got["default_directory"] != "users" ||
		got["default_audience"] != admin.ManagementAudience(testIssuer) || got["flags"].(map[string]any)["revoke_refresh_token_grant"] != true {
		t.Errorf("settings: %d %s", r.status, r.raw)
	}
	if g := e.do(t, "GET", "/tenants/settings", tok, nil).obj(t); g["friendly_name"] != "Acme" {
		t.Errorf("get: %v", g)
	}
	for _, body := range []map[string]any{{"default_directory": "nope"}, {"default_audience": "https://nope.example/"}} {
		if r := e.do(t, "PATCH", "/tenants/settings", tok, body); r.status != 400 || r.obj(t)["errorCode"] != "invalid_body" {
			t.Errorf("%v: %d %s", body, r.status, r.raw)
		}
	}
	wantError(t, e.do(t, "PATCH", "/tenants/settings", e.token(t, "read:tenant_settings"), map[string]any{}), 403,
		"insufficient_scope", "Insufficient scope, expected any of: update:tenant_settings")
}

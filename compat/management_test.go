package compat_test

import (
	"errors"
	"testing"

	"github.com/auth0/go-auth0/v3/management"
	mgmtclient "github.com/auth0/go-auth0/v3/management/client"
	"github.com/auth0/go-auth0/v3/management/option"
)

// The tenant file's management clients: their client grants name the Management API as an
// Auth0 export does (https://acme.eu.auth0.com/api/v2/), which means this server's.
const (
	mgmtClientID       = "compat-mgmt-app-0000000000000008"
	mgmtClientSecret   = "compat-mgmt-secret-0123456789abcdef0123456789a"
	mgmtROClientID     = "compat-mgmt-ro-app-0000000000009"
	mgmtROClientSecret = "compat-mgmt-ro-secret-0123456789abcdef012345678"
)

// newManagement is go-auth0's management client for srv, authenticated with the client
// credentials grant for the Management API audience (go-auth0 asks for https://DOMAIN/api/v2/).
func newManagement(t *testing.T, id, secret string) *mgmtclient.Management {
	t.Helper()
	m, err := mgmtclient.New(srv.hostPort, option.WithHTTPClient(srv.httpClient()),
		option.WithClientCredentials(oauth2Context(t), id, secret), option.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManagementWithGoAuth0 drives the Management API with go-auth0's management package:
// CRUD on clients, resource servers, client grants and connections, and the tenant settings.
func TestManagementWithGoAuth0(t *testing.T) {
	ctx := t.Context()
	m := newManagement(t, mgmtClientID, mgmtClientSecret)

	// Clients.
	created, err := m.Clients.Create(ctx, &management.CreateClientRequestContent{Name: "SDK App",
		AppType: management.ClientAppTypeEnumNonInteractive.Ptr(), GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatalf("Clients.Create: %v", err)
	}
	if created.GetClientID() == "" || created.GetClientSecret() == "" {
		t.Fatalf("created client %+v lacks an id or secret", created)
	}
	id := created.GetClientID()
	got, err := m.Clients.Get(ctx, id, &management.GetClientRequestParameters{})
	if err != nil || got.GetName() != "SDK App" {
		t.Fatalf("Clients.Get: %+v %v", got, err)
	}
	updated, err := m.Clients.Update(ctx, id, &management.UpdateClientRequestContent{Description: management.String("from go-auth0")})
	if err != nil || updated.GetDescription() != "from go-auth0" || updated.GetName() != "SDK App" {
		t.Fatalf("Clients.Update: %+v %v", updated, err)
	}
	rotated, err := m.Clients.RotateSecret(ctx, id)
	if err != nil || rotated.GetClientSecret() == "" || rotated.GetClientSecret() == created.GetClientSecret() {
		t.Fatalf("Clients.RotateSecret: %v", err)
	}
	page, err := m.Clients.List(ctx, &management.ListClientsRequestParameters{PerPage: management.Int(2)})
	if err != nil {
		t.Fatalf("Clients.List: %v", err)
	}
	names := map[string]bool{}
	for it := page.Iterator(); it.Next(ctx); {
		names[it.Current().GetName()] = true
	}
	if !names["SDK App"] || !names["Compat App"] || !names["Compat Management"] {
		t.Errorf("paging through clients by twos missed some: %v", names)
	}

	// Resource servers.
	rs, err := m.ResourceServers.Create(ctx, &management.CreateResourceServerRequestContent{Identifier: "https://sdk.compat.test/",
		Name: management.String("SDK API"), Scopes: []*management.ResourceServerScope{{Value: "read:sdk"}}})
	if err != nil || rs.GetID() == "" {
		t.Fatalf("ResourceServers.Create: %+v %v", rs, err)
	}
	if u, err := m.ResourceServers.Update(ctx, rs.GetID(), &management.UpdateResourceServerRequestContent{TokenLifetime: management.Int(900)}); err != nil || u.GetTokenLifetime() != 900 {
		t.Fatalf("ResourceServers.Update: %+v %v", u, err)
	}
	if got, err := m.ResourceServers.Get(ctx, rs.GetID(), &management.GetResourceServerRequestParameters{}); err != nil || got.GetName() != "SDK API" || got.GetTokenLifetime() != 900 {
		t.Fatalf("ResourceServers.Get: %+v %v", got, err)
	}

	// Client grants, walked with the checkpoint pager.
	g, err := m.ClientGrants.Create(ctx, &management.CreateClientGrantRequestContent{ClientID: management.String(id),
		Audience: "https://sdk.compat.test/", Scope: []string{"read:sdk"}})
	if err != nil || g.GetID() == "" {
		t.Fatalf("ClientGrants.Create: %+v %v", g, err)
	}
	if _, err := m.ClientGrants.Update(ctx, g.GetID(), &management.UpdateClientGrantRequestContent{Scope: []string{}}); err != nil {
		t.Fatalf("ClientGrants.Update: %v", err)
	}
	grants, err := m.ClientGrants.List(ctx, &management.ListClientGrantsRequestParameters{Take: management.Int(1)})
	if err != nil {
		t.Fatalf("ClientGrants.List: %v", err)
	}
	var seen, mine int
	for it := grants.Iterator(); it.Next(ctx); {
		seen++
		if it.Current().GetID() == g.GetID() {
			mine++
		}
	}
	if seen < 4 || mine != 1 {
		t.Errorf("checkpoint paging saw %d grants (%d of ours), want every grant once", seen, mine)
	}
	if err := m.ClientGrants.Delete(ctx, g.GetID()); err != nil {
		t.Fatalf("ClientGrants.Delete: %v", err)
	}

	// Connections.
	conn, err := m.Connections.Create(ctx, &management.CreateConnectionRequestContent{Name: "sdk-users",
		Strategy: management.ConnectionIdentityProviderEnumAuth0, EnabledClients: []string{id}})
	if err != nil || conn.GetID() == "" {
		t.Fatalf("Connections.Create: %+v %v", conn, err)
	}
	conns, err := m.Connections.List(ctx, &management.ListConnectionsQueryParameters{Name: management.String("sdk-users")})
	if err != nil || len(conns.Results) != 1 || conns.Results[0].GetID() != conn.GetID() {
		t.Fatalf("Connections.List by name: %v", err)
	}
	if got, err := m.Connections.Get(ctx, conn.GetID(), &management.GetConnectionRequestParameters{}); err != nil || got.GetName() != "sdk-users" || got.GetStrategy() != "auth0" {
		t.Fatalf("Connections.Get: %+v %v", got, err)
	}
	if _, err := m.Connections.Update(ctx, conn.GetID(), &management.UpdateConnectionRequestContent{EnabledClients: []string{}}); err != nil {
		t.Fatalf("Connections.Update: %v", err)
	}
	if err := m.Connections.Delete(ctx, conn.GetID()); err != nil {
		t.Fatalf("Connections.Delete: %v", err)
	}

	// Tenant settings.
	ts, err := m.Tenants.Settings.Update(ctx, &management.UpdateTenantSettingsRequestContent{FriendlyName: management.String("Compat Tenant")})
	if err != nil || ts.GetFriendlyName() != "Compat Tenant" {
		t.Fatalf("Tenants.Settings.Update: %+v %v", ts, err)
	}
	if ts, err := m.Tenants.Settings.Get(ctx, &management.GetTenantSettingsRequestParameters{}); err != nil || ts.GetFriendlyName() != "Compat Tenant" {
		t.Fatalf("Tenants.Settings.Get: %+v %v", ts, err)
	}

	// Clean up what other tests might list.
	if err := m.ResourceServers.Delete(ctx, rs.GetID()); err != nil {
		t.Fatalf("ResourceServers.Delete: %v", err)
	}
	if err := m.Clients.Delete(ctx, id); err != nil {
		t.Fatalf("Clients.Delete: %v", err)
	}
	var nf *management.NotFoundError
	if _, err := m.Clients.Get(ctx, id, &management.GetClientRequestParameters{}); !errors.As(err, &nf) {
		t.Errorf("Clients.Get after delete: %v, want a NotFoundError", err)
	}
}

// TestManagementInsufficientScope: a token lacking the scope gets Auth0's exact 403 body.
func TestManagementInsufficientScope(t *testing.T) {
	m := newManagement(t, mgmtROClientID, mgmtROClientSecret)
	_, err := m.Clients.Create(t.Context(), &management.CreateClientRequestContent{Name: "Not Allowed"})
	var fe *management.ForbiddenError
	if !errors.As(err, &fe) {
		t.Fatalf("Clients.Create without create:clients: %v, want a ForbiddenError", err)
	}
	want := map[string]any{"statusCode": float64(403), "error": "Forbidden",
		"message": "Insufficient scope, expected any of: create:clients", "errorCode": "insufficient_scope"}
	body, _ := fe.Body.(map[string]any)
	if len(body) != len(want) {
		t.Errorf("body %v, want %v", fe.Body, want)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%s] = %v, want %v", k, body[k], v)
		}
	}
	if _, err := m.Clients.List(t.Context(), &management.ListClientsRequestParameters{}); err != nil {
		t.Errorf("Clients.List with read:clients: %v", err)
	}
}

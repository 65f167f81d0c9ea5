package admin_test

import (
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// TestManagementAPIFollowsTheIssuer: a tenant file applied by a command that did not know the
// server's issuer grants the Management API under another audience; the server's start moves
// those grants to its own Management API, and an Auth0 tenant's audience means it.
func TestManagementAPIFollowsTheIssuer(t *testing.T) {
	svc, _ := crudService(t)
	ctx := t.Context()
	svc.ManagementAudience = admin.ManagementAudience("http://localhost:8080/")
	if err := svc.EnsureManagementAPI(ctx); err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.CreateClient(ctx, admin.ClientInput{Name: "Deploy", AppType: admin.AppNonInteractive, GrantTypes: []string{admin.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.CreateClientGrant(ctx, admin.ClientGrantInput{ClientID: c.ClientID, Audience: "https://acme.eu.auth0.com/api/v2/", Scope: []string{"read:users"}})
	if err != nil || g.Audience != "http://localhost:8080/api/v2/" {
		t.Fatalf("grant %+v, %v", g, err)
	}

	svc.ManagementAudience = admin.ManagementAudience("https://auth.example.com/")
	for range 2 { // idempotent
		if err := svc.EnsureManagementAPI(ctx); err != nil {
			t.Fatal(err)
		}
	}
	apis, err := svc.ListAPIs(ctx)
	if err != nil || len(apis) != 1 || apis[0].Identifier != "https://auth.example.com/api/v2/" || !apis[0].EnforcePolicies {
		t.Fatalf("APIs after the issuer changed: %+v %v", apis, err)
	}
	grants, err := svc.ListClientGrants(ctx, store.ClientGrantFilter{ClientID: c.ClientID})
	if err != nil || len(grants) != 1 || grants[0].Audience != "https://auth.example.com/api/v2/" || grants[0].Scope[0] != "read:users" {
		t.Fatalf("grants after the issuer changed: %+v %v", grants, err)
	}
	if _, err := svc.CreateAPI(ctx, admin.APIInput{Identifier: "https://other.example/api/v2/"}); admin.Status(err) != 400 {
		t.Errorf("an API with a Management API audience: %v, want a validation error", err)
	}
}

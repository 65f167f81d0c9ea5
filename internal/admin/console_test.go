package admin_test

import (
	"slices"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
)

// TestEnsureConsoleClient: the console's application is made once, public, with the issuer
// as its only web origin and enabled on the database connections of that moment; a second
// call finds it (the administrator's later choice of connections stands), and a new issuer
// adds its origin.
func TestEnsureConsoleClient(t *testing.T) {
	ctx := t.Context()
	s, _ := crudService(t)
	if _, err := s.CreateConnection(ctx, "db", "auth0", nil); err != nil {
		t.Fatal(err)
	}
	c, err := s.EnsureConsoleClient(ctx, "https://id.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != admin.ConsoleClientID || c.Name != admin.ConsoleClientName || c.AppType != admin.AppSPA || c.TokenEndpointAuthMethod != "none" {
		t.Errorf("console client %q type %q auth %q, want a public spa named %q", c.Name, c.AppType, c.TokenEndpointAuthMethod, admin.ConsoleClientName)
	}
	if !slices.Equal(c.WebOrigins, []string{"https://id.example.com"}) {
		t.Errorf("web origins %v, want the issuer's origin", c.WebOrigins)
	}
	if !slices.Contains(c.GrantTypes, admin.GrantPasswordRealm) || slices.Contains(c.GrantTypes, admin.GrantRefreshToken) {
		t.Errorf("grant types %v: want password-realm and no refresh token (tokens stay in memory)", c.GrantTypes)
	}
	realms, err := s.ConsoleRealms(ctx, c.ClientID)
	if err != nil || !slices.Equal(realms, []string{"db"}) {
		t.Errorf("ConsoleRealms = %v, %v; want [db]", realms, err)
	}

	// The administrator takes the console off the connection: a restart does not undo it.
	if err := s.DisableClient(ctx, "db", c.ClientID); err != nil {
		t.Fatal(err)
	}
	again, err := s.EnsureConsoleClient(ctx, "https://id.example.com/")
	if err != nil || again.ClientID != c.ClientID {
		t.Fatalf("second EnsureConsoleClient: %v, client %q; want the same client %q", err, again.ClientID, c.ClientID)
	}
	if realms, _ := s.ConsoleRealms(ctx, c.ClientID); len(realms) != 0 {
		t.Errorf("after disabling and a restart the console may use %v, want none", realms)
	}

	moved, err := s.EnsureConsoleClient(ctx, "https://login.example.com:8443/")
	if err != nil {
		t.Fatal(err)
	}
	if moved.ClientID != c.ClientID || !slices.Contains(moved.WebOrigins, "https://login.example.com:8443") {
		t.Errorf("after an issuer change: client %q origins %v", moved.ClientID, moved.WebOrigins)
	}
	all, err := s.ListClients(ctx)
	if err != nil || len(all) != 1 {
		t.Errorf("%d clients (%v), want only the console's", len(all), err)
	}
}

// TestGrantAdmin: grant-admin gives every Management API permission, once, and refuses an
// unknown user.
func TestGrantAdmin(t *testing.T) {
	ctx := t.Context()
	s, _ := crudService(t)
	s.ManagementAudience = admin.ManagementAudience("https://id.example.com/")
	if err := s.EnsureManagementAPI(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateConnection(ctx, "db", "", nil); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, admin.UserInput{Connection: "db", Email: "root@example.com", Password: "Secret123"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.GrantAdmin(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	perms, err := s.UserPermissions(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(perms) != len(admin.ManagementScopes) {
		t.Errorf("%d permissions after granting twice, want %d", len(perms), len(admin.ManagementScopes))
	}
	for _, p := range perms {
		if p.ResourceServerIdentifier != s.ManagementAudience {
			t.Errorf("permission %s for %s, want the Management API", p.PermissionName, p.ResourceServerIdentifier)
		}
	}
	if err := s.GrantAdmin(ctx, "auth0|nobody"); err == nil {
		t.Error("GrantAdmin of an unknown user succeeded")
	}
}

// TestApplyAdminPermissions: a tenant file grants console access with a user's permissions
// on any tenant's https://<host>/api/v2/, which means this server's Management API.
func TestApplyAdminPermissions(t *testing.T) {
	ctx := t.Context()
	s, _ := crudService(t)
	s.ManagementAudience = admin.ManagementAudience("https://id.example.com/")
	if err := s.EnsureManagementAPI(ctx); err != nil {
		t.Fatal(err)
	}
	applyOK(t, s, applyParse(t, `
databases:
  - name: db
    strategy: auth0
users:
  - connection: db
    email: ops@example.com
    password: "Secret123 long"
    permissions:
      - {resource_server_identifier: "https://acme.eu.auth0.com/api/v2/", permission_name: read:users}
      - {resource_server_identifier: "https://acme.eu.auth0.com/api/v2/", permission_name: read:logs}
`))
	us, err := s.FindUsers(ctx, "ops@example.com")
	if err != nil || len(us) != 1 {
		t.Fatalf("FindUsers: %v %v", us, err)
	}
	perms, err := s.UserPermissions(ctx, us[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(perms) != 2 {
		t.Fatalf("permissions %+v, want read:users and read:logs", perms)
	}
	for _, p := range perms {
		if p.ResourceServerIdentifier != s.ManagementAudience {
			t.Errorf("permission %s stored for %q, want this server's Management API %q", p.PermissionName, p.ResourceServerIdentifier, s.ManagementAudience)
		}
	}
}

// TestEnsureConsoleClientParallel: nodes starting together (here, goroutines on one
// database, repeated) end with one console client, enabled once on the connection.
func TestEnsureConsoleClientParallel(t *testing.T) {
	for round := range 5 {
		s, _ := crudService(t)
		if _, err := s.CreateConnection(t.Context(), "db", "auth0", nil); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := s.EnsureConsoleClient(t.Context(), "https://id.example.com/")
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		all, err := s.ListClients(t.Context())
		if err != nil || len(all) != 1 {
			t.Fatalf("round %d: %d clients (%v), want one console client", round, len(all), err)
		}
		conn, err := s.GetConnection(t.Context(), "db")
		if err != nil || !slices.Equal(conn.EnabledClients, []string{admin.ConsoleClientID}) {
			t.Fatalf("round %d: enabled clients %v (%v)", round, conn.EnabledClients, err)
		}
	}
}

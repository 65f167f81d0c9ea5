package admin_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// TestApplyPasswordlessConnections: the tenant file's connections section carries email and
// sms connections with Auth0's options and the passwordless grant; options Sesame cannot
// honour are problems at their path, and nothing is written.
func TestApplyPasswordlessConnections(t *testing.T) {
	s := applyService(t)
	applyOK(t, s, applyParse(t, `clients:
  - name: Mobile
    app_type: native
    token_endpoint_auth_method: none
    grant_types: ["http://auth0.com/oauth/grant-type/passwordless/otp", refresh_token]
connections:
  - name: email
    strategy: email
    enabled_clients: [Mobile]
    options:
      totp: {length: 8, time_step: 600}
      email: {from: "{{ application.name }} <a@example.com>", subject: "Code", body: "<p>{{ code }}</p>", syntax: liquid}
      disable_signup: true
  - name: sms
    strategy: sms
    enabled_clients: [Mobile]
    options: {template: "Code {{ code }}"}
`))
	mobile := clientByName(t, s, "Mobile")
	if !slices.Contains(mobile.GrantTypes, "http://auth0.com/oauth/grant-type/passwordless/otp") {
		t.Errorf("grant types: %v", mobile.GrantTypes)
	}
	for _, name := range []string{"email", "sms"} {
		c, err := s.Store.GetConnection(t.Context(), name)
		if err != nil || c.Strategy != name || !slices.Equal(c.EnabledClients, []string{mobile.ClientID}) {
			t.Errorf("connection %s: %+v, %v", name, c, err)
		}
	}

	s2 := applyService(t)
	tf, _ := config.ParseTenantFile([]byte(`connections:
  - name: email
    strategy: email
    options: {totp: {length: 2, time_step: 10}, email: {body: "no code"}}
  - name: sms
    strategy: sms
    options: {template: "hello"}
`), config.TenantOptions{})
	_, err := s2.Apply(t.Context(), tf)
	want := []string{
		"connections[0].options.totp.length: must be a whole number from 4 to 10, got 2",
		"connections[0].options.totp.time_step: must be a whole number of seconds from 60 to 86400, got 10",
		"connections[0].options.email.body: must contain {{ code }}",
		"connections[1].options.template: must contain {{ code }}",
	}
	if d := cmp.Diff(want, applyProblems(t, err)); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	if cs, _ := s2.Store.ListConnections(t.Context()); len(cs) != 0 {
		t.Errorf("a file with problems wrote %d connections", len(cs))
	}
}

// TestPasswordlessUserBlocks: a passwordless user blocked by brute-force protection (counted
// per user, as the passwordless grant does) is listed and released by identifier, like a
// database user.
func TestPasswordlessUserBlocks(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	if _, err := s.CreateConnection(ctx, "email", "email", nil); err != nil {
		t.Fatal(err)
	}
	u := store.User{ID: "email|000000000000000000000001", Connection: "email", Email: "pat@example.com", EmailVerified: true}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	g := guard.New(s.Store, nil, guard.Options{})
	for range guard.DefaultMaxAttempts {
		a := &guard.Attempt{Identifier: "pat@example.com", IP: "192.0.2.7", UserID: u.ID}
		if err := g.Check(ctx, a); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if _, err := g.Failure(ctx, a); err != nil {
			t.Fatalf("Failure: %v", err)
		}
	}
	bs, err := s.IdentifierBlocks(ctx, "pat@example.com")
	if err != nil || len(bs) != 1 || bs[0].Connection != "email" || bs[0].IP != "192.0.2.7" {
		t.Fatalf("IdentifierBlocks: got %+v, %v", bs, err)
	}
	if _, err := s.UnblockIdentifier(ctx, "pat@example.com"); err != nil {
		t.Fatal(err)
	}
	if bs, err := s.IdentifierBlocks(ctx, "pat@example.com"); err != nil || len(bs) != 0 {
		t.Errorf("after UnblockIdentifier: got %+v, %v", bs, err)
	}
}

package admin_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

func TestCreateClientGrant(t *testing.T) {
	const aud = "https://api.example.com"
	tests := []struct {
		name       string
		in         admin.ClientGrantInput
		twice      bool
		wantStatus int
		wantFields []string
	}{
		{name: "ok", in: admin.ClientGrantInput{ClientID: "m2m", Audience: aud, Scope: []string{"read:x"}}, wantStatus: 200},
		{name: "no scope is a grant of none", in: admin.ClientGrantInput{ClientID: "m2m", Audience: aud}, wantStatus: 200},
		{name: "missing client and audience", in: admin.ClientGrantInput{}, wantStatus: 400, wantFields: []string{"client_id", "audience"}},
		{name: "unknown client", in: admin.ClientGrantInput{ClientID: "nope", Audience: aud}, wantStatus: 404},
		{name: "unknown audience", in: admin.ClientGrantInput{ClientID: "m2m", Audience: "https://none"}, wantStatus: 404},
		{name: "scope the API does not define", in: admin.ClientGrantInput{ClientID: "m2m", Audience: aud, Scope: []string{"read:x", "admin"}},
			wantStatus: 400, wantFields: []string{"scope[1]"}},
		{name: "scope twice", in: admin.ClientGrantInput{ClientID: "m2m", Audience: aud, Scope: []string{"read:x", "read:x"}},
			wantStatus: 400, wantFields: []string{"scope[1]"}},
		{name: "second grant for the same client and API", in: admin.ClientGrantInput{ClientID: "m2m", Audience: aud}, twice: true, wantStatus: 409},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := crudService(t)
			ctx := t.Context()
			if _, _, err := s.CreateClient(ctx, admin.ClientInput{ClientID: "m2m", Name: "M2M", AppType: admin.AppNonInteractive,
				GrantTypes: []string{admin.GrantClientCredentials}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateAPI(ctx, admin.APIInput{Identifier: aud, Scopes: admin.ParseScopes("read:x,write:x")}); err != nil {
				t.Fatal(err)
			}
			if tc.twice {
				if _, err := s.CreateClientGrant(ctx, tc.in); err != nil {
					t.Fatal(err)
				}
			}
			g, err := s.CreateClientGrant(ctx, tc.in)
			if got := admin.Status(err); got != tc.wantStatus {
				t.Fatalf("status: got %d (%v), want %d", got, err, tc.wantStatus)
			}
			if diff := cmp.Diff(tc.wantFields, validationFields(err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			grants, lerr := s.ListClientGrants(ctx, store.ClientGrantFilter{})
			if lerr != nil {
				t.Fatal(lerr)
			}
			want := 0
			if tc.twice {
				want = 1
			}
			if err != nil {
				if len(grants) != want {
					t.Errorf("a refused create left %d grants, want %d", len(grants), want)
				}
				return
			}
			if len(grants) != 1 || grants[0].ID != g.ID || !slices.Equal(grants[0].Scope, g.Scope) || g.Scope == nil {
				t.Errorf("stored grants %+v, want exactly %+v", grants, g)
			}
		})
	}
}

func TestClientGrantUpdateAndDelete(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	c, _, err := s.CreateClient(ctx, admin.ClientInput{Name: "M2M", AppType: admin.AppNonInteractive, GrantTypes: []string{admin.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPI(ctx, admin.APIInput{Identifier: "urn:api", Scopes: admin.ParseScopes("a,b")}); err != nil {
		t.Fatal(err)
	}
	g, err := s.CreateClientGrant(ctx, admin.ClientGrantInput{ClientID: c.ClientID, Audience: "urn:api", Scope: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateClientGrant(ctx, g.ID, []string{"c"}); admin.Status(err) != 400 {
		t.Errorf("update to an undefined scope: got %v, want a 400 validation error", err)
	}
	if got, err := s.UpdateClientGrant(ctx, g.ID, []string{"b", "a"}); err != nil || !slices.Equal(got.Scope, []string{"b", "a"}) {
		t.Errorf("update: got %+v, %v, want scope [b a]", got, err)
	}
	if _, err := s.UpdateClientGrant(ctx, "cgr_none", nil); admin.Status(err) != 404 {
		t.Errorf("update of a missing grant: got %v, want 404", err)
	}
	// Deleting the client removes its grants (Auth0 leaves none behind).
	if err := s.DeleteClient(ctx, c.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClientGrant(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("grant after deleting its client: got %v, want not found", err)
	}
	if err := s.DeleteClientGrant(ctx, g.ID); admin.Status(err) != 404 {
		t.Errorf("deleting it again: got %v, want 404", err)
	}
}

func TestApplyClientGrants(t *testing.T) {
	const base = `
resourceServers:
  - {name: API, identifier: "https://api", scopes: [{value: "read:x"}, {value: "write:x"}]}
clients:
  - {name: M2M, app_type: non_interactive, grant_types: [client_credentials]}
`
	t.Run("problems", func(t *testing.T) {
		tests := []struct {
			name, yaml string
			want       []string
		}{
			{"unknown client", `clientGrants: [{client_id: Nobody, audience: "https://api"}]`,
				[]string{`clientGrants[0].client_id: no client is named "Nobody" or has that client_id`}},
			{"unknown audience", `clientGrants: [{client_id: M2M, audience: "https://none"}]`,
				[]string{`clientGrants[0].audience: no API has the identifier "https://none"`}},
			{"scope the API does not define", `clientGrants: [{client_id: M2M, audience: "https://api", scope: ["read:x", "delete:x"]}]`,
				[]string{`clientGrants[0].scope[1]: "delete:x" is not a scope of the API`}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := applyService(t)
				_, err := s.Apply(t.Context(), applyParse(t, base+tc.yaml))
				if diff := cmp.Diff(tc.want, applyProblems(t, err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				if cs, _ := s.ListClients(t.Context()); len(cs) != 0 {
					t.Errorf("a refused file stored %d clients, want none", len(cs))
				}
			})
		}
	})
	t.Run("by name or id, idempotent, scope changes in place", func(t *testing.T) {
		s := applyService(t)
		ctx := t.Context()
		r := applyOK(t, s, applyParse(t, base+`clientGrants: [{client_id: M2M, audience: "https://api", scope: ["read:x"]}]`))
		m2m := clientByName(t, s, "M2M")
		if !slices.Contains(r.Created, `client grant "M2M" for "https://api"`) {
			t.Errorf("created %q, want the grant", r.Created)
		}
		first, err := s.Store.FindClientGrant(ctx, m2m.ClientID, "https://api")
		if err != nil {
			t.Fatal(err)
		}
		again := applyOK(t, s, applyParse(t, base+`clientGrants: [{client_id: M2M, audience: "https://api", scope: ["read:x"]}]`))
		if len(again.Created)+len(again.Changed) != 0 {
			t.Errorf("second apply: created %q changed %q, want nothing", again.Created, again.Changed)
		}
		// The client's real id names it too; a new scope list updates the same grant.
		r = applyOK(t, s, applyParse(t, base+`clientGrants: [{client_id: `+m2m.ClientID+`, audience: "https://api", scope: ["write:x", "read:x"]}]`))
		if len(r.Changed) != 1 || len(r.Created) != 0 {
			t.Errorf("scope change: created %q changed %q, want one change", r.Created, r.Changed)
		}
		got, err := s.Store.FindClientGrant(ctx, m2m.ClientID, "https://api")
		if err != nil || got.ID != first.ID || !slices.Equal(got.Scope, []string{"write:x", "read:x"}) {
			t.Errorf("got grant %+v (%v), want %s with [write:x read:x]", got, err, first.ID)
		}
	})
}

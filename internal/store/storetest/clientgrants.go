package storetest

import (
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func testClientGrants(t *testing.T, newStore NewStore) {
	ctx := t.Context
	// seed stores two clients and two APIs for the grants to point at.
	seed := func(t *testing.T) store.Store {
		s := newStore(t)
		for _, id := range []string{"c1", "c2"} {
			must(t, "CreateClient", s.CreateClient(ctx(), store.Client{ClientID: id, Name: id}))
		}
		for i, aud := range []string{"https://a", "https://b"} {
			must(t, "CreateResourceServer", s.CreateResourceServer(ctx(), store.ResourceServer{ID: "rs" + string(rune('1'+i)), Identifier: aud}))
		}
		return s
	}
	grant := func(id, client, aud string, scope ...string) store.ClientGrant {
		return store.ClientGrant{ID: id, ClientID: client, Audience: aud, Scope: scope, CreatedAt: at(0), UpdatedAt: at(time.Minute)}
	}
	ids := func(gs []store.ClientGrant) []string {
		out := []string{}
		for _, g := range gs {
			out = append(out, g.ID)
		}
		return out
	}

	t.Run("round trip and find", func(t *testing.T) {
		for _, g := range []store.ClientGrant{grant("cgr_1", "c1", "https://a", "read:x", "write:x"), grant("cgr_2", "c1", "https://a"),
			{ID: "cgr_3", ClientID: "c1", Audience: "https://a", Scope: []string{}}} {
			s := seed(t)
			must(t, "CreateClientGrant", s.CreateClientGrant(ctx(), g))
			got, err := s.GetClientGrant(ctx(), g.ID)
			must(t, "GetClientGrant", err)
			diff(t, "grant", got, g)
			got, err = s.FindClientGrant(ctx(), "c1", "https://a")
			must(t, "FindClientGrant", err)
			diff(t, "found grant", got, g)
		}
	})
	t.Run("conflicts and missing references", func(t *testing.T) {
		tests := []struct {
			name string
			g    store.ClientGrant
			want error
		}{
			{"same client and audience", grant("cgr_9", "c1", "https://a"), store.ErrConflict},
			{"same id", grant("cgr_1", "c2", "https://b"), store.ErrConflict},
			{"unknown client", grant("cgr_9", "nope", "https://a"), store.ErrNotFound},
			{"unknown audience", grant("cgr_9", "c1", "https://none"), store.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := seed(t)
				must(t, "CreateClientGrant", s.CreateClientGrant(ctx(), grant("cgr_1", "c1", "https://a", "read:x")))
				wantErr(t, "second CreateClientGrant", s.CreateClientGrant(ctx(), tc.g), tc.want)
				got, err := s.ListClientGrants(ctx(), store.ClientGrantFilter{})
				must(t, "ListClientGrants", err)
				diff(t, "grants after a refused create", ids(got), []string{"cgr_1"})
			})
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := seed(t)
		_, err := s.GetClientGrant(ctx(), "cgr_none")
		wantErr(t, "GetClientGrant", err, store.ErrNotFound)
		_, err = s.FindClientGrant(ctx(), "c1", "https://a")
		wantErr(t, "FindClientGrant", err, store.ErrNotFound)
		wantErr(t, "UpdateClientGrant", s.UpdateClientGrant(ctx(), "cgr_none", func(*store.ClientGrant) error { return nil }), store.ErrNotFound)
		wantErr(t, "DeleteClientGrant", s.DeleteClientGrant(ctx(), "cgr_none"), store.ErrNotFound)
	})
	t.Run("list filters and orders by id", func(t *testing.T) {
		s := seed(t)
		for _, g := range []store.ClientGrant{grant("cgr_c", "c1", "https://b"), grant("cgr_a", "c2", "https://a"),
			grant("cgr_b", "c1", "https://a")} {
			must(t, "CreateClientGrant", s.CreateClientGrant(ctx(), g))
		}
		for _, tc := range []struct {
			f    store.ClientGrantFilter
			want []string
		}{
			{store.ClientGrantFilter{}, []string{"cgr_a", "cgr_b", "cgr_c"}},
			{store.ClientGrantFilter{ClientID: "c1"}, []string{"cgr_b", "cgr_c"}},
			{store.ClientGrantFilter{Audience: "https://a"}, []string{"cgr_a", "cgr_b"}},
			{store.ClientGrantFilter{ClientID: "c1", Audience: "https://b"}, []string{"cgr_c"}},
			{store.ClientGrantFilter{ClientID: "c3"}, []string{}},
		} {
			got, err := s.ListClientGrants(ctx(), tc.f)
			must(t, "ListClientGrants", err)
			diff(t, "grants", ids(got), tc.want)
		}
	})
	t.Run("update changes the scope only", func(t *testing.T) {
		s := seed(t)
		must(t, "CreateClientGrant", s.CreateClientGrant(ctx(), grant("cgr_1", "c1", "https://a", "read:x")))
		must(t, "UpdateClientGrant", s.UpdateClientGrant(ctx(), "cgr_1", func(g *store.ClientGrant) error {
			g.Scope, g.UpdatedAt = []string{"write:x"}, at(time.Hour)
			return nil
		}))
		want := grant("cgr_1", "c1", "https://a", "write:x")
		want.UpdatedAt = at(time.Hour)
		got, err := s.GetClientGrant(ctx(), "cgr_1")
		must(t, "GetClientGrant", err)
		diff(t, "grant", got, want)
		if err := s.UpdateClientGrant(ctx(), "cgr_1", func(g *store.ClientGrant) error { g.Audience = "https://b"; return nil }); err == nil {
			t.Error("UpdateClientGrant moving the grant to another API: got nil, want an error")
		}
		wantErr(t, "UpdateClientGrant fn error", s.UpdateClientGrant(ctx(), "cgr_1", func(*store.ClientGrant) error { return errBoom }), errBoom)
	})
	t.Run("deleting a client or an API deletes its grants", func(t *testing.T) {
		s := seed(t)
		for _, g := range []store.ClientGrant{grant("cgr_1", "c1", "https://a"), grant("cgr_2", "c1", "https://b"),
			grant("cgr_3", "c2", "https://a"), grant("cgr_4", "c2", "https://b")} {
			must(t, "CreateClientGrant", s.CreateClientGrant(ctx(), g))
		}
		must(t, "DeleteClient", s.DeleteClient(ctx(), "c1"))
		got, err := s.ListClientGrants(ctx(), store.ClientGrantFilter{})
		must(t, "ListClientGrants", err)
		diff(t, "grants after deleting c1", ids(got), []string{"cgr_3", "cgr_4"})
		must(t, "DeleteResourceServer", s.DeleteResourceServer(ctx(), "https://b"))
		got, err = s.ListClientGrants(ctx(), store.ClientGrantFilter{})
		must(t, "ListClientGrants", err)
		diff(t, "grants after deleting https://b", ids(got), []string{"cgr_3"})
		must(t, "DeleteClientGrant", s.DeleteClientGrant(ctx(), "cgr_3"))
		_, err = s.FindClientGrant(ctx(), "c2", "https://a")
		wantErr(t, "FindClientGrant after delete", err, store.ErrNotFound)
	})
}

// Package storetest is the conformance suite every store.Store backend runs: the contract in
// store.go's doc comments, written as tests. Each case builds its own store through the
// backend's constructor, so cases never share state; the concurrency cases (parallel refresh
// rotations, parallel single-use keys, parallel login counts) are where backends differ most.
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/store"
)

// NewStore returns a fresh, empty, migrated store for one test; it registers its own cleanup.
type NewStore func(t *testing.T) store.Store

// Run runs the whole suite against the backend newStore builds.
// The aggregates' groups run in parallel with each other (every case has its own store).
func Run(t *testing.T, newStore NewStore) {
	groups := []struct {
		name string
		run  func(*testing.T, NewStore)
	}{
		{"Tenant", testTenant},
		{"Clients", testClients},
		{"ResourceServers", testResourceServers},
		{"ClientGrants", testClientGrants},
		{"Connections", testConnections},
		{"Users", testUsers},
		{"UserSearch", testUserSearch},
		{"UserRefreshFamilies", testUserRefreshFamilies},
		{"Jobs", testJobs},
		{"LogSearch", testLogSearch},
		{"RefreshTokens", testRefreshTokens},
		{"SigningKeys", testSigningKeys},
		{"Replay", testReplay},
		{"Logs", testLogs},
		{"Counters", testCounters},
		{"Buckets", testBuckets},
		{"BreachedPasswords", testBreached},
		{"AttackProtection", testAttackProtection},
		{"MFA", testMFA},
		{"Hooks", testHooks},
		{"PasswordlessCodes", testPasswordless},
		{"Ping", testPing},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newStore)
		})
	}
}

func testPing(t *testing.T, newStore NewStore) {
	if err := newStore(t).Ping(t.Context()); err != nil {
		t.Errorf("Ping: got %v, want nil", err)
	}
}

// base is a fixed instant with nanoseconds and a non-UTC zone: stores must keep the instant
// exactly (times are compared with Equal, so the zone may change).
var base = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("UTC+1", 3600))

func at(d time.Duration) time.Time { return base.Add(d) }

var errBoom = errors.New("boom")

// wantErr fails the test unless err matches want (nil meaning success).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: got error %v, want nil", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, nil)
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// parallel runs fn n times at once, started together, and returns each call's error.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testTenant(t *testing.T, newStore NewStore) {
	t.Run("empty database gives the zero tenant", func(t *testing.T) {
		got, err := newStore(t).GetTenant(t.Context())
		must(t, "GetTenant", err)
		diff(t, "tenant", got, store.Tenant{})
	})
	t.Run("update creates then changes", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		want := store.Tenant{FriendlyName: "Acme", DefaultDirectory: "Username-Password-Authentication",
			DefaultAudience: "https://api.example.com", RevokeDeletesGrant: true, UpdatedAt: at(0)}
		must(t, "UpdateTenant", s.UpdateTenant(ctx, func(tn *store.Tenant) error {
			if *tn != (store.Tenant{}) {
				t.Errorf("first update: got %+v, want the zero tenant", *tn)
			}
			*tn = want
			return nil
		}))
		must(t, "UpdateTenant", s.UpdateTenant(ctx, func(tn *store.Tenant) error {
			diff(t, "tenant seen by the second update", *tn, want)
			tn.FriendlyName, tn.RevokeDeletesGrant = "Acme 2", false
			return nil
		}))
		want.FriendlyName, want.RevokeDeletesGrant = "Acme 2", false
		got, err := s.GetTenant(ctx)
		must(t, "GetTenant", err)
		diff(t, "tenant", got, want)
	})
	t.Run("fn error aborts", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, "UpdateTenant", s.UpdateTenant(ctx, func(tn *store.Tenant) error { tn.FriendlyName = "kept"; return nil }))
		err := s.UpdateTenant(ctx, func(tn *store.Tenant) error { tn.FriendlyName = "lost"; return errBoom })
		wantErr(t, "UpdateTenant", err, errBoom)
		got, err := s.GetTenant(ctx)
		must(t, "GetTenant", err)
		if got.FriendlyName != "kept" {
			t.Errorf("FriendlyName: got %q, want %q", got.FriendlyName, "kept")
		}
	})
}

func fullClient(id string) store.Client {
	return store.Client{
		ClientID: id, Name: "App " + id, Description: "an app", AppType: "regular_web",
		SecretHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", SecretSealed: []byte{1, 2, 3, 0, 255},
		GrantTypes:              []string{"password", "refresh_token"},
		TokenEndpointAuthMethod: "client_secret_post", IDTokenAlg: "RS256", IDTokenLifetime: 36000,
		Credentials: []store.ClientCredential{{ID: "cred_1", Name: "key", PEM: "-----BEGIN PUBLIC KEY-----\n...", CreatedAt: at(time.Second)}},
		RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring", TokenLifetime: 2592000,
			IdleTokenLifetime: 1296000, Leeway: 3},
		IsTokenEndpointIPHeaderTrusted: true,
		Metadata:                       map[string]string{"team": "a"},
		WebOrigins:                     []string{"https://app.example.com", "http://localhost:3000", "https://*.example.org"},
		CreatedAt:                      at(0), UpdatedAt: at(time.Minute),
	}
}

func testClients(t *testing.T, newStore NewStore) {
	ctx := t.Context
	t.Run("round trip", func(t *testing.T) {
		tests := []struct {
			name string
			c    store.Client
		}{
			{"every field", fullClient("c1")},
			{"zero values", store.Client{ClientID: "c2"}},
			{"empty lists stay empty", store.Client{ClientID: "c3", GrantTypes: []string{}, Credentials: []store.ClientCredential{},
				Metadata: map[string]string{}, SecretSealed: []byte{9}, WebOrigins: []string{}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				must(t, "CreateClient", s.CreateClient(ctx(), tc.c))
				got, err := s.GetClient(ctx(), tc.c.ClientID)
				must(t, "GetClient", err)
				diff(t, "client", got, tc.c)
			})
		}
	})
	t.Run("duplicate client id conflicts", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateClient", s.CreateClient(ctx(), fullClient("c1")))
		wantErr(t, "second CreateClient", s.CreateClient(ctx(), store.Client{ClientID: "c1", Name: "other"}), store.ErrConflict)
	})
	t.Run("missing client is not found", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetClient(ctx(), "nope")
		wantErr(t, "GetClient", err, store.ErrNotFound)
		wantErr(t, "UpdateClient", s.UpdateClient(ctx(), "nope", func(*store.Client) error { return nil }), store.ErrNotFound)
		wantErr(t, "DeleteClient", s.DeleteClient(ctx(), "nope"), store.ErrNotFound)
	})
	t.Run("list orders by name then id", func(t *testing.T) {
		s := newStore(t)
		for _, c := range []store.Client{{ClientID: "z", Name: "B"}, {ClientID: "y", Name: "A"}, {ClientID: "x", Name: "B"}, {ClientID: "a", Name: "a"}} {
			must(t, "CreateClient", s.CreateClient(ctx(), c))
		}
		got, err := s.ListClients(ctx())
		must(t, "ListClients", err)
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ClientID)
		}
		diff(t, "client order", ids, []string{"y", "x", "z", "a"})
	})
	t.Run("update writes fn's changes", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateClient", s.CreateClient(ctx(), fullClient("c1")))
		must(t, "UpdateClient", s.UpdateClient(ctx(), "c1", func(c *store.Client) error {
			c.Name, c.GrantTypes, c.Metadata, c.SecretSealed = "Renamed", []string{"client_credentials"}, nil, nil
			c.RefreshToken.Leeway = 0
			c.WebOrigins = []string{"https://new.example.com"}
			return nil
		}))
		want := fullClient("c1")
		want.Name, want.GrantTypes, want.Metadata, want.SecretSealed = "Renamed", []string{"client_credentials"}, nil, nil
		want.RefreshToken.Leeway = 0
		want.WebOrigins = []string{"https://new.example.com"}
		got, err := s.GetClient(ctx(), "c1")
		must(t, "GetClient", err)
		diff(t, "client", got, want)
		// The token endpoint's preflights read every client's web origins through the list.
		list, err := s.ListClients(ctx())
		must(t, "ListClients", err)
		diff(t, "listed client", list, []store.Client{want})
	})
	t.Run("update fn error aborts", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateClient", s.CreateClient(ctx(), fullClient("c1")))
		err := s.UpdateClient(ctx(), "c1", func(c *store.Client) error { c.Name = "lost"; return errBoom })
		wantErr(t, "UpdateClient", err, errBoom)
		got, _ := s.GetClient(ctx(), "c1")
		diff(t, "client", got, fullClient("c1"))
	})
	t.Run("update cannot change the client id", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateClient", s.CreateClient(ctx(), fullClient("c1")))
		if err := s.UpdateClient(ctx(), "c1", func(c *store.Client) error { c.ClientID = "c2"; return nil }); err == nil {
			t.Fatal("UpdateClient changing the id: got nil, want an error")
		}
		if _, err := s.GetClient(ctx(), "c1"); err != nil {
			t.Errorf("GetClient after refused update: got %v, want nil", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateClient", s.CreateClient(ctx(), fullClient("c1")))
		must(t, "DeleteClient", s.DeleteClient(ctx(), "c1"))
		_, err := s.GetClient(ctx(), "c1")
		wantErr(t, "GetClient after delete", err, store.ErrNotFound)
	})
}

func fullAPI(identifier, id string) store.ResourceServer {
	return store.ResourceServer{
		ID: id, Identifier: identifier, Name: "API " + identifier,
		Scopes:     []store.Scope{{Value: "read:things", Description: "Read things"}, {Value: "write:things"}},
		SigningAlg: "HS256", SigningSecretSealed: []byte("sealed"), AllowOfflineAccess: true, TokenLifetime: 86400,
		TokenDialect: "access_token_authz", EnforcePolicies: true, CreatedAt: at(0), UpdatedAt: at(time.Hour),
	}
}

func testResourceServers(t *testing.T, newStore NewStore) {
	ctx := t.Context
	t.Run("round trip", func(t *testing.T) {
		for _, rs := range []store.ResourceServer{fullAPI("https://api.example.com", "rs1"), {ID: "rs2", Identifier: "urn:empty"}} {
			s := newStore(t)
			must(t, "CreateResourceServer", s.CreateResourceServer(ctx(), rs))
			got, err := s.GetResourceServer(ctx(), rs.Identifier)
			must(t, "GetResourceServer", err)
			diff(t, "resource server", got, rs)
		}
	})
	t.Run("conflicts", func(t *testing.T) {
		tests := []struct {
			name string
			rs   store.ResourceServer
		}{
			{"same identifier", store.ResourceServer{ID: "other", Identifier: "https://api"}},
			{"same id", store.ResourceServer{ID: "rs1", Identifier: "https://other"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				must(t, "CreateResourceServer", s.CreateResourceServer(ctx(), fullAPI("https://api", "rs1")))
				wantErr(t, "second CreateResourceServer", s.CreateResourceServer(ctx(), tc.rs), store.ErrConflict)
			})
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetResourceServer(ctx(), "https://none")
		wantErr(t, "GetResourceServer", err, store.ErrNotFound)
		wantErr(t, "UpdateResourceServer", s.UpdateResourceServer(ctx(), "https://none", func(*store.ResourceServer) error { return nil }), store.ErrNotFound)
		wantErr(t, "DeleteResourceServer", s.DeleteResourceServer(ctx(), "https://none"), store.ErrNotFound)
	})
	t.Run("list orders by identifier", func(t *testing.T) {
		s := newStore(t)
		for i, id := range []string{"urn:c", "https://b", "urn:a"} {
			must(t, "CreateResourceServer", s.CreateResourceServer(ctx(), store.ResourceServer{ID: fmt.Sprint("rs", i), Identifier: id}))
		}
		got, err := s.ListResourceServers(ctx())
		must(t, "ListResourceServers", err)
		var ids []string
		for _, rs := range got {
			ids = append(ids, rs.Identifier)
		}
		diff(t, "order", ids, []string{"https://b", "urn:a", "urn:c"})
	})
	t.Run("update and delete", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateResourceServer", s.CreateResourceServer(ctx(), fullAPI("https://api", "rs1")))
		must(t, "UpdateResourceServer", s.UpdateResourceServer(ctx(), "https://api", func(rs *store.ResourceServer) error {
			rs.Scopes = append(rs.Scopes, store.Scope{Value: "admin"})
			rs.EnforcePolicies = false
			return nil
		}))
		want := fullAPI("https://api", "rs1")
		want.Scopes, want.EnforcePolicies = append(want.Scopes, store.Scope{Value: "admin"}), false
		got, err := s.GetResourceServer(ctx(), "https://api")
		must(t, "GetResourceServer", err)
		diff(t, "resource server", got, want)
		must(t, "DeleteResourceServer", s.DeleteResourceServer(ctx(), "https://api"))
		_, err = s.GetResourceServer(ctx(), "https://api")
		wantErr(t, "GetResourceServer after delete", err, store.ErrNotFound)
	})
}

func fullConnection(name, id string) store.Connection {
	return store.Connection{ID: id, Name: name, Strategy: "auth0", EnabledClients: []string{"c1", "c2"},
		Options: map[string]any{"brute_force_protection": true, "passwordPolicy": "good",
			"password_complexity_options": map[string]any{"min_length": 8.0}, "list": []any{"a", 1.5}},
		CreatedAt: at(0), UpdatedAt: at(time.Second)}
}

func testConnections(t *testing.T, newStore NewStore) {
	ctx := t.Context
	t.Run("round trip", func(t *testing.T) {
		for _, c := range []store.Connection{fullConnection("db", "con_1"), {ID: "con_2", Name: "bare"}} {
			s := newStore(t)
			must(t, "CreateConnection", s.CreateConnection(ctx(), c))
			got, err := s.GetConnection(ctx(), c.Name)
			must(t, "GetConnection", err)
			diff(t, "connection", got, c)
		}
	})
	t.Run("conflicts", func(t *testing.T) {
		for name, c := range map[string]store.Connection{
			"same name": {ID: "con_other", Name: "db"},
			"same id":   {ID: "con_1", Name: "other"},
		} {
			t.Run(name, func(t *testing.T) {
				s := newStore(t)
				must(t, "CreateConnection", s.CreateConnection(ctx(), fullConnection("db", "con_1")))
				wantErr(t, "second CreateConnection", s.CreateConnection(ctx(), c), store.ErrConflict)
			})
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetConnection(ctx(), "none")
		wantErr(t, "GetConnection", err, store.ErrNotFound)
		wantErr(t, "UpdateConnection", s.UpdateConnection(ctx(), "none", func(*store.Connection) error { return nil }), store.ErrNotFound)
		wantErr(t, "DeleteConnection", s.DeleteConnection(ctx(), "none"), store.ErrNotFound)
	})
	t.Run("list and update", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateConnection", s.CreateConnection(ctx(), fullConnection("b", "con_b")))
		must(t, "CreateConnection", s.CreateConnection(ctx(), fullConnection("a", "con_a")))
		must(t, "UpdateConnection", s.UpdateConnection(ctx(), "b", func(c *store.Connection) error {
			c.EnabledClients = nil
			c.Options["extra"] = "x"
			return nil
		}))
		got, err := s.ListConnections(ctx())
		must(t, "ListConnections", err)
		wantB := fullConnection("b", "con_b")
		wantB.EnabledClients, wantB.Options["extra"] = nil, "x"
		diff(t, "connections", got, []store.Connection{fullConnection("a", "con_a"), wantB})
	})
	t.Run("delete removes its users only", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateConnection", s.CreateConnection(ctx(), fullConnection("a", "con_a")))
		must(t, "CreateConnection", s.CreateConnection(ctx(), fullConnection("b", "con_b")))
		must(t, "CreateUser", s.CreateUser(ctx(), store.User{ID: "auth0|1", Connection: "a", Email: "x@example.com"}))
		must(t, "CreateUser", s.CreateUser(ctx(), store.User{ID: "auth0|2", Connection: "b", Email: "x@example.com"}))
		must(t, "DeleteConnection", s.DeleteConnection(ctx(), "a"))
		_, err := s.GetUser(ctx(), "auth0|1")
		wantErr(t, "GetUser of the deleted connection", err, store.ErrNotFound)
		_, err = s.GetUser(ctx(), "auth0|2")
		wantErr(t, "GetUser of the other connection", err, nil)
		_, err = s.GetConnection(ctx(), "a")
		wantErr(t, "GetConnection after delete", err, store.ErrNotFound)
	})
}

func fullUser(id, connection, email, username string) store.User {
	return store.User{
		ID: id, Connection: connection, Email: email, Username: username,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", EmailVerified: true,
		Name: "Jane Doe", Nickname: "jane", Picture: "https://example.com/p.png", GivenName: "Jane", FamilyName: "Doe",
		AppMetadata:  map[string]any{"roles": []any{"admin"}, "plan": "pro"},
		UserMetadata: map[string]any{"lang": "fr", "n": 2.0},
		Blocked:      false,
		Permissions:  []store.Permission{{ResourceServerIdentifier: "https://api", PermissionName: "read:things"}},
		LoginsCount:  3, LastLogin: at(time.Hour), LastIP: "192.0.2.1",
		CreatedAt: at(0), UpdatedAt: at(2 * time.Hour),
	}
}

func testUsers(t *testing.T, newStore NewStore) {
	ctx := t.Context
	t.Run("round trip", func(t *testing.T) {
		tests := []struct {
			name string
			u    store.User
		}{
			{"every field", fullUser("auth0|1", "db", "Jane@Example.com", "jane")},
			{"zero times and no email or username", store.User{ID: "auth0|2", Connection: "db"}},
			{"blocked with empty maps", store.User{ID: "auth0|3", Connection: "db", Blocked: true, AppMetadata: map[string]any{},
				Permissions: []store.Permission{}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				must(t, "CreateUser", s.CreateUser(ctx(), tc.u))
				got, err := s.GetUser(ctx(), tc.u.ID)
				must(t, "GetUser", err)
				diff(t, "user", got, tc.u)
			})
		}
	})
	t.Run("find", func(t *testing.T) {
		tests := []struct {
			name, connection, login string
			wantID                  string // "" = not found
		}{
			{"email exactly", "db", "Jane@Example.com", "auth0|1"},
			{"email in another case", "db", "jane@EXAMPLE.COM", "auth0|1"},
			{"username exactly", "db", "janed", "auth0|1"},
			{"username is case-sensitive", "db", "JaneD", ""},
			{"other connection", "db2", "jane@example.com", "auth0|3"},
			{"wrong connection", "nodb", "jane@example.com", ""},
			{"unknown login", "db", "nobody", ""},
			{"empty login", "db", "", ""},
			{"email wins over another user's username", "db", "bob@example.com", "auth0|2"},
		}
		s := newStore(t)
		for _, u := range []store.User{
			fullUser("auth0|1", "db", "Jane@Example.com", "janed"),
			fullUser("auth0|2", "db", "bob@example.com", ""),
			fullUser("auth0|4", "db", "", "bob@example.com"),
			fullUser("auth0|3", "db2", "jane@example.com", ""),
			fullUser("auth0|5", "db", "", ""),
		} {
			must(t, "CreateUser "+u.ID, s.CreateUser(ctx(), u))
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.FindUser(ctx(), tc.connection, tc.login)
				if tc.wantID == "" {
					wantErr(t, "FindUser", err, store.ErrNotFound)
					return
				}
				must(t, "FindUser", err)
				if got.ID != tc.wantID {
					t.Errorf("FindUser(%q, %q).ID: got %q, want %q", tc.connection, tc.login, got.ID, tc.wantID)
				}
			})
		}
	})
	t.Run("create conflicts", func(t *testing.T) {
		tests := []struct {
			name string
			u    store.User
			want error
		}{
			{"same id", store.User{ID: "auth0|1", Connection: "other"}, store.ErrConflict},
			{"same email in another case", store.User{ID: "auth0|2", Connection: "db", Email: "JANE@example.com"}, store.ErrConflict},
			{"same username", store.User{ID: "auth0|2", Connection: "db", Username: "jane"}, store.ErrConflict},
			{"username differing in case", store.User{ID: "auth0|2", Connection: "db", Username: "Jane"}, nil},
			{"same email in another connection", store.User{ID: "auth0|2", Connection: "db2", Email: "jane@example.com"}, nil},
			{"same username in another connection", store.User{ID: "auth0|2", Connection: "db2", Username: "jane"}, nil},
			{"no email and no username", store.User{ID: "auth0|2", Connection: "db"}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				must(t, "CreateUser", s.CreateUser(ctx(), store.User{ID: "auth0|1", Connection: "db", Email: "jane@example.com", Username: "jane"}))
				must(t, "CreateUser without email", s.CreateUser(ctx(), store.User{ID: "auth0|0", Connection: "db"}))
				wantErr(t, "CreateUser", s.CreateUser(ctx(), tc.u), tc.want)
			})
		}
	})
	t.Run("list and count", func(t *testing.T) {
		s := newStore(t)
		// Created out of order, with a tie on CreatedAt broken by ID.
		for _, u := range []store.User{
			{ID: "auth0|c", Connection: "a", CreatedAt: at(2 * time.Second)},
			{ID: "auth0|b", Connection: "b", CreatedAt: at(time.Second)},
			{ID: "auth0|a", Connection: "a", CreatedAt: at(2 * time.Second)},
			{ID: "auth0|d", Connection: "a", CreatedAt: at(0)},
		} {
			must(t, "CreateUser", s.CreateUser(ctx(), u))
		}
		tests := []struct {
			name string
			f    store.UserFilter
			want []string
		}{
			{"all", store.UserFilter{}, []string{"auth0|d", "auth0|b", "auth0|a", "auth0|c"}},
			{"connection", store.UserFilter{Connection: "a"}, []string{"auth0|d", "auth0|a", "auth0|c"}},
			{"limit", store.UserFilter{Limit: 2}, []string{"auth0|d", "auth0|b"}},
			{"limit and offset", store.UserFilter{Limit: 2, Offset: 1}, []string{"auth0|b", "auth0|a"}},
			{"offset only", store.UserFilter{Offset: 3}, []string{"auth0|c"}},
			{"offset past the end", store.UserFilter{Offset: 10}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListUsers(ctx(), tc.f)
				must(t, "ListUsers", err)
				var ids []string
				for _, u := range got {
					ids = append(ids, u.ID)
				}
				diff(t, "ids", ids, tc.want)
			})
		}
		for conn, want := range map[string]int{"": 4, "a": 3, "b": 1, "none": 0} {
			n, err := s.CountUsers(ctx(), conn)
			must(t, "CountUsers", err)
			if n != want {
				t.Errorf("CountUsers(%q): got %d, want %d", conn, n, want)
			}
		}
	})
	t.Run("update moves the lookup keys", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateUser", s.CreateUser(ctx(), fullUser("auth0|1", "db", "old@example.com", "old")))
		must(t, "UpdateUser", s.UpdateUser(ctx(), "auth0|1", func(u *store.User) error {
			u.Email, u.Username, u.Blocked, u.AppMetadata = "New@example.com", "", true, nil
			return nil
		}))
		for login, want := range map[string]error{"new@example.com": nil, "old@example.com": store.ErrNotFound, "old": store.ErrNotFound} {
			_, err := s.FindUser(ctx(), "db", login)
			wantErr(t, "FindUser "+login, err, want)
		}
		want := fullUser("auth0|1", "db", "New@example.com", "")
		want.Blocked, want.AppMetadata = true, nil
		got, err := s.GetUser(ctx(), "auth0|1")
		must(t, "GetUser", err)
		diff(t, "user", got, want)
	})
	t.Run("update to a taken email conflicts", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateUser", s.CreateUser(ctx(), store.User{ID: "auth0|1", Connection: "db", Email: "a@example.com"}))
		must(t, "CreateUser", s.CreateUser(ctx(), store.User{ID: "auth0|2", Connection: "db", Email: "b@example.com"}))
		err := s.UpdateUser(ctx(), "auth0|2", func(u *store.User) error { u.Email = "A@example.com"; return nil })
		wantErr(t, "UpdateUser", err, store.ErrConflict)
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetUser(ctx(), "auth0|none")
		wantErr(t, "GetUser", err, store.ErrNotFound)
		wantErr(t, "UpdateUser", s.UpdateUser(ctx(), "auth0|none", func(*store.User) error { return nil }), store.ErrNotFound)
		wantErr(t, "DeleteUser", s.DeleteUser(ctx(), "auth0|none"), store.ErrNotFound)
		wantErr(t, "RecordLogin", s.RecordLogin(ctx(), "auth0|none", at(0), "192.0.2.1"), store.ErrNotFound)
	})
	t.Run("delete", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateUser", s.CreateUser(ctx(), fullUser("auth0|1", "db", "a@example.com", "a")))
		must(t, "DeleteUser", s.DeleteUser(ctx(), "auth0|1"))
		_, err := s.FindUser(ctx(), "db", "a@example.com")
		wantErr(t, "FindUser after delete", err, store.ErrNotFound)
		// The email is free again.
		must(t, "CreateUser again", s.CreateUser(ctx(), store.User{ID: "auth0|2", Connection: "db", Email: "a@example.com"}))
	})
	t.Run("record login counts every concurrent login", func(t *testing.T) {
		s := newStore(t)
		must(t, "CreateUser", s.CreateUser(ctx(), store.User{ID: "auth0|1", Connection: "db", LoginsCount: 5}))
		const n = 8
		for i, err := range parallel(n, func(i int) error {
			return s.RecordLogin(ctx(), "auth0|1", at(time.Duration(i)*time.Second), "192.0.2.9")
		}) {
			must(t, fmt.Sprint("RecordLogin ", i), err)
		}
		got, err := s.GetUser(ctx(), "auth0|1")
		must(t, "GetUser", err)
		if got.LoginsCount != 5+n {
			t.Errorf("LoginsCount: got %d, want %d", got.LoginsCount, 5+n)
		}
		if got.LastIP != "192.0.2.9" || got.LastLogin.IsZero() {
			t.Errorf("LastIP, LastLogin: got %q, %v, want 192.0.2.9 and a time", got.LastIP, got.LastLogin)
		}
	})
}

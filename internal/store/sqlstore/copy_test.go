package sqlstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/store"
)

// snapshot is every record a database holds, in a stable order.
type snapshot struct {
	Tenant      store.Tenant
	Clients     []store.Client
	APIs        []store.ResourceServer
	Grants      []store.ClientGrant
	Connections []store.Connection
	Users       []store.User
	Keys        []store.SigningKey
	Families    []store.RefreshFamily
	Tokens      []store.RefreshToken
	Replay      []replayEntry
	Logs        []store.LogEvent
}

func takeSnapshot(t *testing.T, s *Store) snapshot {
	t.Helper()
	ctx := t.Context()
	var (
		snap snapshot
		err  error
	)
	must := func(e error) {
		t.Helper()
		if e != nil && err == nil {
			err = e
		}
	}
	snap.Tenant, err = s.GetTenant(ctx)
	var e error
	snap.Clients, e = listRows(ctx, s, s.read, clients, "ORDER BY client_id")
	must(e)
	snap.APIs, e = listRows(ctx, s, s.read, resourceServers, "ORDER BY identifier")
	must(e)
	snap.Grants, e = listRows(ctx, s, s.read, clientGrants, "ORDER BY id")
	must(e)
	snap.Connections, e = listRows(ctx, s, s.read, connections, "ORDER BY name")
	must(e)
	snap.Users, e = listRows(ctx, s, s.read, users, "ORDER BY id")
	must(e)
	snap.Keys, e = listRows(ctx, s, s.read, signingKeys, "ORDER BY kid")
	must(e)
	snap.Families, e = listRows(ctx, s, s.read, families, "ORDER BY id")
	must(e)
	snap.Tokens, e = listRows(ctx, s, s.read, tokens, "ORDER BY hash")
	must(e)
	snap.Replay, e = readReplay(ctx, s, time.Now())
	must(e)
	snap.Logs, e = listRows(ctx, s, s.read, logs, "ORDER BY id")
	must(e)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return snap
}

// fillForCopy stores one record of every kind, a rotated refresh family (whose current token
// is returned) and a revoked family, which Copy leaves behind.
func fillForCopy(t *testing.T, s *Store, now time.Time) (current string) {
	t.Helper()
	ctx := t.Context()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	check("tenant", s.UpdateTenant(ctx, func(tn *store.Tenant) error {
		*tn = store.Tenant{FriendlyName: "Copy", DefaultDirectory: "Users", DefaultAudience: "https://api", UpdatedAt: now}
		return nil
	}))
	check("client", s.CreateClient(ctx, store.Client{ClientID: "c1", Name: "App", AppType: "non_interactive",
		SecretHash: "$argon2id$x", SecretSealed: []byte{1, 2, 3}, GrantTypes: []string{"password", "refresh_token"},
		TokenEndpointAuthMethod: "client_secret_post", IDTokenAlg: "RS256", IDTokenLifetime: 36000,
		RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", Leeway: 0}, Metadata: map[string]string{"k": "v"},
		WebOrigins: []string{"https://app.example.com"}, CreatedAt: now, UpdatedAt: now}))
	check("api", s.CreateResourceServer(ctx, store.ResourceServer{ID: "rs1", Identifier: "https://api", Name: "API",
		Scopes: []store.Scope{{Value: "read:x"}}, SigningAlg: "RS256", AllowOfflineAccess: true, TokenLifetime: 86400,
		TokenDialect: "access_token", CreatedAt: now, UpdatedAt: now}))
	check("client grant", s.CreateClientGrant(ctx, store.ClientGrant{ID: "cgr_1", ClientID: "c1", Audience: "https://api",
		Scope: []string{"read:x"}, CreatedAt: now, UpdatedAt: now}))
	check("connection", s.CreateConnection(ctx, store.Connection{ID: "con_1", Name: "Users", Strategy: "auth0",
		EnabledClients: []string{"c1"}, Options: map[string]any{"requires_username": true}, CreatedAt: now, UpdatedAt: now}))
	check("user", s.CreateUser(ctx, store.User{ID: "auth0|1", Connection: "Users", Email: "a@example.com",
		PasswordHash: "$argon2id$y", AppMetadata: map[string]any{"plan": "pro"}, LoginsCount: 3, LastLogin: now,
		LastIP: "192.0.2.1", Permissions: []store.Permission{{ResourceServerIdentifier: "https://api", PermissionName: "read:x"}},
		CreatedAt: now, UpdatedAt: now}))
	check("key", s.CreateSigningKey(ctx, store.SigningKey{KID: "k1", Alg: "RS256", State: store.KeyCurrent,
		PrivateSealed: []byte("sealed"), CreatedAt: now, ActivatedAt: now}))
	fam := store.RefreshFamily{ID: "f1", ClientID: "c1", UserID: "auth0|1", Connection: "Users", Audience: "https://api",
		Scope: "offline_access", AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now}
	check("family", s.CreateRefreshFamily(ctx, fam, store.RefreshToken{Hash: "h1", CreatedAt: now}))
	_, err := s.RedeemRefreshToken(ctx, store.Redemption{Hash: "h1", Now: now.Add(time.Second),
		Next: &store.RefreshToken{Hash: "h2", FamilyID: "f1", CreatedAt: now.Add(time.Second)}})
	check("rotate", err)
	dead := fam
	dead.ID = "f2"
	check("dead family", s.CreateRefreshFamily(ctx, dead, store.RefreshToken{Hash: "h9", CreatedAt: now}))
	_, err = s.RevokeRefreshFamily(ctx, "h9", now)
	check("revoke", err)
	check("replay", s.UseOnce(ctx, "jti-1", time.Now().Add(time.Hour)))
	check("log", s.AppendLog(ctx, store.LogEvent{ID: "l1", Date: now, Type: "s", Details: map[string]any{"a": "b"}}))
	return "h2"
}

// copyDirection is a source and a target database for a copy test.
type copyDirection struct {
	name     string
	from, to func(testing.TB) string
}

func sqliteDSN(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.(*testing.T).TempDir(), "c.db")
}

// forEachCopy runs fn in a subtest per direction with both databases opened and migrated
// (PostgreSQL ones skip without SESAME_TEST_POSTGRES).
func forEachCopy(t *testing.T, dirs []copyDirection, fn func(t *testing.T, dst, src *Store)) {
	for _, d := range dirs {
		t.Run(d.name, func(t *testing.T) {
			src, dst := openT(t, d.from(t)), openT(t, d.to(t))
			for _, s := range []*Store{src, dst} {
				if err := s.Migrate(t.Context()); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
			}
			fn(t, dst, src)
		})
	}
}

// toSQLiteAndPostgres are the directions of the copy tests of single features.
var toSQLiteAndPostgres = []copyDirection{{"sqlite to sqlite", sqliteDSN, sqliteDSN}, {"sqlite to postgres", sqliteDSN, PostgresDSN}}

func TestCopyAcrossDialects(t *testing.T) {
	now := time.Unix(1_800_000_000, 123).UTC()
	dirs := []copyDirection{
		{"sqlite to postgres", sqliteDSN, PostgresDSN},
		{"postgres to sqlite", PostgresDSN, sqliteDSN},
		{"sqlite to sqlite", sqliteDSN, sqliteDSN},
	}
	forEachCopy(t, dirs, func(t *testing.T, dst, src *Store) {
		ctx := t.Context()
		current := fillForCopy(t, src, now)

		n, err := Copy(ctx, dst, src, CopyOptions{Logs: true, Now: now.Add(2 * time.Second)})
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
		want := CopyCounts{Tenant: 1, Clients: 1, ResourceServers: 1, ClientGrants: 1, Connections: 1, Users: 1, SigningKeys: 1,
			RefreshFamilies: 1, RefreshTokens: 2, Replay: 1, Logs: 1}
		if n != want {
			t.Errorf("counts: got %+v, want %+v", n, want)
		}
		wantSnap := takeSnapshot(t, src)
		wantSnap.Families = wantSnap.Families[:1] // f2 was revoked: not copied
		wantSnap.Tokens = wantSnap.Tokens[:2]
		if diff := cmp.Diff(wantSnap, takeSnapshot(t, dst), cmp.AllowUnexported(replayEntry{})); diff != "" {
			t.Errorf("target differs from source (-want +got):\n%s", diff)
		}

		// The refresh token issued before the copy rotates on the target.
		if _, err := dst.RedeemRefreshToken(ctx, store.Redemption{Hash: current, Now: now.Add(3 * time.Second),
			Next: &store.RefreshToken{Hash: "h3", FamilyID: "f1", CreatedAt: now.Add(3 * time.Second)}}); err != nil {
			t.Errorf("redeeming the copied refresh token: got %v, want success", err)
		}

		if _, err := Copy(ctx, dst, src, CopyOptions{}); !errors.Is(err, ErrTargetNotEmpty) {
			t.Errorf("copy to a non-empty target: got %v, want ErrTargetNotEmpty", err)
		}
		if _, err := Copy(ctx, dst, src, CopyOptions{Force: true, Now: now.Add(2 * time.Second)}); err != nil {
			t.Fatalf("forced copy: %v", err)
		}
		got := takeSnapshot(t, dst)
		if len(got.Logs) != 0 || len(got.Tokens) != 2 {
			t.Errorf("after a forced copy without logs: got %d logs and %d tokens, want 0 and 2", len(got.Logs), len(got.Tokens))
		}
	})
}

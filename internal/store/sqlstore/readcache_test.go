package sqlstore_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// TestReadCache: the configuration records a server reads on every request are cached, yet a
// change through the same Store shows at once, a change by another process on the same database
// shows within sqlstore.ReadCacheTTL, and a caller changing its copy cannot change the cache.
func TestReadCache(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "sesame.db") },
		"postgres": func(t *testing.T) string {
			return sqlstore.PostgresDSN(t)
		},
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			node, other := open(t, d), open(t, d)
			clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			sqlstore.SetReadCacheClock(node, clock.Now)
			ctx := t.Context()
			c := store.Client{ClientID: "c1", Name: "App", GrantTypes: []string{"password"}, Metadata: map[string]string{"k": "v"}}
			if err := node.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			got, err := node.GetClient(ctx, "c1")
			if err != nil {
				t.Fatal(err)
			}
			got.GrantTypes[0], got.Metadata["k"] = "changed", "changed"
			if again, _ := node.GetClient(ctx, "c1"); again.GrantTypes[0] != "password" || again.Metadata["k"] != "v" {
				t.Errorf("after a caller changed its copy: got %v %v, want the stored values", again.GrantTypes, again.Metadata)
			}

			if err := node.UpdateClient(ctx, "c1", func(c *store.Client) error { c.Name = "Same node"; return nil }); err != nil {
				t.Fatal(err)
			}
			if got, _ := node.GetClient(ctx, "c1"); got.Name != "Same node" {
				t.Errorf("right after an update through the same store: got name %q, want %q", got.Name, "Same node")
			}

			// Another process (the CLI, another node) changes the client: seen within the TTL.
			if err := other.UpdateClient(ctx, "c1", func(c *store.Client) error { c.GrantTypes = nil; return nil }); err != nil {
				t.Fatal(err)
			}
			if got, _ := node.GetClient(ctx, "c1"); len(got.GrantTypes) != 1 {
				t.Errorf("before the TTL passed: got grant types %v, want the cached [password]", got.GrantTypes)
			}
			clock.Advance(sqlstore.ReadCacheTTL)
			if got, err := node.GetClient(ctx, "c1"); err != nil || len(got.GrantTypes) != 0 {
				t.Errorf("ReadCacheTTL after another store's update: got grant types %v (%v), want none", got.GrantTypes, err)
			}
			// Users: a block through the same store holds at once, one by another process
			// within the TTL.
			if err := node.CreateUser(ctx, store.User{ID: "auth0|1", Connection: "db", Email: "a@example.com"}); err != nil {
				t.Fatal(err)
			}
			if _, err := node.GetUser(ctx, "auth0|1"); err != nil {
				t.Fatal(err)
			}
			if err := node.UpdateUser(ctx, "auth0|1", func(u *store.User) error { u.Blocked = true; return nil }); err != nil {
				t.Fatal(err)
			}
			if u, _ := node.GetUser(ctx, "auth0|1"); !u.Blocked {
				t.Errorf("right after blocking through the same store: user not blocked")
			}
			if err := other.UpdateUser(ctx, "auth0|1", func(u *store.User) error { u.Blocked = false; return nil }); err != nil {
				t.Fatal(err)
			}
			clock.Advance(sqlstore.ReadCacheTTL)
			if u, err := node.GetUser(ctx, "auth0|1"); err != nil || u.Blocked {
				t.Errorf("ReadCacheTTL after another store unblocked the user: got blocked %v (%v), want unblocked", u.Blocked, err)
			}

			if err := other.DeleteClient(ctx, "c1"); err != nil {
				t.Fatal(err)
			}
			clock.Advance(sqlstore.ReadCacheTTL)
			if _, err := node.GetClient(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ReadCacheTTL after another store's delete: got %v, want store.ErrNotFound", err)
			}
		})
	}
}

// fakeClock is a settable clock for the read cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

package mirror_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/mirror"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// outside is a hand-written outside directory: a map of users, and a switch to make it
// unreachable.
type outside struct {
	mu    sync.Mutex
	users map[string]directory.Identity // by user_id
	down  bool
	asked int
}

func (o *outside) Authenticate(_ context.Context, username, pw string) (directory.Identity, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range o.users {
		if u.Username == username && pw == "right" {
			return u, nil
		}
	}
	return directory.Identity{}, directory.ErrInvalidCredentials
}

func (o *outside) Lookup(_ context.Context, id string) (directory.Identity, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asked++
	if o.down {
		return directory.Identity{}, directory.ErrUnavailable
	}
	u, ok := o.users[id]
	if !ok {
		return directory.Identity{}, directory.ErrUserNotFound
	}
	return u, nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*outside, *mirror.Directory, store.Store, *clock) {
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateConnection(t.Context(), store.Connection{ID: "con_1", Name: "employees", Strategy: "ad"}); err != nil {
		t.Fatal(err)
	}
	o := &outside{users: map[string]directory.Identity{
		"ad|employees|1": {UserID: "ad|employees|1", Connection: "employees", Username: "alice", Email: "alice@acme.test", Name: "Alice", Groups: []string{"eng"}},
	}}
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d := mirror.New(o, st, "employees", mirror.Options{Recheck: time.Minute, OutageGrace: 10 * time.Minute, Now: c.now})
	return o, d, st, c
}

// TestRecord: a login makes the user's record, a later login updates its profile, and what
// Sesame owns (metadata, an admin's block) joins the directory's answer.
func TestRecord(t *testing.T) {
	o, d, st, _ := setup(t)
	ctx := t.Context()
	u, err := d.Authenticate(ctx, "alice", "right")
	if err != nil || u.UserID != "ad|employees|1" || len(u.Groups) != 1 {
		t.Fatalf("got %+v, %v", u, err)
	}
	rec, err := st.GetUser(ctx, "ad|employees|1")
	if err != nil || rec.Email != "alice@acme.test" || rec.Connection != "employees" {
		t.Fatalf("record: got %+v, %v", rec, err)
	}
	o.users["ad|employees|1"] = directory.Identity{UserID: "ad|employees|1", Username: "alice", Email: "alice@new.test", Name: "Alice A"}
	if err := st.UpdateUser(ctx, "ad|employees|1", func(u *store.User) error {
		u.AppMetadata = map[string]any{"plan": "gold"}
		u.Blocked = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	u, err = d.Authenticate(ctx, "alice", "right")
	if err != nil || u.Email != "alice@new.test" || u.AppMetadata["plan"] != "gold" || !u.Blocked {
		t.Fatalf("second login: got %+v, %v", u, err)
	}
	if rec, _ := st.GetUser(ctx, "ad|employees|1"); rec.Email != "alice@new.test" || rec.Name != "Alice A" {
		t.Errorf("record not updated: %+v", rec)
	}
	if id, err := d.Resolve(ctx, "alice@new.test"); err != nil || id != "ad|employees|1" {
		t.Errorf("Resolve: got %q, %v", id, err)
	}
	if _, err := d.Authenticate(ctx, "alice", "wrong"); !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Errorf("wrong password: got %v", err)
	}
}

// TestRecheck: a refresh trusts the directory's answer for Recheck, asks again after it,
// hears "gone" at once, and rides out an outage for OutageGrace only.
func TestRecheck(t *testing.T) {
	o, d, _, c := setup(t)
	ctx := t.Context()
	if _, err := d.Authenticate(ctx, "alice", "right"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		change  func()
		asked   int // the directory's Lookup count after the step
		want    error
	}{
		{"within recheck: cached", 30 * time.Second, nil, 0, nil},
		{"after recheck: asked", time.Minute, nil, 1, nil},
		{"outage within grace: last answer", 2 * time.Minute, func() { o.down = true }, 2, nil},
		{"outage past grace: unavailable", 10 * time.Minute, nil, 3, directory.ErrUnavailable},
		{"back, user removed: gone", 0, func() { o.down = false; delete(o.users, "ad|employees|1") }, 4, directory.ErrUserNotFound},
	}
	for _, s := range steps {
		c.t = c.t.Add(s.advance)
		if s.change != nil {
			s.change()
		}
		_, err := d.Lookup(ctx, "ad|employees|1")
		if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.want)
		}
		if o.asked != s.asked {
			t.Fatalf("%s: directory asked %d times, want %d", s.name, o.asked, s.asked)
		}
	}
}

// TestNewID: an entry made again with a new id takes over the email of its old record.
func TestNewID(t *testing.T) {
	o, d, st, _ := setup(t)
	ctx := t.Context()
	if _, err := d.Authenticate(ctx, "alice", "right"); err != nil {
		t.Fatal(err)
	}
	o.users = map[string]directory.Identity{"ad|employees|2": {UserID: "ad|employees|2", Username: "alice", Email: "alice@acme.test"}}
	u, err := d.Authenticate(ctx, "alice", "right")
	if err != nil || u.UserID != "ad|employees|2" {
		t.Fatalf("got %+v, %v", u, err)
	}
	if old, _ := st.GetUser(ctx, "ad|employees|1"); old.Email != "" || old.Username != "" {
		t.Errorf("old record kept %q/%q", old.Email, old.Username)
	}
}

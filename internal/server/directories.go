package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/database"
	ldapdir "github.com/sesameauth/sesame/internal/directory/ldap"
	"github.com/sesameauth/sesame/internal/directory/mirror"
	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
)

// directories maps a connection's strategy to its Directory: the one place a strategy string
// meets its implementation (Directory's switch). Directories outside the store keep state
// between requests (pooled LDAP connections, the refresh re-check cache), so they are built
// once per connection and rebuilt when its settings change.
type directories struct {
	users  store.Users
	hasher *password.Hasher
	box    *seal.Box
	log    *slog.Logger
	now    func() time.Time
	// scripted runs custom-database connections (auth0 strategy with scripts).
	scripted *scripted.Realms

	mu   sync.Mutex
	live map[string]liveDirectory // by connection name
}

// liveDirectory is a built outside directory and the settings it was built from.
type liveDirectory struct {
	settings string
	dir      directory.Directory
	close    func()
}

func newDirectories(users store.Users, hasher *password.Hasher, box *seal.Box, log *slog.Logger, now func() time.Time) *directories {
	return &directories{users: users, hasher: hasher, box: box, log: log, now: now, live: map[string]liveDirectory{}}
}

// Directory returns the directory of conn.
func (d *directories) Directory(conn store.Connection) (directory.Directory, error) {
	switch conn.Strategy {
	case "auth0", "", passwordless.StrategyEmail, passwordless.StrategySMS: // passwordless users live in the store too
		if scripted.Enabled(conn) {
			return d.scripted.Directory(conn)
		}
		return database.New(d.users, conn.Name, d.hasher), nil
	case "ad", "ldap":
		return d.keep(conn, func() (directory.Directory, func(), error) {
			cfg, err := ldapdir.ParseConfig(conn.Name, conn.Strategy, conn.Options, d.box)
			if err != nil {
				return nil, nil, fmt.Errorf("connection %q: %w", conn.Name, err)
			}
			l, err := ldapdir.New(cfg, d.log, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("connection %q: %w", conn.Name, err)
			}
			m := mirror.New(l, d.users, conn.Name, mirror.Options{Recheck: cfg.Recheck, OutageGrace: cfg.OutageGrace, Now: d.now, Logger: d.log})
			return m, l.Close, nil
		})
	}
	return nil, fmt.Errorf("connection %q: strategy %q is not supported", conn.Name, conn.Strategy)
}

// keep returns the live directory of conn, building it (and closing a stale one) when the
// connection's settings are not those it was built from.
func (d *directories) keep(conn store.Connection, build func() (directory.Directory, func(), error)) (directory.Directory, error) {
	raw, err := json.Marshal(conn.Options)
	if err != nil {
		return nil, err
	}
	settings := conn.ID + "\x00" + conn.Strategy + "\x00" + string(raw)
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := d.live[conn.Name]; ok {
		if cur.settings == settings {
			return cur.dir, nil
		}
		cur.close()
		delete(d.live, conn.Name)
	}
	dir, closeFn, err := build()
	if err != nil {
		return nil, err
	}
	d.live[conn.Name] = liveDirectory{settings: settings, dir: dir, close: closeFn}
	return dir, nil
}

// close releases the live directories' connections.
func (d *directories) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, l := range d.live {
		l.close()
		delete(d.live, name)
	}
}

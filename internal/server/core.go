package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

// Core is what every entry point that touches a tenant needs, built one way for serve, the
// CLI's admin verbs and the load tool alike: the store (opened with the config's pool options,
// migrated or checked), the sealing box of the key-encryption key, the signing keys, the
// password hasher with the config's cost, and the management service over them.
type Core struct {
	Store  *sqlstore.Store
	Box    *seal.Box
	Keys   *token.Keys
	Hasher *password.Hasher
	// Admin is the management service. Its ManagementAudience is the effective issuer's; a
	// caller that knows better (a stored one, say) sets it.
	Admin *admin.Service
	// Realms run custom-database connections' scripts, for logins and Admin's user operations
	// alike, so both share each connection's bound on running scripts.
	Realms *scripted.Realms
	// LegacyDBs are the pools of those scripts' require('pg'); close them with the Store.
	LegacyDBs *scripted.Pools
}

// CoreOptions are OpenCore's inputs that do not come from the config file.
type CoreOptions struct {
	// KEK is the key-encryption key (32 bytes); the caller loads it (LoadKEK).
	KEK []byte
	// Migrate applies pending migrations; without it an out-of-date schema is an error.
	Migrate bool
	// Now is the keys' clock; nil means time.Now.
	Now func() time.Time
	// PasswordConcurrency bounds concurrent hashing; 0 means the CPU count.
	PasswordConcurrency int
	// Hooks runs custom-database scripts; nil means HooksEngine(cfg).
	Hooks *hooks.Engine
	// Logger gets custom-database script failures; nil means slog.Default().
	Logger *slog.Logger
}

// OpenCore opens the database of cfg and builds the services over it. Close the Store and
// LegacyDBs when done.
func OpenCore(ctx context.Context, cfg config.Server, o CoreOptions) (*Core, error) {
	box, err := seal.New(o.KEK)
	if err != nil {
		return nil, err
	}
	engine := o.Hooks
	if engine == nil {
		if engine, err = HooksEngine(cfg); err != nil {
			return nil, err
		}
	}
	st, err := sqlstore.OpenWith(ctx, cfg.DB, StoreOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	if o.Migrate {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrating database: %w", err)
		}
	} else if ok, err := st.SchemaUpToDate(ctx); err != nil || !ok {
		st.Close()
		if err == nil {
			err = errors.New("database schema is out of date: run `sesame migrate` (or pass --migrate, or set auto_migrate: true)")
		}
		return nil, err
	}
	keys := token.NewKeys(st, box, o.Now)
	hasher := password.NewHasher(password.Params{
		MemoryKiB:   cfg.PasswordHashMemoryKiB,
		Iterations:  cfg.PasswordHashIterations,
		Parallelism: 1,
	}, o.PasswordConcurrency)
	pools := &scripted.Pools{}
	realms := scripted.New(scripted.Options{Engine: engine, SQL: pools, Users: st, Hasher: hasher, Box: box, Logger: o.Logger})
	return &Core{
		Store:  st,
		Box:    box,
		Keys:   keys,
		Hasher: hasher,
		Admin: &admin.Service{Store: st, Hasher: hasher, Box: box, Keys: keys, Now: o.Now,
			ManagementAudience: admin.ManagementAudience(cfg.EffectiveIssuer()), CustomDB: realms, Actions: engine},
		Realms:    realms,
		LegacyDBs: pools,
	}, nil
}

// OpenScratchCore builds a Core as OpenCore does over a throw-away in-memory SQLite database
// and key-encryption key, hashing with p's memory and passes (the lanes are the server's, one)
// on up to concurrency goroutines: what the load tool's crypto floor measures. Close the Store
// and LegacyDBs when done.
func OpenScratchCore(ctx context.Context, p password.Params, concurrency int) (*Core, error) {
	cfg := config.DefaultServer()
	cfg.DB = "sqlite::memory:"
	cfg.PasswordHashMemoryKiB, cfg.PasswordHashIterations = p.MemoryKiB, p.Iterations
	return OpenCore(ctx, cfg, CoreOptions{KEK: seal.NewKEK(), Migrate: true, PasswordConcurrency: concurrency})
}

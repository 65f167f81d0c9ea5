package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

// Core is what every entry point that touches a tenant needs, built one way for serve and the
// CLI's admin verbs alike: the store (opened with the config's pool options, migrated or
// checked), the sealing box of the key-encryption key, the signing keys and the password
// hasher with the config's cost.
type Core struct {
	Store  *sqlstore.Store
	Box    *seal.Box
	Keys   *token.Keys
	Hasher *password.Hasher
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
}

// OpenCore opens the database of cfg and builds the services over it. Close the Store when
// done.
func OpenCore(ctx context.Context, cfg config.Server, o CoreOptions) (*Core, error) {
	box, err := seal.New(o.KEK)
	if err != nil {
		return nil, err
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
	return &Core{
		Store: st,
		Box:   box,
		Keys:  token.NewKeys(st, box, o.Now),
		Hasher: password.NewHasher(password.Params{
			MemoryKiB:   cfg.PasswordHashMemoryKiB,
			Iterations:  cfg.PasswordHashIterations,
			Parallelism: 1,
		}, o.PasswordConcurrency),
	}, nil
}

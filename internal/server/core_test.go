package server

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
)

// TestOpenCore opens a SQLite file the way serve, the CLI and bench do and checks what each of
// them relies on: an unmigrated database is refused unless told to migrate, the admin service
// works on the same store (its Management API is the effective issuer's), and signing keys
// sealed with one KEK open again only with that KEK.
func TestOpenCore(t *testing.T) {
	ctx := t.Context()
	cfg := config.DefaultServer()
	cfg.DB = "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	cfg.Addr = "127.0.0.1:9999"
	cfg.PasswordHashMemoryKiB, cfg.PasswordHashIterations = 64, 1
	kek := seal.NewKEK()

	if _, err := OpenCore(ctx, cfg, CoreOptions{KEK: kek}); err == nil || !strings.Contains(err.Error(), "sesame migrate") {
		t.Fatalf("OpenCore on an empty database without Migrate: got %v, want the out-of-date schema error", err)
	}

	core, err := OpenCore(ctx, cfg, CoreOptions{KEK: kek, Migrate: true})
	if err != nil {
		t.Fatalf("OpenCore: %v", err)
	}
	if core.Admin.CustomDB != core.Realms || core.Admin.Keys != core.Keys {
		t.Errorf("admin service: got realms %p keys %p, want the core's %p %p", core.Admin.CustomDB, core.Admin.Keys, core.Realms, core.Keys)
	}
	if err := core.Admin.EnsureManagementAPI(ctx); err != nil {
		t.Fatalf("EnsureManagementAPI: %v", err)
	}
	if got, want := core.Hasher.Params().MemoryKiB, uint32(64); got != want {
		t.Errorf("hasher memory: got %d KiB, want the config's %d", got, want)
	}
	if err := core.Keys.Ensure(ctx, "RS256"); err != nil {
		t.Fatalf("Keys.Ensure: %v", err)
	}
	core.LegacyDBs.Close()
	core.Store.Close()

	// Reopened (now migrated), the store holds what the first core's admin service wrote.
	again, err := OpenCore(ctx, cfg, CoreOptions{KEK: kek})
	if err != nil {
		t.Fatalf("OpenCore again: %v", err)
	}
	defer again.Store.Close()
	got, err := admin.StoredManagementAudience(ctx, again.Store)
	if want := admin.ManagementAudience(cfg.EffectiveIssuer()); err != nil || got != want {
		t.Errorf("stored Management API: got %q (%v), want %q", got, err, want)
	}
	if _, err := again.Keys.JWKS(ctx); err != nil {
		t.Errorf("JWKS with the same KEK: %v", err)
	}

	// Another KEK cannot open the signing keys sealed with the first.
	other, err := OpenCore(ctx, cfg, CoreOptions{KEK: seal.NewKEK()})
	if err != nil {
		t.Fatalf("OpenCore with another KEK: %v", err)
	}
	defer other.Store.Close()
	errEnsure := other.Keys.Ensure(ctx, "RS256")
	_, errJWKS := other.Keys.JWKS(ctx)
	if errEnsure == nil && errJWKS == nil {
		t.Errorf("signing keys opened with another KEK: got no error, want one")
	}
}

package token_test

import (
	"path/filepath"
	"testing"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// sqliteBackend runs the key lifecycle tests on the real store, a SQLite file per test.
func sqliteBackend() (backend, bool) {
	return backend{name: "sqlite", open: func(t testing.TB) store.SigningKeys {
		t.Helper()
		st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
		if err != nil {
			t.Fatalf("sqlstore.Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return st
	}}, true
}

package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
	})
}

func TestSQLiteMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, "sqlite::memory:") })
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, sqlstore.PostgresDSN(t)) })
}

// open opens and migrates dsn, closing the store when the test ends.
func open(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestOpenDSNs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		name, dsn string
		wantErr   bool
		wantFile  string // a file the DSN must have created
	}{
		{"absolute", "sqlite://" + filepath.Join(dir, "abs.db"), false, filepath.Join(dir, "abs.db")},
		{"relative with slashes", "sqlite://rel.db", false, filepath.Join(dir, "rel.db")},
		{"relative", "sqlite:plain.db", false, filepath.Join(dir, "plain.db")},
		{"memory", "sqlite::memory:", false, ""},
		{"no file", "sqlite:", true, ""},
		{"unknown scheme", "mysql://localhost/db", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlstore.Open(t.Context(), tc.dsn)
			if tc.wantErr {
				if err == nil {
					s.Close()
					t.Fatalf("Open(%q): got nil error, want one", tc.dsn)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): got %v, want nil", tc.dsn, err)
			}
			defer s.Close()
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if got := s.Dialect(); got != "sqlite" {
				t.Errorf("Dialect: got %q, want sqlite", got)
			}
			if tc.wantFile != "" {
				if _, err := os.Stat(tc.wantFile); err != nil {
					t.Errorf("database file: got %v, want %s to exist", err, tc.wantFile)
				}
			}
		})
	}
}

// TestSQLiteTwoStoresOneFile runs writers from two Store values (as a server and the CLI beside
// it would) on one file: BEGIN IMMEDIATE and busy_timeout must keep SQLITE_BUSY away.
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "shared.db")
	a, b := open(t, dsn), open(t, dsn)
	ctx := t.Context()
	if err := a.CreateUser(ctx, store.User{ID: "auth0|1", Connection: "db"}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 200)
	done := make(chan struct{})
	for _, s := range []*sqlstore.Store{a, b} {
		go func() {
			for range 100 {
				errs <- s.UpdateUser(ctx, "auth0|1", func(u *store.User) error { u.LoginsCount++; return nil })
			}
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("UpdateUser: got %v, want nil", err)
		}
	}
	u, err := b.GetUser(ctx, "auth0|1")
	if err != nil {
		t.Fatal(err)
	}
	if u.LoginsCount != 200 {
		t.Errorf("LoginsCount: got %d, want 200 (an update was lost)", u.LoginsCount)
	}
}

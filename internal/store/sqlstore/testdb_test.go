package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// PostgresDSN returns a DSN for a fresh, empty schema in the database SESAME_TEST_POSTGRES
// names, dropped when the test ends; it skips the test when the variable is unset. It is
// exported for the external tests of this package.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("SESAME_TEST_POSTGRES")
	if base == "" {
		t.Skip("SESAME_TEST_POSTGRES not set: skipping PostgreSQL conformance")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "s_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SESAME_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// dialects are the databases a dialect-sensitive test runs on: a fresh DSN for each.
var dialects = []struct {
	name string
	dsn  func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return "sqlite://" + filepath.Join(t.TempDir(), "sesame.db") }},
	{"postgres", PostgresDSN},
}

// openT opens dsn without migrating and closes it when the test ends.
func openT(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

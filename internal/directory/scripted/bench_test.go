package scripted_test

import (
	"testing"

	"github.com/sesameauth/sesame/internal/directory/scripted"
)

// BenchmarkPostgresTemplateLogin is one login through the PostgreSQL-template login script
// against a real legacy database: a fresh JavaScript runtime, the query on a pooled
// connection, a bcrypt comparison (cost 4 here; legacy stores commonly use 10, which alone is
// ~50 ms of one core) and the upsert of the Sesame user record. Run with
// SESAME_TEST_POSTGRES set:
//
//	go test -run '^$' -bench PostgresTemplateLogin -benchtime 200x ./internal/directory/scripted/
func BenchmarkPostgresTemplateLogin(b *testing.B) {
	db := newLegacyDB(b, legacyUser{"bench", "bench@example.com", "bench-pw-1"})
	f := newFixture(b, scripted.Options{})
	d := f.dir(b, map[string]string{"login": script(b, "pg_login.js")}, map[string]any{"PG_URL": db.URL}, false)
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.Authenticate(b.Context(), "bench@example.com", "bench-pw-1"); err != nil {
			b.Fatal(err)
		}
	}
}

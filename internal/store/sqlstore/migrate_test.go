package sqlstore

import (
	"errors"
	"testing"
	"testing/fstest"
)

func files(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

const (
	m1        = "CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y INTEGER);\n"
	m1Changed = "CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y BIGINT);\n"
	m2        = "CREATE TABLE c (z INTEGER);\n"
	m2Broken  = "CREATE TABLE d (z INTEGER);\nTHIS IS NOT SQL;\n"
)

func countMigrations(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("counting migrations: %v", err)
	}
	return n
}

func TestMigrate(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			tests := []struct {
				name      string
				first     fstest.MapFS // applied first, must succeed
				then      fstest.MapFS
				wantErr   error // of migrating with then (nil: success)
				wantAnyEr bool  // then fails with some error
				wantUp    bool  // SchemaUpToDate with then, after the second migration
				wantCount int
			}{
				{"re-run is a no-op", files("0001_a.sql", m1), files("0001_a.sql", m1), nil, false, true, 1},
				{"pending migration is applied", files("0001_a.sql", m1), files("0001_a.sql", m1, "0002_c.sql", m2), nil, false, true, 2},
				{"changed migration is refused", files("0001_a.sql", m1), files("0001_a.sql", m1Changed), ErrMigrationChanged, false, false, 1},
				{"newer schema is refused", files("0001_a.sql", m1, "0002_c.sql", m2), files("0001_a.sql", m1), ErrSchemaTooNew, false, false, 2},
				{"broken migration is rolled back", files("0001_a.sql", m1), files("0001_a.sql", m1, "0002_d.sql", m2Broken), nil, true, false, 1},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					s := openT(t, d.dsn(t))
					ctx := t.Context()
					if up, err := s.schemaUpToDate(ctx, tc.first); err != nil || up {
						t.Fatalf("SchemaUpToDate of an empty database: got %v, %v, want false, nil", up, err)
					}
					if err := s.migrate(ctx, tc.first); err != nil {
						t.Fatalf("first migrate: %v", err)
					}
					err := s.migrate(ctx, tc.then)
					switch {
					case tc.wantAnyEr && err == nil:
						t.Fatal("second migrate: got nil, want an error")
					case !tc.wantAnyEr && !errors.Is(err, tc.wantErr):
						t.Fatalf("second migrate: got %v, want %v", err, tc.wantErr)
					}
					up, err := s.schemaUpToDate(ctx, tc.then)
					if tc.wantErr != nil {
						if !errors.Is(err, tc.wantErr) {
							t.Errorf("SchemaUpToDate: got %v, want %v", err, tc.wantErr)
						}
					} else if err != nil || up != tc.wantUp {
						t.Errorf("SchemaUpToDate: got %v, %v, want %v, nil", up, err, tc.wantUp)
					}
					if got := countMigrations(t, s); got != tc.wantCount {
						t.Errorf("applied migrations: got %d, want %d", got, tc.wantCount)
					}
					if tc.wantAnyEr {
						var n int
						if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM d`).Scan(&n); err == nil {
							t.Error("table d of the broken migration exists, want it rolled back")
						}
					}
				})
			}
		})
	}
}

func TestMigrateEmbedded(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			ctx := t.Context()
			want, err := loadMigrations(openT(t, dsn).d.migrations)
			if err != nil || len(want) == 0 {
				t.Fatalf("embedded migrations: got %d, %v, want some", len(want), err)
			}
			// Several nodes start at once on one database: every Migrate succeeds, each
			// migration is applied once.
			stores := []*Store{openT(t, dsn), openT(t, dsn), openT(t, dsn)}
			errs := make(chan error, len(stores))
			for _, s := range stores {
				go func() { errs <- s.Migrate(ctx) }()
			}
			for range stores {
				if err := <-errs; err != nil {
					t.Errorf("concurrent Migrate: got %v, want nil", err)
				}
			}
			if got := countMigrations(t, stores[0]); got != len(want) {
				t.Errorf("applied migrations: got %d, want %d", got, len(want))
			}
			for _, s := range stores {
				if up, err := s.SchemaUpToDate(ctx); err != nil || !up {
					t.Errorf("SchemaUpToDate: got %v, %v, want true, nil", up, err)
				}
			}
			if err := stores[1].Migrate(ctx); err != nil {
				t.Errorf("Migrate again: got %v, want nil", err)
			}
		})
	}
}

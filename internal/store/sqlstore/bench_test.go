package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// benchStore opens a migrated SQLite store on a temp file.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s := openT(b, "sqlite://"+filepath.Join(b.TempDir(), "bench.db"))
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// seed inserts n records in one transaction through one prepared statement (100k CreateUser
// calls would each be a transaction).
func seed[T any](b *testing.B, s *Store, t *table[T], n int, make func(i int) T) {
	b.Helper()
	ctx := context.Background()
	err := func() error {
		tx, err := s.write.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		stmt, err := tx.PrepareContext(ctx, s.q(t.ins))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range n {
			v := make(i)
			var e encoder
			if _, err := stmt.ExecContext(ctx, t.values(&e, &v)...); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		b.Fatalf("seeding %s: %v", t.name, err)
	}
}

const benchUsers = 100_000

func seedUsers(b *testing.B, s *Store) {
	now := time.Now()
	seed(b, s, users, benchUsers, func(i int) store.User {
		return store.User{ID: fmt.Sprintf("auth0|%024x", i), Connection: "db", Email: fmt.Sprintf("user%d@example.com", i),
			Username: fmt.Sprintf("user%d", i), PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
			AppMetadata: map[string]any{"plan": "pro"}, CreatedAt: now}
	})
}

// BenchmarkFindUser looks users up by email (in another case) among 100k.
func BenchmarkFindUser(b *testing.B) {
	s := benchStore(b)
	seedUsers(b, s)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FindUser(ctx, "db", fmt.Sprintf("USER%d@example.com", rand.N(benchUsers))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.FindUser(ctx, "db", fmt.Sprintf("user%d", rand.N(benchUsers))); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// benchTokens is how many refresh tokens (one family each) sit in the table beside the
// benchmark's own chains, so the indexes have a production-like depth.
const benchTokens = 200_000

func seedTokens(b *testing.B, s *Store) {
	now := time.Now()
	seed(b, s, families, benchTokens, func(i int) store.RefreshFamily {
		return store.RefreshFamily{ID: fmt.Sprintf("fam%08d", i), ClientID: "c1", UserID: fmt.Sprintf("auth0|%024x", i%benchUsers),
			Connection: "db", Scope: "openid offline_access", AMR: []string{"pwd"}, CreatedAt: now, AuthTime: now}
	})
	seed(b, s, tokens, benchTokens, func(i int) store.RefreshToken {
		return store.RefreshToken{Hash: store.NewID("", 32), FamilyID: fmt.Sprintf("fam%08d", i), CreatedAt: now,
			IdleExpiresAt: now.Add(time.Hour)}
	})
}

// BenchmarkRedeemRefreshToken rotates refresh tokens: each op redeems the current token of a
// chain and inserts its successor, as the refresh grant does.
func BenchmarkRedeemRefreshToken(b *testing.B) {
	s := benchStore(b)
	seedTokens(b, s)
	ctx := context.Background()
	var chains atomic.Int64
	// newChain starts a family and returns a function redeeming its current token.
	newChain := func(b *testing.B) func() {
		id := fmt.Sprintf("bench-%d", chains.Add(1))
		now := time.Now()
		cur := store.NewID("", 32)
		if err := s.CreateRefreshFamily(ctx, store.RefreshFamily{ID: id, ClientID: "c1", UserID: "auth0|bench", CreatedAt: now},
			store.RefreshToken{Hash: cur, CreatedAt: now}); err != nil {
			b.Fatal(err)
		}
		return func() {
			now := time.Now()
			next := store.RefreshToken{Hash: store.NewID("", 32), CreatedAt: now, IdleExpiresAt: now.Add(time.Hour)}
			if _, err := s.RedeemRefreshToken(ctx, store.Redemption{Hash: cur, Now: now, Next: &next}); err != nil {
				b.Fatal(err)
			}
			cur = next.Hash
		}
	}
	b.Run("serial", func(b *testing.B) {
		redeem := newChain(b)
		for b.Loop() {
			redeem()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			redeem := newChain(b)
			for pb.Next() {
				redeem()
			}
		})
	})
}

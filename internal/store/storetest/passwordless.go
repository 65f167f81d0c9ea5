package storetest

import (
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func testPasswordless(t *testing.T, newStore NewStore) {
	code := func(hash string) store.PasswordlessCode {
		return store.PasswordlessCode{Connection: "email", Recipient: "ann@example.com", CodeHash: hash,
			CreatedAt: at(0), ExpiresAt: at(3 * time.Minute)}
	}
	t.Run("tries are counted up to the limit", func(t *testing.T) {
		st := newStore(t)
		ctx := t.Context()
		must(t, "put", st.PutPasswordlessCode(ctx, code("h1")))
		for want := 1; want <= 3; want++ {
			got, err := st.TakePasswordlessAttempt(ctx, "email", "ann@example.com", at(time.Minute), 3)
			must(t, "take", err)
			if got.Attempts != want || got.CodeHash != "h1" || !got.ExpiresAt.Equal(at(3*time.Minute)) {
				t.Fatalf("take %d: got %+v", want, got)
			}
		}
		_, err := st.TakePasswordlessAttempt(ctx, "email", "ann@example.com", at(time.Minute), 3)
		wantErr(t, "fourth take", err, store.ErrNotFound)
	})
	t.Run("a new code replaces the old one and its count", func(t *testing.T) {
		st := newStore(t)
		ctx := t.Context()
		must(t, "put", st.PutPasswordlessCode(ctx, code("h1")))
		for range 3 {
			_, err := st.TakePasswordlessAttempt(ctx, "email", "ann@example.com", at(time.Minute), 3)
			must(t, "take", err)
		}
		must(t, "put again", st.PutPasswordlessCode(ctx, code("h2")))
		got, err := st.TakePasswordlessAttempt(ctx, "email", "ann@example.com", at(time.Minute), 3)
		must(t, "take", err)
		if got.Attempts != 1 || got.CodeHash != "h2" {
			t.Fatalf("got %+v, want the new code with one attempt", got)
		}
		wantErr(t, "use old", st.UsePasswordlessCode(ctx, "email", "ann@example.com", "h1"), store.ErrNotFound)
	})
	t.Run("expired and unknown codes are not found", func(t *testing.T) {
		st := newStore(t)
		ctx := t.Context()
		must(t, "put", st.PutPasswordlessCode(ctx, code("h1")))
		_, err := st.TakePasswordlessAttempt(ctx, "email", "ann@example.com", at(3*time.Minute), 3)
		wantErr(t, "take at expiry", err, store.ErrNotFound)
		_, err = st.TakePasswordlessAttempt(ctx, "sms", "ann@example.com", at(time.Minute), 3)
		wantErr(t, "take other connection", err, store.ErrNotFound)
		n, err := st.DeleteExpiredPasswordlessCodes(ctx, at(4*time.Minute))
		must(t, "purge", err)
		if n != 1 {
			t.Fatalf("purge: got %d, want 1", n)
		}
		_, err = st.TakePasswordlessAttempt(ctx, "email", "ann@example.com", at(time.Minute), 3)
		wantErr(t, "take after purge", err, store.ErrNotFound)
	})
	t.Run("parallel tries never pass the limit and a code is used once", func(t *testing.T) {
		st := newStore(t)
		ctx := t.Context()
		for round := range 20 {
			must(t, "put", st.PutPasswordlessCode(ctx, code("h1")))
			errs := parallel(12, func(int) error {
				_, err := st.TakePasswordlessAttempt(ctx, "email", "ann@example.com", at(time.Minute), 3)
				return err
			})
			if n := countNil(errs); n != 3 {
				t.Fatalf("round %d: %d of 12 parallel tries counted, want 3", round, n)
			}
			errs = parallel(8, func(int) error { return st.UsePasswordlessCode(ctx, "email", "ann@example.com", "h1") })
			if n := countNil(errs); n != 1 {
				t.Fatalf("round %d: the code was used %d times, want 1", round, n)
			}
		}
	})
}

func countNil(errs []error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n
}

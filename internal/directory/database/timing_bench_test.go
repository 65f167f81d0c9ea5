package database_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/database"
	"github.com/sesameauth/sesame/internal/password"
)

// BenchmarkAuthenticateTiming measures what an attacker would: 200 tries each of an unknown
// user and a wrong password, interleaved so that both see the same machine noise, at
// production hashing cost. It reports both medians and their difference in percent of the
// wrong-password median (issue 5 wants it under 10%). It is a benchmark, not a test: timing
// is never asserted in a unit test.
func BenchmarkAuthenticateTiming(b *testing.B) {
	st := openStore(b)
	h := password.NewHasher(password.DefaultParams, 0)
	addUser(b, st, "auth0|0000000000000000000000b1", conn, "alice@example.com", "alice", argonHash(b, h, "wonderland"), false)
	d := database.New(st, conn, h)
	const tries = 200
	try := func(user string, want error) time.Duration {
		start := time.Now()
		_, err := d.Authenticate(b.Context(), user, "Wonderland")
		el := time.Since(start)
		if !errors.Is(err, want) {
			b.Fatalf("Authenticate(%s) error = %v, want %v", user, err, want)
		}
		return el
	}
	for b.Loop() {
		unknown, wrong := make([]time.Duration, tries), make([]time.Duration, tries)
		for i := range tries {
			unknown[i] = try("nobody@example.com", directory.ErrUnknownUser)
			wrong[i] = try("alice@example.com", directory.ErrInvalidCredentials)
		}
		mu, mw := median(unknown), median(wrong)
		b.ReportMetric(float64(mu.Microseconds()), "unknown-median-µs")
		b.ReportMetric(float64(mw.Microseconds()), "wrong-median-µs")
		b.ReportMetric(100*float64(mu-mw)/float64(mw), "diff-%")
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

package apiauth_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/apiauth"
)

const minRefresh = 30 * time.Second

// newClockedValidator returns a validator for is whose clock the test moves.
func newClockedValidator(t *testing.T, is *testIssuer, clock *fakeClock) *apiauth.Validator {
	t.Helper()
	v, err := apiauth.New(apiauth.Config{
		Issuer:             is.url(),
		Audience:           testAudience,
		MinRefreshInterval: minRefresh,
		CacheTTL:           10 * time.Minute,
		Now:                clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// step is one validation in a JWKS scenario, after an optional change to the world.
type step struct {
	name     string
	before   func(is *testIssuer, clock *fakeClock)
	key      testKey
	wantErr  error
	wantHits int64 // JWKS fetches so far
}

func TestKeyCache(t *testing.T) {
	a, b, c := rsaKey(0, "a"), rsaKey(1, "b"), rsaKey(2, "c")
	tests := []struct {
		name      string
		published []testKey
		steps     []step
	}{
		{
			name:      "key rotation: an unknown kid refetches once and then succeeds",
			published: []testKey{a},
			steps: []step{
				{name: "first token fetches", key: a, wantHits: 1},
				{name: "cached", key: a, wantHits: 1},
				{
					name:     "rotated key",
					before:   func(is *testIssuer, clock *fakeClock) { is.publish(a, b); clock.Advance(minRefresh) },
					key:      b,
					wantHits: 2,
				},
				{name: "rotated key cached", key: b, wantHits: 2},
				{name: "old key still cached", key: a, wantHits: 2},
			},
		},
		{
			name:      "refetch on unknown kid is rate limited",
			published: []testKey{a},
			steps: []step{
				{name: "first token fetches", key: a, wantHits: 1},
				{name: "unknown kid right after a fetch", key: c, wantErr: apiauth.ErrUnknownKey, wantHits: 1},
				{
					name:     "unknown kid after the interval refetches",
					before:   func(is *testIssuer, clock *fakeClock) { clock.Advance(minRefresh) },
					key:      c,
					wantErr:  apiauth.ErrUnknownKey,
					wantHits: 2,
				},
				{name: "again at once", key: c, wantErr: apiauth.ErrUnknownKey, wantHits: 2},
				{name: "and again", key: c, wantErr: apiauth.ErrUnknownKey, wantHits: 2},
				{
					name:     "published but inside the interval",
					before:   func(is *testIssuer, clock *fakeClock) { is.publish(a, c); clock.Advance(minRefresh / 2) },
					key:      c,
					wantErr:  apiauth.ErrUnknownKey,
					wantHits: 2,
				},
				{
					name:     "published and the interval passed",
					before:   func(is *testIssuer, clock *fakeClock) { clock.Advance(minRefresh / 2) },
					key:      c,
					wantHits: 3,
				},
			},
		},
		{
			name:      "cached keys are kept when a refetch fails",
			published: []testKey{a},
			steps: []step{
				{name: "first token fetches", key: a, wantHits: 1},
				{
					name: "cache expired and issuer down",
					before: func(is *testIssuer, clock *fakeClock) {
						is.fail(http.StatusInternalServerError)
						clock.Advance(11 * time.Minute)
					},
					key:      a,
					wantHits: 2,
				},
				{name: "no refetch inside the interval", key: a, wantHits: 2},
				{name: "unknown kid is still invalid", key: b, wantErr: apiauth.ErrUnknownKey, wantHits: 2},
				{
					name: "issuer back",
					before: func(is *testIssuer, clock *fakeClock) {
						is.fail(0)
						is.publish(b)
						clock.Advance(minRefresh)
					},
					key:      b,
					wantHits: 3,
				},
			},
		},
		{
			name:      "cache expiry refetches and drops retired keys",
			published: []testKey{a},
			steps: []step{
				{name: "first token fetches", key: a, wantHits: 1},
				{
					name:     "after the TTL",
					before:   func(is *testIssuer, clock *fakeClock) { is.publish(b); clock.Advance(11 * time.Minute) },
					key:      a,
					wantErr:  apiauth.ErrUnknownKey,
					wantHits: 2,
				},
			},
		},
		{
			name: "issuer down from the start",
			steps: []step{
				{
					name:     "first token",
					before:   func(is *testIssuer, clock *fakeClock) { is.fail(http.StatusServiceUnavailable) },
					key:      a,
					wantErr:  apiauth.ErrKeysUnavailable,
					wantHits: 1,
				},
				{name: "inside the interval: no fetch", key: a, wantErr: apiauth.ErrKeysUnavailable, wantHits: 1},
				{
					name: "issuer back after the interval",
					before: func(is *testIssuer, clock *fakeClock) {
						is.fail(0)
						is.publish(a)
						clock.Advance(minRefresh)
					},
					key:      a,
					wantHits: 2,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := newTestIssuer(t, tt.published...)
			clock := newFakeClock()
			v := newClockedValidator(t, is, clock)
			for _, s := range tt.steps {
				if s.before != nil {
					s.before(is, clock)
				}
				_, err := v.Validate(t.Context(), sign(t, s.key, "JWT", claimsFor(is, clock.Now())))
				if !errors.Is(err, s.wantErr) || (s.wantErr == nil) != (err == nil) {
					t.Fatalf("%s: got error %v, want %v", s.name, err, s.wantErr)
				}
				if got := is.hits.Load(); got != s.wantHits {
					t.Fatalf("%s: got %d JWKS fetches, want %d", s.name, got, s.wantHits)
				}
			}
		})
	}
}

func TestConcurrentFirstValidationsShareOneFetch(t *testing.T) {
	key := rsaKey(0, "k1")
	is := newTestIssuer(t, key)
	is.delay = 100 * time.Millisecond // long enough for every goroutine to arrive during the fetch
	v, err := apiauth.New(apiauth.Config{Issuer: is.url(), Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	raw := sign(t, key, "JWT", claimsFor(is, time.Now()))
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = v.Validate(t.Context(), raw)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: got %v, want nil", i, err)
		}
	}
	if got := is.hits.Load(); got != 1 {
		t.Errorf("got %d JWKS fetches, want 1", got)
	}
}

func TestPrefetch(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		wantErr bool
	}{
		{name: "issuer up", status: 0},
		{name: "issuer down", status: http.StatusNotFound, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := rsaKey(0, "k1")
			is := newTestIssuer(t, key)
			is.fail(tt.status)
			v, err := apiauth.New(apiauth.Config{Issuer: is.url(), Audience: testAudience})
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Prefetch(t.Context()); (err != nil) != tt.wantErr {
				t.Fatalf("Prefetch: got %v, want error %t", err, tt.wantErr)
			}
			if got := is.hits.Load(); got != 1 {
				t.Errorf("got %d JWKS fetches after Prefetch, want 1", got)
			}
		})
	}
}

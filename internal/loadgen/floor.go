package loadgen

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/token"
)

// FloorAlgs are the algorithms whose signature the floor measures.
var FloorAlgs = []string{"RS256", "ES256", "EdDSA", "HS256"}

// Floor is the crypto cost of the server's work on this machine, measured with the server's
// own packages: what no implementation of the same protocol on the same cores can avoid.
type Floor struct {
	Cores      int             `json:"cores"`
	HashParams password.Params `json:"hash_params"`
	// Hash is one argon2id verification with HashParams.
	Hash time.Duration `json:"-"`
	// Sign is one access-token signature per algorithm; Verify one verification.
	Sign   map[string]time.Duration `json:"-"`
	Verify map[string]time.Duration `json:"-"`
	// AllCores is the same crypto measured with every core doing it at once: the core time one
	// operation takes then. Cores ÷ Cost is a real ceiling only if cores scale linearly; where
	// they share a physical core or a busy host (the 2-vCPU machines we measure on do 1.4–2.0×
	// one core's RSA work, varying minute to minute) the all-core cost is longer, and cores ÷
	// its cost is what a program that did nothing but the crypto could reach in this run.
	AllCores *Floor `json:"-"`
}

// MeasureFloor times one password verification with h and one signature and verification per
// algorithm of FloorAlgs with keys (made here when missing), each the median of several runs
// on one core lasting together at least minTime (0 means 200ms; tests pass less), and then
// each again on all cores at once (Floor.AllCores). The caller builds h and keys as the server
// does (server.OpenScratchCore): loadgen sits below the composition root and builds neither.
func MeasureFloor(ctx context.Context, h *password.Hasher, keys *token.Keys, minTime time.Duration) (Floor, error) {
	if minTime <= 0 {
		minTime = 200 * time.Millisecond
	}
	cores := runtime.GOMAXPROCS(0)
	f := Floor{Cores: cores, Sign: map[string]time.Duration{}, Verify: map[string]time.Duration{}}
	all := Floor{Cores: cores, Sign: map[string]time.Duration{}, Verify: map[string]time.Duration{}}
	// measure times fn on one core and then on all of them.
	measure := func(one, onAll *time.Duration, n int, fn func() error) error {
		var err error
		if *one, err = median(n, minTime, fn); err != nil {
			return err
		}
		// Long enough that the calls still running when the others stop (less contended) are
		// a small part of each worker's time.
		*onAll, err = allCores(cores, max(minTime, 16*(*one)), fn)
		return err
	}
	f.HashParams = h.Params()
	all.HashParams = f.HashParams
	const pw = "a bench password of usual length"
	enc, err := h.Hash(ctx, pw)
	if err != nil {
		return f, err
	}
	if err := measure(&f.Hash, &all.Hash, 5, func() error {
		ok, _, err := h.Verify(ctx, enc, pw)
		if err == nil && !ok {
			err = fmt.Errorf("loadgen: the floor's own hash did not verify")
		}
		return err
	}); err != nil {
		return f, err
	}

	if err := keys.Ensure(ctx, "RS256", "ES256", "EdDSA"); err != nil {
		return f, err
	}
	m := &token.Minter{Keys: keys, Issuer: "https://bench.sesame.test/"}
	secret := []byte("bench-hs256-secret-0123456789abcdef")
	for _, alg := range FloorAlgs {
		// A typical password-grant access token: two audiences, a scope, gty.
		at := token.AccessToken{Subject: "auth0|65f1c0ffee0123456789abcd", ClientID: "bench0123456789abcdef0123456789ab",
			Audience: "https://api.bench.test/", UserinfoAudience: true, Scope: "openid profile email read:bench",
			GrantType: "password", Alg: alg}
		if alg == "HS256" {
			at.HMACSecret = secret
		}
		raw, _, err := m.AccessToken(ctx, at)
		if err != nil {
			return f, fmt.Errorf("loadgen: signing %s: %w", alg, err)
		}
		var one, onAll time.Duration
		if err := measure(&one, &onAll, 50, func() error {
			_, _, err := m.AccessToken(ctx, at)
			return err
		}); err != nil {
			return f, fmt.Errorf("loadgen: signing %s: %w", alg, err)
		}
		f.Sign[alg], all.Sign[alg] = one, onAll
		if err := measure(&one, &onAll, 50, func() error {
			if alg == "HS256" {
				_, err := token.VerifyHS256(raw, secret)
				return err
			}
			_, err := keys.Verify(ctx, raw, alg)
			return err
		}); err != nil {
			return f, fmt.Errorf("loadgen: verifying %s: %w", alg, err)
		}
		f.Verify[alg], all.Verify[alg] = one, onAll
	}
	f.AllCores = &all
	return f, nil
}

// allCores runs fn on cores goroutines at once, each for at least d, and returns the mean
// time of one call over all of them: the core time a call takes when every core is busy.
func allCores(cores int, d time.Duration, fn func() error) (time.Duration, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		busy  time.Duration
		calls int
		first error
	)
	for range cores {
		wg.Go(func() {
			start := time.Now()
			n := 0
			for n < 2 || time.Since(start) < d {
				if err := fn(); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					return
				}
				n++
			}
			el := time.Since(start)
			mu.Lock()
			busy += el
			calls += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return busy / time.Duration(calls), nil
}

// median runs fn at least n times and for at least d, and returns the median duration.
func median(n int, d time.Duration, fn func() error) (time.Duration, error) {
	var ds []time.Duration
	start := time.Now()
	for len(ds) < n || time.Since(start) < d {
		t := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t))
		if len(ds) >= 10000 {
			break
		}
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

// Cost is the crypto work one successful request of kind costs the server. apiAlg is the
// access token's algorithm; idToken says whether the scope asked for openid (an RS256 ID
// token). The formulas, which docs/performance.md repeats:
//
//	password, realm:  1 hash + sign(api alg) + sign(RS256 ID token)
//	refresh:          sign(api alg) + sign(RS256 ID token)
//	assertion:        verify(ES256 client assertion) + sign(api alg) + sign(RS256 ID token)
//	                  (a refresh grant authenticated with private_key_jwt)
//	userinfo:         verify(api alg)
//
// The ID-token term is dropped when the scope has no openid.
func (f Floor) Cost(kind, apiAlg string, idToken bool) time.Duration {
	if apiAlg == "" {
		apiAlg = "RS256"
	}
	id := time.Duration(0)
	if idToken {
		id = f.Sign["RS256"]
	}
	switch kind {
	case KindPassword, KindRealm:
		return f.Hash + f.Sign[apiAlg] + id
	case KindRefresh:
		return f.Sign[apiAlg] + id
	case KindAssertion:
		return f.Verify["ES256"] + f.Sign[apiAlg] + id
	case KindUserinfo:
		return f.Verify[apiAlg]
	}
	return 0
}

// Formula describes Cost for a scenario in words, for the report.
func Formula(scenario, apiAlg string, idToken bool) string {
	if apiAlg == "" {
		apiAlg = "RS256"
	}
	id := ""
	if idToken {
		id = " + sign(RS256, ID token)"
	}
	switch scenario {
	case KindPassword, KindRealm:
		return "1 argon2id verify + sign(" + apiAlg + ", access token)" + id
	case KindRefresh:
		return "sign(" + apiAlg + ", access token)" + id
	case KindAssertion:
		return "verify(ES256, client assertion) + sign(" + apiAlg + ", access token)" + id
	case KindUserinfo:
		return "verify(" + apiAlg + ", access token)"
	case KindMixed:
		return "per request kind as above, weighted by the successes of each kind"
	}
	return ""
}

// Efficiency is achieved throughput ÷ (cores ÷ crypto cost per request): the share of the
// cores' time the successful requests' crypto needed. With several kinds (mixed) the cost is
// the mean over the successes. It returns the efficiency and the ceiling in requests/s.
func (f Floor) Efficiency(r *Result, apiAlg string, idToken bool) (eff, ceiling float64) {
	if r.Successes == 0 || r.Elapsed <= 0 || f.Cores == 0 {
		return 0, 0
	}
	var total time.Duration
	for kind, n := range r.Kinds {
		total += time.Duration(n) * f.Cost(kind, apiAlg, idToken)
	}
	mean := total / time.Duration(r.Successes)
	if mean <= 0 {
		return 0, 0
	}
	ceiling = float64(f.Cores) / mean.Seconds()
	return r.Throughput() / ceiling, ceiling
}

// idTokenIn reports whether scope asks for an ID token.
func idTokenIn(scope string) bool { return slices.Contains(strings.Fields(scope), "openid") }

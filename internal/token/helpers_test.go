package token_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
	"github.com/sesameauth/sesame/internal/token/tokentest"
)

// cryptoSHA256 is the thumbprint hash of RFC 7638 §3.
var cryptoSHA256 = crypto.SHA256

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// t0 is the fixed moment the tests' clocks start at.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// clock is a settable clock shared by the Keys and Minter of one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is one Keys over its own store, box and clock.
type fixture struct {
	st    store.SigningKeys
	box   *seal.Box
	clock *clock
	keys  *token.Keys
}

// backend makes a fresh, empty store for one test.
type backend struct {
	name string
	open func(t testing.TB) store.SigningKeys
}

// backends are the stores the key lifecycle tests run on: the in-memory one always, and
// sqlstore (SQLite) once it is built in (see sqlite_test.go).
func backends() []backend {
	bs := []backend{{"memory", func(testing.TB) store.SigningKeys { return &tokentest.SigningKeys{} }}}
	if b, ok := sqliteBackend(); ok {
		bs = append(bs, b)
	}
	return bs
}

// newFixture returns a fixture over the in-memory store, with Ensure(algs) done when algs is
// not nil.
func newFixture(t testing.TB, algs ...string) *fixture {
	t.Helper()
	return newFixtureOn(t, &tokentest.SigningKeys{}, algs...)
}

func newFixtureOn(t testing.TB, st store.SigningKeys, algs ...string) *fixture {
	t.Helper()
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, box: box, clock: newClock()}
	f.keys = token.NewKeys(f.st, box, f.clock.Now)
	if algs != nil {
		if err := f.keys.Ensure(t.Context(), algs...); err != nil {
			t.Fatalf("Ensure(%v): %v", algs, err)
		}
	}
	return f
}

// kid returns the kid of the key of alg in state, failing when there is not exactly one.
func (f *fixture) kid(t testing.TB, alg, state string) string {
	t.Helper()
	recs, err := f.st.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kid := ""
	for _, r := range recs {
		if r.Alg == alg && r.State == state {
			if kid != "" {
				t.Fatalf("two %s %s keys", state, alg)
			}
			kid = r.KID
		}
	}
	if kid == "" {
		t.Fatalf("no %s %s key", state, alg)
	}
	return kid
}

// private unseals a stored key the way only the server can.
func (f *fixture) private(t testing.TB, kid string) crypto.Signer {
	t.Helper()
	recs, err := f.st.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.KID == kid {
			der, err := f.box.Open(r.PrivateSealed, store.SigningKeyAAD(kid))
			if err != nil {
				t.Fatal(err)
			}
			k, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatal(err)
			}
			return k.(crypto.Signer)
		}
	}
	t.Fatalf("no key %s", kid)
	return nil
}

// jwksKIDs lists the kids of the published key set, in order.
func jwksKIDs(t testing.TB, k *token.Keys) []string {
	t.Helper()
	raw, err := k.JWKS(t.Context())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	kids := []string{}
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// decodeJWT splits a compact JWS into its decoded header and claims, without verifying.
func decodeJWT(t testing.TB, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("got %d parts in %q, want 3", len(parts), raw)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("part is not base64url: %v", err)
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber() // keep integers visibly integers in goldens
		if err := d.Decode(&m); err != nil {
			t.Fatalf("part is not a JSON object: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// golden compares got (indented JSON) with testdata/name.golden, rewriting it under -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<placeholders>" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

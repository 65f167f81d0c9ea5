package token_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
	"github.com/sesameauth/sesame/internal/token/tokentest"
)

func TestEnsure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		algs     []string
		calls    int
		wantAlgs []string
		wantErr  error
	}{
		{name: "nothing asked still makes RS256", calls: 1, wantAlgs: []string{"RS256"}},
		{name: "every algorithm", algs: []string{"ES256", "EdDSA"}, calls: 1, wantAlgs: []string{"RS256", "ES256", "EdDSA"}},
		{name: "duplicates are one", algs: []string{"ES256", "RS256", "ES256"}, calls: 1, wantAlgs: []string{"RS256", "ES256"}},
		{name: "idempotent", algs: []string{"ES256"}, calls: 3, wantAlgs: []string{"RS256", "ES256"}},
		{name: "HS256 has no key pair", algs: []string{"HS256"}, calls: 1, wantErr: token.ErrUnsupportedAlg},
		{name: "none", algs: []string{"none"}, calls: 1, wantErr: token.ErrUnsupportedAlg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			var first []store.SigningKey
			for i := range tt.calls {
				err := f.keys.Ensure(t.Context(), tt.algs...)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Ensure: got error %v, want %v", err, tt.wantErr)
				}
				recs, _ := f.st.ListSigningKeys(t.Context())
				if i == 0 {
					first = recs
				} else if len(recs) != len(first) {
					t.Fatalf("call %d: got %d keys, want the %d of the first call", i+1, len(recs), len(first))
				}
			}
			if tt.wantErr != nil {
				if len(first) != 0 {
					t.Errorf("got %d keys after a failed Ensure, want none", len(first))
				}
				return
			}
			var got []string
			for _, r := range first {
				got = append(got, r.Alg+"/"+r.State)
			}
			var want []string
			for _, a := range tt.wantAlgs {
				want = append(want, a+"/current", a+"/next")
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("keys: got %v, want %v", got, want)
			}
			for _, r := range first {
				if r.State == store.KeyCurrent && !r.ActivatedAt.Equal(t0) {
					t.Errorf("%s current ActivatedAt: got %v, want %v", r.Alg, r.ActivatedAt, t0)
				}
			}
		})
	}
}

// TestEnsureRace starts two nodes on one empty store at once: each algorithm must end with
// exactly one current and one next key, and each node must verify what the other signs.
func TestEnsureRace(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testEnsureRace(t, newFixtureOn(t, b.open(t)))
		})
	}
}

func testEnsureRace(t *testing.T, f *fixture) {
	other := token.NewKeys(f.st, f.box, f.clock.Now)
	nodes := []*token.Keys{f.keys, other}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, k := range nodes {
		wg.Go(func() { errs[i] = k.Ensure(t.Context(), "ES256", "EdDSA") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d Ensure: %v", i, err)
		}
	}
	recs, _ := f.st.ListSigningKeys(t.Context())
	count := map[string]int{}
	for _, r := range recs {
		count[r.Alg+"/"+r.State]++
	}
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		for _, st := range []string{"current", "next"} {
			if got := count[alg+"/"+st]; got != 1 {
				t.Errorf("%s %s keys: got %d, want 1", alg, st, got)
			}
		}
	}
	for i, signer := range nodes {
		verifier := nodes[1-i]
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			raw, err := signer.Sign(t.Context(), alg, "JWT", map[string]any{"sub": "x"})
			if err != nil {
				t.Fatalf("node %d Sign %s: %v", i, alg, err)
			}
			if _, err := verifier.Verify(t.Context(), raw); err != nil {
				t.Errorf("node %d cannot verify node %d's %s token: %v", 1-i, i, alg, err)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testRotation(t, newFixtureOn(t, b.open(t), "ES256"))
		})
	}
}

func testRotation(t *testing.T, f *fixture) {
	ctx := t.Context()
	f.keys.PreviousKeyTTL = 48 * time.Hour

	oldCurrent, oldNext := f.kid(t, "ES256", "current"), f.kid(t, "ES256", "next")
	if kids := jwksKIDs(t, f.keys); !slices.Contains(kids, oldCurrent) || !slices.Contains(kids, oldNext) {
		t.Fatalf("JWKS before rotation: got %v, want current %s and next %s", kids, oldCurrent, oldNext)
	}
	before := sign(t, f.keys, "ES256")
	if got := kidOf(t, before); got != oldCurrent {
		t.Fatalf("signing kid before rotation: got %s, want current %s", got, oldCurrent)
	}
	rsCurrent := f.kid(t, "RS256", "current")

	f.clock.Advance(time.Hour)
	if err := f.keys.Rotate(ctx, "ES256"); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	newNext := f.kid(t, "ES256", "next")
	if got := f.kid(t, "ES256", "current"); got != oldNext {
		t.Errorf("current after rotation: got %s, want the published next %s", got, oldNext)
	}
	if got := f.kid(t, "RS256", "current"); got != rsCurrent {
		t.Errorf("RS256 current changed by an ES256 rotation: got %s, want %s", got, rsCurrent)
	}
	after := sign(t, f.keys, "ES256")
	if got := kidOf(t, after); got != oldNext {
		t.Errorf("signing kid after rotation: got %s, want %s", got, oldNext)
	}
	kids := jwksKIDs(t, f.keys)
	for _, kid := range []string{oldCurrent, oldNext, newNext} {
		if !slices.Contains(kids, kid) {
			t.Errorf("JWKS after rotation: got %v, missing %s", kids, kid)
		}
	}
	if _, err := f.keys.Verify(ctx, before); err != nil {
		t.Errorf("token of the previous key after rotation: got %v, want it verified", err)
	}
	info := keyInfo(t, f.keys, oldCurrent)
	if want := t0.Add(time.Hour + 48*time.Hour); info.State != "previous" || !info.PublishUntil.Equal(want) {
		t.Errorf("previous key: got state %s until %v, want previous until %v", info.State, info.PublishUntil, want)
	}

	// Just before PublishUntil the previous key is still there; after it, gone.
	f.clock.Advance(48*time.Hour - time.Second)
	if kids := jwksKIDs(t, f.keys); !slices.Contains(kids, oldCurrent) {
		t.Errorf("JWKS a second before PublishUntil: got %v, want %s still published", kids, oldCurrent)
	}
	f.clock.Advance(2 * time.Second)
	if kids := jwksKIDs(t, f.keys); slices.Contains(kids, oldCurrent) {
		t.Errorf("JWKS after PublishUntil: got %v, want %s dropped", kids, oldCurrent)
	}
	if _, err := f.keys.Verify(ctx, before); !errors.Is(err, token.ErrInvalidToken) {
		t.Errorf("token of a dropped key: got %v, want ErrInvalidToken", err)
	}
	if _, err := f.keys.Verify(ctx, after); err != nil {
		t.Errorf("token of the current key: got %v, want it verified", err)
	}

	// The next rotation retires the expired previous key in the store.
	if err := f.keys.Rotate(ctx, "ES256"); err != nil {
		t.Fatalf("second Rotate: %v", err)
	}
	if got := keyInfo(t, f.keys, oldCurrent).State; got != "retired" {
		t.Errorf("expired previous key after the next rotation: got %s, want retired", got)
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		ensure      []string // nil: empty store
		rotate      string
		wantRotated []string
		wantErr     error
	}{
		{name: "one algorithm", ensure: []string{"ES256", "EdDSA"}, rotate: "EdDSA", wantRotated: []string{"EdDSA"}},
		{name: "every algorithm", ensure: []string{"ES256"}, rotate: "", wantRotated: []string{"RS256", "ES256"}},
		{name: "unsupported", ensure: []string{"ES256"}, rotate: "HS256", wantErr: token.ErrUnsupportedAlg},
		{name: "algorithm without keys", ensure: []string{"RS256"}, rotate: "EdDSA", wantErr: token.ErrNoKey},
		{name: "empty store", rotate: "", wantErr: token.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.ensure...)
			before := map[string]string{}
			for _, a := range token.Algs {
				if recs, _ := f.st.ListSigningKeys(t.Context()); hasState(recs, a, "current") {
					before[a] = f.kid(t, a, "next")
				}
			}
			err := f.keys.Rotate(t.Context(), tt.rotate)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Rotate(%q): got error %v, want %v", tt.rotate, err, tt.wantErr)
			}
			for alg, next := range before {
				rotated := f.kid(t, alg, "current") == next
				if want := slices.Contains(tt.wantRotated, alg); rotated != want {
					t.Errorf("%s rotated: got %v, want %v", alg, rotated, want)
				}
			}
		})
	}
}

func hasState(recs []store.SigningKey, alg, state string) bool {
	return slices.ContainsFunc(recs, func(r store.SigningKey) bool { return r.Alg == alg && r.State == state })
}

// TestOtherProcessRotation: a rotation made through another Keys (another process or node)
// takes effect here within RefreshInterval, and the store is read at most once per interval.
func TestOtherProcessRotation(t *testing.T) {
	t.Parallel()
	mem := &tokentest.SigningKeys{}
	f := newFixtureOn(t, mem, "ES256")
	cli := token.NewKeys(f.st, f.box, f.clock.Now) // `sesame keys rotate`
	oldCurrent, oldNext := f.kid(t, "ES256", "current"), f.kid(t, "ES256", "next")
	sign(t, f.keys, "ES256") // warm the cache
	reads := mem.Lists()
	for range 200 {
		sign(t, f.keys, "ES256")
		f.clock.Advance(time.Millisecond) // 200 ms in all
	}
	if got := mem.Lists() - reads; got != 0 {
		t.Errorf("store reads while signing 200 tokens within 200ms: got %d, want 0", got)
	}
	if err := cli.Rotate(t.Context(), "ES256"); err != nil {
		t.Fatal(err)
	}
	if got := kidOf(t, sign(t, f.keys, "ES256")); got != oldCurrent {
		t.Errorf("kid right after another process rotated: got %s, want the cached %s", got, oldCurrent)
	}
	f.clock.Advance(token.RefreshInterval)
	if got := kidOf(t, sign(t, f.keys, "ES256")); got != oldNext {
		t.Errorf("kid %s after another process rotated: got %s, want %s", token.RefreshInterval, got, oldNext)
	}
}

// TestSealedAtRest: the store holds the private key sealed, bound to its kid, and the kid is the
// RFC 7638 thumbprint of the public key.
func TestSealedAtRest(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testSealedAtRest(t, newFixtureOn(t, b.open(t), "ES256", "EdDSA"))
		})
	}
}

func testSealedAtRest(t *testing.T, f *fixture) {
	recs, err := f.st.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		der, err := f.box.Open(r.PrivateSealed, store.SigningKeyAAD(r.KID))
		if err != nil {
			t.Fatalf("%s: opening with its kid: %v", r.KID, err)
		}
		if bytes.Contains(r.PrivateSealed, der) {
			t.Errorf("%s: the stored value contains the PKCS#8 DER in the clear", r.KID)
		}
		if _, err := f.box.Open(r.PrivateSealed, store.SigningKeyAAD("another-kid")); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("%s: opening under another kid: got %v, want seal.ErrOpen", r.KID, err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatalf("%s: not PKCS#8: %v", r.KID, err)
		}
		jwk := jose.JSONWebKey{Key: priv}
		pub := jwk.Public()
		sum, err := pub.Thumbprint(cryptoSHA256)
		if err != nil {
			t.Fatal(err)
		}
		if want := base64.RawURLEncoding.EncodeToString(sum); r.KID != want {
			t.Errorf("kid: got %s, want the thumbprint %s", r.KID, want)
		}
	}
}

func TestWrongKEK(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testWrongKEK(t, newFixtureOn(t, b.open(t), "RS256"))
		})
	}
}

func testWrongKEK(t *testing.T, f *fixture) {
	otherBox, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	k := token.NewKeys(f.st, otherBox, f.clock.Now)
	kid := f.kid(t, "RS256", "current")
	checks := map[string]func() error{
		"Sign": func() error {
			_, err := k.Sign(t.Context(), "RS256", "JWT", map[string]any{"sub": "x"})
			return err
		},
		"JWKS": func() error { _, err := k.JWKS(t.Context()); return err },
		"List": func() error { _, err := k.List(t.Context()); return err },
	}
	for name, check := range checks {
		err := check()
		if !errors.Is(err, seal.ErrOpen) {
			t.Errorf("%s with the wrong KEK: got %v, want seal.ErrOpen", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "wrong key-encryption key") {
			t.Errorf("%s error: got %q, want it to name the wrong key-encryption key", name, msg)
		}
	}
	// Ensure over the same store must not paper over it by generating new keys.
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if got := f.kid(t, "RS256", "current"); got != kid {
		t.Errorf("current key after Ensure with the wrong KEK: got %s, want the untouched %s", got, kid)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "EdDSA")
	f.clock.Advance(time.Minute)
	if err := f.keys.Rotate(t.Context(), "EdDSA"); err != nil {
		t.Fatal(err)
	}
	infos, err := f.keys.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range infos {
		if i.KID == "" || i.Thumbprint != i.KID {
			t.Errorf("%+v: got thumbprint %q, want it equal to the kid", i, i.Thumbprint)
		}
		got = append(got, fmt.Sprintf("%s %s created=%s activated=%s until=%s", i.Alg, i.State,
			i.CreatedAt.Sub(t0), since(i.ActivatedAt), since(i.PublishUntil)))
	}
	slices.Sort(got)
	want := []string{
		"EdDSA current created=0s activated=1m0s until=-",
		"EdDSA next created=1m0s activated=- until=-",
		fmt.Sprintf("EdDSA previous created=0s activated=0s until=%s", time.Minute+token.DefaultPreviousKeyTTL),
		"RS256 current created=0s activated=0s until=-",
		"RS256 next created=0s activated=- until=-",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("List:\ngot  %q\nwant %q", got, want)
	}
}

func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Sub(t0).String()
}

// TestJWKS checks the key set's shape: order, fields, no private parts. Key material is replaced
// by placeholders after its own checks, so the golden file shows the shape only.
func TestJWKS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "PS256", "ES256", "EdDSA")
	raw, err := f.keys.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var set map[string][]map[string]any
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("JWKS is not a JSON object of key arrays: %v", err)
	}
	if len(set) != 1 {
		t.Errorf("JWKS members: got %d, want only \"keys\"", len(set))
	}
	names := map[string]string{}
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		for _, st := range []string{"current", "next"} {
			names[f.kid(t, alg, st)] = "<" + alg + " " + st + ">"
		}
	}
	wantLen := map[string]int{"n": 256, "e": 3, "x": 32, "y": 32}
	for _, k := range set["keys"] {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %v publishes private member %q", k["kid"], private)
			}
		}
		// Each key must be usable as published: parse it with go-jose and check its thumbprint.
		one, _ := json.Marshal(k)
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(one); err != nil {
			t.Fatalf("key %v does not parse: %v", k["kid"], err)
		}
		sum, _ := jwk.Thumbprint(cryptoSHA256)
		if got := base64.RawURLEncoding.EncodeToString(sum); got != k["kid"] {
			t.Errorf("kid %v: got thumbprint %s", k["kid"], got)
		}
		for member, n := range wantLen {
			if v, ok := k[member].(string); ok {
				b, err := base64.RawURLEncoding.DecodeString(v)
				if err != nil || len(b) != n {
					t.Errorf("key %v member %s: got %d bytes (%v), want %d", k["kid"], member, len(b), err, n)
				}
				if member != "e" {
					k[member] = "<" + member + ">"
				}
			}
		}
		k["kid"] = names[k["kid"].(string)]
	}
	golden(t, "jwks", set)
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "PS256", "RS512", "ES256", "EdDSA")
	jwksRaw, err := f.keys.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwksRaw, &set); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"RS256", "PS256", "RS512", "ES256", "EdDSA"} {
		for _, typ := range []string{"JWT", "at+jwt"} {
			t.Run(alg+"/"+typ, func(t *testing.T) {
				claims := map[string]any{"sub": "auth0|1", "n": 42, "l": []string{"a"}}
				raw, err := f.keys.Sign(t.Context(), alg, typ, claims)
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				header, _ := decodeJWT(t, raw)
				want := map[string]any{"alg": alg, "kid": f.kid(t, alg, "current"), "typ": typ}
				if fmt.Sprint(header) != fmt.Sprint(want) {
					t.Errorf("header: got %v, want %v", header, want)
				}
				got, err := f.keys.Verify(t.Context(), raw)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got["sub"] != "auth0|1" || got["n"] != float64(42) {
					t.Errorf("claims: got %v, want sub auth0|1 and n 42", got)
				}
				// An independent verifier with only the published JWKS.
				jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
				if err != nil {
					t.Fatal(err)
				}
				keys := set.Key(jws.Signatures[0].Header.KeyID)
				if len(keys) != 1 {
					t.Fatalf("JWKS keys with the token's kid: got %d, want 1", len(keys))
				}
				if _, err := jws.Verify(keys[0]); err != nil {
					t.Errorf("go-jose verify with the JWKS key: %v", err)
				}
			})
		}
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "RS256")
	tests := []struct {
		name    string
		alg     string
		claims  map[string]any
		wantErr error
	}{
		{name: "no key for the algorithm", alg: "ES256", claims: map[string]any{}, wantErr: token.ErrNoKey},
		{name: "unsupported", alg: "HS256", claims: map[string]any{}, wantErr: token.ErrUnsupportedAlg},
		{name: "none", alg: "none", claims: map[string]any{}, wantErr: token.ErrUnsupportedAlg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.keys.Sign(t.Context(), tt.alg, "JWT", tt.claims)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := f.keys.Sign(t.Context(), "RS256", "JWT", map[string]any{"c": make(chan int)}); err == nil {
		t.Error("claims that are not JSON: got no error")
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "ES256")
	other := newFixture(t, "ES256") // same algorithms, keys we do not publish
	good := sign(t, f.keys, "RS256")
	rsKID := f.kid(t, "RS256", "current")
	rsPriv := f.private(t, rsKID)
	b64 := base64.RawURLEncoding.EncodeToString
	payload := b64([]byte(`{"sub":"auth0|1"}`))
	rsPub, _ := x509.MarshalPKIXPublicKey(rsPriv.Public())
	tests := []struct {
		name string
		raw  string
		algs []string
	}{
		{name: "alg none", raw: b64([]byte(`{"alg":"none","kid":"`+rsKID+`"}`)) + "." + payload + "."},
		{name: "HS256 keyed with our public key", raw: joseSign(t, jose.HS256, rsPub, rsKID, []byte(`{"sub":"x"}`))},
		{name: "right kid, other algorithm", raw: joseSign(t, jose.PS256, rsPriv, rsKID, []byte(`{"sub":"x"}`))},
		{name: "kid we do not publish", raw: sign(t, other.keys, "ES256")},
		{name: "no kid", raw: joseSign(t, jose.RS256, rsPriv, "", []byte(`{"sub":"x"}`))},
		{name: "tampered payload", raw: strings.Split(good, ".")[0] + "." + payload + "." + strings.Split(good, ".")[2]},
		{name: "algorithm not allowed by the caller", raw: good, algs: []string{"ES256"}},
		{name: "payload not an object", raw: joseSign(t, jose.RS256, rsPriv, rsKID, []byte(`[1,2]`))},
		{name: "garbage", raw: "not.a.jwt"},
		{name: "empty", raw: ""},
		{name: "JSON serialization", raw: `{"payload":"` + payload + `","signatures":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := f.keys.Verify(t.Context(), tt.raw, tt.algs...)
			if !errors.Is(err, token.ErrInvalidToken) {
				t.Errorf("got claims %v, error %v; want ErrInvalidToken", claims, err)
			}
		})
	}
	if _, err := f.keys.Verify(t.Context(), good, "HS256"); !errors.Is(err, token.ErrUnsupportedAlg) {
		t.Errorf("Verify allowing only HS256: got %v, want ErrUnsupportedAlg", err)
	}
}

func TestValidateTime(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	leeway := 10 * time.Second
	tests := []struct {
		name    string
		claims  map[string]any
		wantErr error
	}{
		{name: "valid", claims: map[string]any{"exp": float64(now.Unix() + 60)}},
		{name: "expired within leeway", claims: map[string]any{"exp": float64(now.Unix() - 9)}},
		{name: "expired", claims: map[string]any{"exp": float64(now.Unix() - 10)}, wantErr: token.ErrExpired},
		{name: "no exp", claims: map[string]any{}, wantErr: token.ErrInvalidToken},
		{name: "exp a string", claims: map[string]any{"exp": "1700000060"}, wantErr: token.ErrInvalidToken},
		{name: "exp absurd", claims: map[string]any{"exp": 1e300}, wantErr: token.ErrInvalidToken},
		{name: "nbf within leeway", claims: map[string]any{"exp": float64(now.Unix() + 60), "nbf": float64(now.Unix() + 10)}},
		{name: "nbf future", claims: map[string]any{"exp": float64(now.Unix() + 60), "nbf": float64(now.Unix() + 11)}, wantErr: token.ErrNotYetValid},
		{name: "nbf a string", claims: map[string]any{"exp": float64(now.Unix() + 60), "nbf": "x"}, wantErr: token.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := token.ValidateTime(tt.claims, now, leeway); !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func sign(t testing.TB, k *token.Keys, alg string) string {
	t.Helper()
	raw, err := k.Sign(t.Context(), alg, "JWT", map[string]any{"sub": "auth0|1", "exp": 4102444800})
	if err != nil {
		t.Fatalf("Sign %s: %v", alg, err)
	}
	return raw
}

func kidOf(t testing.TB, raw string) string {
	t.Helper()
	h, _ := decodeJWT(t, raw)
	kid, _ := h["kid"].(string)
	return kid
}

func keyInfo(t testing.TB, k *token.Keys, kid string) token.KeyInfo {
	t.Helper()
	infos, err := k.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		if i.KID == kid {
			return i
		}
	}
	t.Fatalf("no key %s", kid)
	return token.KeyInfo{}
}

// joseSign signs payload with go-jose directly, for tokens Keys would never make.
func joseSign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, payload []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestConcurrentSigning signs from many goroutines while the clock moves and another process
// rotates: every token must verify (run with -race).
func TestConcurrentSigning(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "ES256")
	cli := token.NewKeys(f.st, f.box, f.clock.Now)
	var wg sync.WaitGroup
	tokens := make(chan string, 8*50)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				raw, err := f.keys.Sign(t.Context(), "ES256", "JWT", map[string]any{"sub": "x"})
				if err != nil {
					t.Error(err)
					return
				}
				tokens <- raw
				f.clock.Advance(50 * time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for range 3 {
			if err := cli.Rotate(t.Context(), "ES256"); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	close(tokens)
	for raw := range tokens {
		if _, err := f.keys.Verify(t.Context(), raw); err != nil {
			t.Errorf("token signed during rotations: %v", err)
		}
	}
}

// TestRevoke: emergency revocation withdraws a key at once, unlike rotation. The revoking node
// (the CLI) drops it from the JWKS and from verification immediately; another node over the
// same store does within RefreshInterval. A revoked current key hands signing to the published
// next key, and a fresh next key is published. The only key of an algorithm is never revoked.
func TestRevoke(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			f := newFixtureOn(t, b.open(t), "ES256")
			node := token.NewKeys(f.st, f.box, f.clock.Now) // another server node
			cur, next := f.kid(t, "ES256", "current"), f.kid(t, "ES256", "next")
			signed := sign(t, f.keys, "ES256")
			for _, k := range []*token.Keys{f.keys, node} {
				if _, err := k.Verify(ctx, signed); err != nil {
					t.Fatalf("before revocation: %v", err)
				}
			}

			rev, err := f.keys.Revoke(ctx, cur)
			if err != nil {
				t.Fatalf("Revoke(current): %v", err)
			}
			if rev.Revoked.KID != cur || rev.Revoked.State != "current" || rev.Current != next {
				t.Errorf("Revoke(current): got %+v, want %s (was current) with %s signing now", rev, cur, next)
			}
			newNext := f.kid(t, "ES256", "next")
			if got := f.kid(t, "ES256", "current"); got != next || newNext == next {
				t.Errorf("after revoking the current key: current %s next %s, want current %s and a new next", got, newNext, next)
			}
			if info := keyInfo(t, f.keys, cur); info.State != "revoked" || !info.PublishUntil.Equal(t0) {
				t.Errorf("revoked key: got state %s until %v, want revoked at %v", info.State, info.PublishUntil, t0)
			}
			// On the revoking node: gone at once.
			if kids := jwksKIDs(t, f.keys); slices.Contains(kids, cur) || !slices.Contains(kids, next) || !slices.Contains(kids, newNext) {
				t.Errorf("JWKS right after Revoke: got %v, want %s gone and %s, %s published", kids, cur, next, newNext)
			}
			if _, err := f.keys.Verify(ctx, signed); !errors.Is(err, token.ErrInvalidToken) {
				t.Errorf("token of the revoked key: got %v, want ErrInvalidToken", err)
			}
			if got := kidOf(t, sign(t, f.keys, "ES256")); got != next {
				t.Errorf("signing kid after Revoke: got %s, want %s", got, next)
			}
			// On the other node: gone within RefreshInterval.
			f.clock.Advance(token.RefreshInterval)
			if kids := jwksKIDs(t, node); slices.Contains(kids, cur) {
				t.Errorf("other node's JWKS %s after Revoke: got %v, want %s gone", token.RefreshInterval, kids, cur)
			}
			if _, err := node.Verify(ctx, signed); !errors.Is(err, token.ErrInvalidToken) {
				t.Errorf("other node, token of the revoked key: got %v, want ErrInvalidToken", err)
			}
			if got := kidOf(t, sign(t, node, "ES256")); got != next {
				t.Errorf("other node's signing kid: got %s, want %s", got, next)
			}

			// A previous key is revoked without any handover.
			if err := f.keys.Rotate(ctx, "ES256"); err != nil {
				t.Fatal(err)
			}
			if rev, err := f.keys.Revoke(ctx, next); err != nil || rev.Current != newNext {
				t.Errorf("Revoke(previous): got %+v, %v; want %s still signing", rev, err, newNext)
			}
			if kids := jwksKIDs(t, f.keys); slices.Contains(kids, next) {
				t.Errorf("JWKS after revoking the previous key: got %v, want %s gone", kids, next)
			}

			for _, tc := range []struct {
				kid  string
				want error
			}{{cur, store.ErrConflict}, {"no-such-kid", store.ErrNotFound}} {
				if _, err := f.keys.Revoke(ctx, tc.kid); !errors.Is(err, tc.want) {
					t.Errorf("Revoke(%s): got %v, want %v", tc.kid, err, tc.want)
				}
			}
		})
	}
}

// TestRevokeOnlyKey: a current key with no next key to take over is the only key of its
// algorithm; revoking it would leave nothing to sign with, so it is refused and nothing changes.
func TestRevokeOnlyKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "RS256")
	recs, err := f.st.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	only := &tokentest.SigningKeys{}
	for _, r := range recs {
		if r.State == store.KeyCurrent {
			if err := only.CreateSigningKey(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := token.NewKeys(only, f.box, f.clock.Now)
	kid := f.kid(t, "RS256", "current")
	if _, err := keys.Revoke(t.Context(), kid); !errors.Is(err, token.ErrNoKey) {
		t.Fatalf("Revoke(the only key): got %v, want ErrNoKey", err)
	}
	if got, _ := only.ListSigningKeys(t.Context()); len(got) != 1 || got[0].State != store.KeyCurrent {
		t.Errorf("keys after the refusal: got %+v, want the one current key unchanged", got)
	}
}

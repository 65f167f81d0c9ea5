package apiauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const testAudience = "https://api.example.com"

// testKey is a signing key the tests make and publish in a test JWKS.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// Generating RSA keys is slow, so the few the tests need are made once per process; they are
// never changed after.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

func rsaKey(i int, kid string) testKey {
	return testKey{kid: kid, alg: jose.RS256, priv: rsaKeys()[i]}
}

func ecKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, alg: jose.ES256, priv: k}
}

// jwk is the public JWK the issuer publishes for k, with kty, kid, alg and use as Sesame
// publishes them.
func (k testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// testIssuer is a real HTTP server publishing a JWKS; it counts the fetches.
type testIssuer struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	keys   []jose.JSONWebKey
	status int           // when not 0, answer this status instead of the JWKS
	body   string        // when not "", serve this instead of keys
	delay  time.Duration // wait this long before answering
}

func newTestIssuer(t testing.TB, keys ...testKey) *testIssuer {
	t.Helper()
	is := &testIssuer{}
	is.publish(keys...)
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		is.hits.Add(1)
		is.mu.Lock()
		status, delay, body := is.status, is.delay, is.body
		set := jose.JSONWebKeySet{Keys: is.keys}
		is.mu.Unlock()
		time.Sleep(delay)
		if status != 0 {
			http.Error(w, "unavailable", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if body != "" {
			_, _ = w.Write([]byte(body))
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

// url is the issuer identifier, with the trailing slash Sesame and Auth0 use.
func (is *testIssuer) url() string { return is.srv.URL + "/" }

func (is *testIssuer) publish(keys ...testKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = nil
	for _, k := range keys {
		is.keys = append(is.keys, k.jwk())
	}
}

func (is *testIssuer) fail(status int) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.status = status
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// claimsFor returns the claims of a valid access token for testAudience from is, at now.
func claimsFor(is *testIssuer, now time.Time) map[string]any {
	return map[string]any{
		"iss":   is.url(),
		"sub":   "auth0|6543",
		"aud":   testAudience,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"azp":   "client-abc",
		"scope": "openid read:sample",
		"gty":   "password",
	}
}

// sign signs claims with k as a compact JWS with typ header typ ("" for none).
func sign(t testing.TB, k testKey, typ string, claims map[string]any) string {
	t.Helper()
	return signWith(t, jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, typ, claims)
}

func signWith(t testing.TB, key jose.SigningKey, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// unsigned builds a token with the given header and claims and an empty signature, as an
// attacker would for alg "none" (RFC 7519 §6.1).
func unsigned(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

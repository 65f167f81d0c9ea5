package apiauth_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesameauth/sesame/apiauth"
)

// fuzzValidator returns a validator with its keys already cached (RS256, ES256 and HS256
// allowed, so every verification path is reachable) and tokens to seed the corpus with.
func fuzzValidator(f *testing.F) (*apiauth.Validator, []string) {
	rsa, ec := rsaKey(0, "k1"), ecKey(f, "ec1")
	is := newTestIssuer(f, rsa, ec)
	v, err := apiauth.New(apiauth.Config{
		Issuer:     is.url(),
		Audience:   testAudience,
		Algorithms: []string{"RS256", "ES256", "HS256"},
		HMACSecret: hmacSecret,
		// Fuzzed key ids must not make the run fetch again.
		MinRefreshInterval: time.Hour,
	})
	if err != nil {
		f.Fatal(err)
	}
	if err := v.Prefetch(f.Context()); err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	expired := claimsFor(is, now.Add(-2*time.Hour))
	arrayAud := claimsFor(is, now)
	arrayAud["aud"] = []any{testAudience, 7, nil}
	return v, []string{
		sign(f, rsa, "JWT", claimsFor(is, now)),
		sign(f, rsa, "at+jwt", expired),
		sign(f, ec, "JWT", arrayAud),
		signWith(f, jose.SigningKey{Algorithm: jose.HS256, Key: hmacSecret}, "JWT", claimsFor(is, now)),
		unsigned(f, map[string]any{"alg": "none"}, claimsFor(is, now)),
		unsigned(f, map[string]any{"alg": "RS256", "kid": "k1", "crit": []string{"exp"}}, claimsFor(is, now)),
		"", ".", "..", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "e30.e30.e30", "x.y.z.w.v",
	}
}

func FuzzValidate(f *testing.F) {
	v, seeds := fuzzValidator(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Validate(t.Context(), raw)
		if err != nil {
			if c != nil {
				t.Fatalf("got claims %+v with error %v, want nil claims", c, err)
			}
			return
		}
		// A token that passes must carry what the checks promise.
		if !slices.Contains(c.Audience, testAudience) || c.ExpiresAt.IsZero() || c.Raw == nil {
			t.Fatalf("accepted token with aud %q exp %v", c.Audience, c.ExpiresAt)
		}
	})
}

func FuzzMiddleware(f *testing.F) {
	v, seeds := fuzzValidator(f)
	for _, s := range seeds {
		f.Add("Bearer " + s)
	}
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("Bearer")
	f.Add("Bearer  \t x")
	f.Add("bEaReR a.b.c")
	h := v.Middleware(apiauth.RequireScope("read:sample")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
		req.Header["Authorization"] = []string{header}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("Authorization %q: got status %d", header, rec.Code)
		}
		if rec.Code != http.StatusNoContent && rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("Authorization %q: got status %d without a challenge", header, rec.Code)
		}
	})
}

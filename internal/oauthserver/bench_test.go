package oauthserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/store"
)

// serve runs one request through the handler in-process (no network) and decodes the answer.
func (e *env) serve(b *testing.B, form url.Values) map[string]any {
	req := httptest.NewRequestWithContext(b.Context(), http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusOK {
		b.Fatalf("status %d body %s", rec.Code, rec.Body.String())
	}
	return body
}

// BenchmarkPasswordGrant is the whole password grant with an ID token (cheap argon2id
// parameters, m=64 KiB t=1, so that the pipeline around the hash shows).
func BenchmarkPasswordGrant(b *testing.B) {
	e := newEnv(b)
	form := passwordForm("scope", "openid profile email")
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, form)
	}
}

// BenchmarkRefreshGrant is a rotating refresh with an RS256 access token and ID token; each
// iteration redeems the newest token, as rotation requires.
func BenchmarkRefreshGrant(b *testing.B) {
	benchmarkRefresh(b, "")
}

// BenchmarkRefreshGrantES256 is BenchmarkRefreshGrant for an API that signs with ES256 (the ID
// token stays RS256).
func BenchmarkRefreshGrantES256(b *testing.B) {
	benchmarkRefresh(b, "ES256")
}

func benchmarkRefresh(b *testing.B, alg string) {
	e := newEnv(b)
	aud := apiID
	if alg != "" {
		if err := e.keys.Ensure(b.Context(), alg); err != nil {
			b.Fatal(err)
		}
		aud = "https://" + strings.ToLower(alg) + ".example.com"
		e.mustAPI(store.ResourceServer{Identifier: aud, Name: alg + " API", SigningAlg: alg, AllowOfflineAccess: true})
	}
	rt, _ := e.serve(b, passwordForm("audience", aud, "scope", "openid profile email offline_access"))["refresh_token"].(string)
	if rt == "" {
		b.Fatal("login gave no refresh token")
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret}}
	b.ReportAllocs()
	for b.Loop() {
		form.Set("refresh_token", rt)
		rt, _ = e.serve(b, form)["refresh_token"].(string)
	}
}

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

// BenchmarkRefreshGrantES256NoID is BenchmarkRefreshGrantES256 without openid: no ID token,
// so what is left is the server's own work around one cheap signature.
func BenchmarkRefreshGrantES256NoID(b *testing.B) {
	benchmarkRefresh(b, "ES256", "offline_access")
}

// BenchmarkRefreshGrantParallel is BenchmarkRefreshGrantES256NoID from GOMAXPROCS×4
// goroutines, each with its own refresh-token family: it shows what the store's single SQLite
// writer and the tenant-log writer cost when requests overlap.
func BenchmarkRefreshGrantParallel(b *testing.B) {
	e, aud := refreshEnv(b, "ES256")
	form0 := url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret}}
	b.SetParallelism(4)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rt, _ := e.serve(b, passwordForm("audience", aud, "scope", "offline_access"))["refresh_token"].(string)
		form := url.Values{}
		for k, v := range form0 {
			form[k] = v
		}
		for pb.Next() {
			form.Set("refresh_token", rt)
			rt, _ = e.serve(b, form)["refresh_token"].(string)
		}
	})
}

// refreshEnv is a test server with an API signing with alg ("": the default RS256 API).
func refreshEnv(b *testing.B, alg string) (*env, string) {
	e := newEnv(b)
	aud := apiID
	if alg != "" {
		if err := e.keys.Ensure(b.Context(), alg); err != nil {
			b.Fatal(err)
		}
		aud = "https://" + strings.ToLower(alg) + ".example.com"
		e.mustAPI(store.ResourceServer{Identifier: aud, Name: alg + " API", SigningAlg: alg, AllowOfflineAccess: true})
	}
	return e, aud
}

func benchmarkRefresh(b *testing.B, alg string, scope ...string) {
	e, aud := refreshEnv(b, alg)
	sc := "openid profile email offline_access"
	if len(scope) > 0 {
		sc = scope[0]
	}
	rt, _ := e.serve(b, passwordForm("audience", aud, "scope", sc))["refresh_token"].(string)
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

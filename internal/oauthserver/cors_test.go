package oauthserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/store"
)

// Origins of the CORS tests: the public client lists spaOrigin and a wildcard, the
// confidential client lists appOrigin; nobody lists evilOrigin.
const (
	spaOrigin  = "https://app.example.com"
	appOrigin  = "https://backoffice.example.net"
	evilOrigin = "https://evil.example"
)

// corsEnv is newEnv (or mfaEnv) with web origins on both clients.
func corsEnv(t testing.TB, e *env) *env {
	t.Helper()
	for id, origins := range map[string][]string{spaID: {spaOrigin, "https://*.example.org"}, appID: {appOrigin}} {
		if err := e.st.UpdateClient(t.Context(), id, func(c *store.Client) error { c.WebOrigins = origins; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) preflight(path, origin, method string, header ...string) response {
	e.t.Helper()
	return e.send(http.MethodOptions, path, "", "", append([]string{"Origin", origin, "Access-Control-Request-Method", method}, header...)...)
}

func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return true
			}
		}
	}
	return false
}

// corsRoutes are the endpoints a browser app calls, with their methods.
var corsRoutes = []struct{ path, method string }{
	{"/oauth/token", "POST"},
	{"/oauth/revoke", "POST"},
	{"/userinfo", "GET"},
	{"/userinfo", "POST"},
	{"/mfa/authenticators", "GET"},
	{"/mfa/authenticators/totp|dev_x", "DELETE"},
	{"/mfa/associate", "POST"},
	{"/mfa/challenge", "POST"},
}

func TestCORSPreflight(t *testing.T) {
	e := corsEnv(t, newEnv(t))
	tests := []struct {
		name, origin string
		allowed      bool
	}{
		{"origin of the public client", spaOrigin, true},
		{"origin of the confidential client", appOrigin, true},
		{"one label under a wildcard", "https://shop.example.org", true},
		{"two labels under a wildcard", "https://a.b.example.org", false},
		{"the wildcard's own domain", "https://example.org", false},
		{"the wildcard's domain over http", "http://shop.example.org", false},
		{"the wildcard's domain on another port", "https://shop.example.org:8443", false},
		{"listed host over http", "http://app.example.com", false},
		{"unlisted origin", evilOrigin, false},
		{"opaque origin", "null", false},
	}
	for _, rt := range corsRoutes {
		for _, tt := range tests {
			t.Run(rt.method+" "+rt.path+"/"+tt.name, func(t *testing.T) {
				r := e.preflight(rt.path, tt.origin, rt.method, "Access-Control-Request-Headers", "content-type,authorization,auth0-client")
				if !varies(r.Header, "Origin") {
					t.Errorf("Vary: got %q, want Origin", r.Header.Values("Vary"))
				}
				if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "" {
					t.Errorf("Access-Control-Allow-Credentials: got %q, want none", got)
				}
				acao := r.Header.Get("Access-Control-Allow-Origin")
				if !tt.allowed {
					if r.Status != http.StatusForbidden || acao != "" {
						t.Fatalf("got %d with Access-Control-Allow-Origin %q, want 403 without it", r.Status, acao)
					}
					return
				}
				if r.Status != http.StatusNoContent || acao != tt.origin {
					t.Fatalf("got %d with Access-Control-Allow-Origin %q, want 204 with %q", r.Status, acao, tt.origin)
				}
				methods := strings.Split(r.Header.Get("Access-Control-Allow-Methods"), ", ")
				if !slices.Contains(methods, rt.method) {
					t.Errorf("Access-Control-Allow-Methods: got %v, want %s in it", methods, rt.method)
				}
				if got := r.Header.Get("Access-Control-Allow-Headers"); got != "Content-Type, Authorization, Auth0-Client" {
					t.Errorf("Access-Control-Allow-Headers: got %q", got)
				}
				if r.Header.Get("Access-Control-Max-Age") == "" {
					t.Error("no Access-Control-Max-Age")
				}
			})
		}
	}
	t.Run("method the route does not serve", func(t *testing.T) {
		if r := e.preflight("/oauth/token", spaOrigin, "PUT"); r.Status != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("got %d %q, want 403 without Access-Control-Allow-Origin", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("introspection is not for browsers", func(t *testing.T) {
		if r := e.preflight("/oauth/introspect", spaOrigin, "POST"); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("got Access-Control-Allow-Origin %q, want none", r.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

// wantCORS checks the CORS headers of an actual answer: Access-Control-Allow-Origin is origin
// exactly (never *) or absent when origin is "", and Vary names Origin.
func wantCORS(t *testing.T, r response, origin string) {
	t.Helper()
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Access-Control-Allow-Origin: got %q, want %q (status %d %s)", got, origin, r.Status, r.Raw)
	}
	if !varies(r.Header, "Origin") {
		t.Errorf("Vary: got %q, want Origin", r.Header.Values("Vary"))
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		wantJSONHeaders(t, r)
	}
}

func wantJSONHeaders(t *testing.T, r response) {
	t.Helper()
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("JSON answer %d: X-Content-Type-Options %q, Cache-Control %q, want nosniff and no-store",
			r.Status, r.Header.Get("X-Content-Type-Options"), r.Header.Get("Cache-Control"))
	}
}

// wantRefused checks Auth0's answer to an origin the client does not list: 401 access_denied
// "Unauthorized" (invalid_client at the revocation endpoint), which the browser hides.
func wantRefused(t *testing.T, r response, code, desc string) {
	t.Helper()
	wantError(t, "refused origin", r, http.StatusUnauthorized, code, desc)
	wantCORS(t, r, "")
	if r.str("access_token") != "" {
		t.Error("a refused origin got an access token")
	}
}

func TestCORSTokenRevokeUserinfo(t *testing.T) {
	e := corsEnv(t, newEnv(t))
	spaGrant := func(pw string) string {
		return `{"grant_type":"password","client_id":"` + spaID + `","username":"` + aliceEmail + `","password":"` + pw +
			`","scope":"openid profile email offline_access","audience":"` + apiID + `"}`
	}
	token := func(origin, pw string) response {
		return e.send(http.MethodPost, "/oauth/token", "application/json", spaGrant(pw), "Origin", origin, "Auth0-Client", "eyJuYW1lIjoidGVzdCJ9")
	}

	r := token(spaOrigin, alicePass)
	if r.Status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("listed origin: got %d %s, want tokens", r.Status, r.Raw)
	}
	wantCORS(t, r, spaOrigin)
	if !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "X-RateLimit-Remaining") {
		t.Errorf("Access-Control-Expose-Headers: got %q, want the rate-limit headers", r.Header.Get("Access-Control-Expose-Headers"))
	}
	at, rt := r.str("access_token"), r.str("refresh_token")

	// A wrong password from a listed origin is an answer the app may read.
	r = token(spaOrigin, "wrong")
	wantError(t, "wrong password", r, http.StatusForbidden, "invalid_grant", "Wrong email or password.")
	wantCORS(t, r, spaOrigin)

	for _, origin := range []string{appOrigin, evilOrigin, "https://shop.example.org.evil.example"} {
		// The origin is refused before the password is looked at: right or wrong, same answer.
		wantRefused(t, token(origin, alicePass), "access_denied", "Unauthorized")
		wantRefused(t, token(origin, "wrong"), "access_denied", "Unauthorized")
		// A form POST needs no preflight; it is refused just the same.
		wantRefused(t, e.postForm("/oauth/token", passwordForm("client_id", spaID, "client_secret", ""), "Origin", origin),
			"access_denied", "Unauthorized")
	}
	r = token("https://shop.example.org", alicePass)
	if r.Status != http.StatusOK {
		t.Errorf("origin under the wildcard: got %d %s, want 200", r.Status, r.Raw)
	}
	wantCORS(t, r, "https://shop.example.org")

	// Without Origin (a server, a native app) and from the issuer's own origin: no CORS at all.
	for _, origin := range []string{"", strings.TrimSuffix(e.issuer, "/")} {
		r = e.send(http.MethodPost, "/oauth/token", "application/json", spaGrant(alicePass), "Origin", origin)
		if r.Status != http.StatusOK {
			t.Errorf("origin %q: got %d %s, want 200", origin, r.Status, r.Raw)
		}
		wantCORS(t, r, "")
	}

	// /userinfo: the access token's client (azp) decides.
	r = e.send(http.MethodGet, "/userinfo", "", "", "Authorization", "Bearer "+at, "Origin", spaOrigin)
	if r.Status != http.StatusOK || r.str("email") != aliceEmail {
		t.Errorf("userinfo from the listed origin: got %d %s", r.Status, r.Raw)
	}
	wantCORS(t, r, spaOrigin)
	r = e.send(http.MethodPost, "/userinfo", "", "", "Authorization", "Bearer "+at, "Origin", spaOrigin)
	if r.Status != http.StatusOK {
		t.Errorf("POST userinfo from the listed origin: got %d %s", r.Status, r.Raw)
	}
	wantCORS(t, r, spaOrigin)
	for _, origin := range []string{appOrigin, evilOrigin} {
		r = e.send(http.MethodGet, "/userinfo", "", "", "Authorization", "Bearer "+at, "Origin", origin)
		wantRefused(t, r, "access_denied", "Unauthorized")
		if r.str("email") != "" {
			t.Errorf("userinfo from %s: got the profile %s", origin, r.Raw)
		}
	}

	// /oauth/revoke: a refused origin revokes nothing; the listed one does.
	revoke := func(origin string) response {
		return e.postForm("/oauth/revoke", url.Values{"client_id": {spaID}, "token": {rt}}, "Origin", origin)
	}
	wantRefused(t, revoke(evilOrigin), "invalid_client", "Client authentication failed.")
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {rt}}
	if r := e.postForm("/oauth/token", refresh); r.Status != http.StatusOK {
		t.Fatalf("refresh after a refused revocation: got %d %s, want 200 (nothing revoked)", r.Status, r.Raw)
	} else {
		rt = r.str("refresh_token")
	}
	r = revoke(spaOrigin)
	if r.Status != http.StatusOK {
		t.Errorf("revoke from the listed origin: got %d %s", r.Status, r.Raw)
	}
	wantCORS(t, r, spaOrigin)

	// Every JSON answer, success or error, is nosniff and no-store.
	wantJSONHeaders(t, e.postForm("/oauth/token", url.Values{}))
	wantJSONHeaders(t, e.login())
	wantJSONHeaders(t, e.get("/userinfo"))
}

func TestCORSMFAEndpoints(t *testing.T) {
	// The MFA endpoints speak for the confidential client, which lists appOrigin only:
	// spaOrigin passes a preflight (another client lists it) but not the actual request.
	e := corsEnv(t, mfaEnv(t, store.MFAFactors{}))
	tok, _ := e.mfaToken()
	bearer := func(method, path, body, origin string) response {
		return e.bearer(method, path, tok, body, "Origin", origin)
	}

	for _, origin := range []string{spaOrigin, evilOrigin} {
		wantRefused(t, bearer(http.MethodPost, "/mfa/associate", `{"authenticator_types":["otp"]}`, origin), "access_denied", "Unauthorized")
	}
	r := bearer(http.MethodPost, "/mfa/associate", `{"authenticator_types":["otp"]}`, appOrigin)
	if r.Status != http.StatusOK || r.str("secret") == "" {
		t.Fatalf("associate from the listed origin: got %d %s (a refused one must not have enrolled)", r.Status, r.Raw)
	}
	wantCORS(t, r, appOrigin)

	wantRefused(t, bearer(http.MethodGet, "/mfa/authenticators", "", spaOrigin), "access_denied", "Unauthorized")
	r = bearer(http.MethodGet, "/mfa/authenticators", "", appOrigin)
	wantCORS(t, r, appOrigin)
	var list []map[string]any
	if err := jsonUnmarshal(r.Raw, &list); err != nil || len(list) == 0 {
		t.Fatalf("authenticators: got %d %s", r.Status, r.Raw)
	}
	id, _ := list[0]["id"].(string)

	wantRefused(t, bearer(http.MethodDelete, "/mfa/authenticators/"+id, "", spaOrigin), "access_denied", "Unauthorized")
	r = bearer(http.MethodDelete, "/mfa/authenticators/"+id, "", appOrigin)
	if r.Status != http.StatusNoContent {
		t.Errorf("delete from the listed origin: got %d %s, want 204 (a refused one must not have deleted)", r.Status, r.Raw)
	}
	wantCORS(t, r, appOrigin)

	challenge := func(origin string) response {
		return e.postForm("/mfa/challenge", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "mfa_token": {tok},
			"challenge_type": {"otp"}}, "Origin", origin)
	}
	wantRefused(t, challenge(spaOrigin), "access_denied", "Unauthorized")
	r = challenge(appOrigin)
	if r.Status == http.StatusUnauthorized {
		t.Errorf("challenge from the listed origin: got %d %s", r.Status, r.Raw)
	}
	wantCORS(t, r, appOrigin)
}

// BenchmarkPreflight measures the server's side of a CORS preflight (handler only, no network):
// the tenant's origins come from the per-node copy, not the store.
func BenchmarkPreflight(b *testing.B) {
	e := corsEnv(b, newEnv(b))
	h := e.srv.Config.Handler
	for _, origin := range []string{spaOrigin, "https://shop.example.org", evilOrigin} {
		b.Run(origin, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodOptions, "/oauth/token", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

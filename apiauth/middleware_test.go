package apiauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/apiauth"
)

// echoSubject answers 200 with the subject the middleware stored.
var echoSubject = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := apiauth.FromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(c.Subject))
})

type wantResponse struct {
	status    int
	challenge string // WWW-Authenticate; "" means absent
	errCode   string // "error" of the JSON body; "" means a success body
	body      string // the exact body on success
}

func checkResponse(t *testing.T, rec *httptest.ResponseRecorder, want wantResponse) {
	t.Helper()
	if rec.Code != want.status {
		t.Errorf("got status %d, want %d (body %q)", rec.Code, want.status, rec.Body)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != want.challenge {
		t.Errorf("got WWW-Authenticate %q, want %q", got, want.challenge)
	}
	if want.errCode == "" {
		if got := rec.Body.String(); got != want.body {
			t.Errorf("got body %q, want %q", got, want.body)
		}
		return
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", got)
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body, err)
	}
	if body.Error != want.errCode || body.Description == "" {
		t.Errorf("got body %+v, want error %q with a description", body, want.errCode)
	}
	if want.challenge != "" && strings.Contains(want.challenge, "error_description") &&
		!strings.Contains(want.challenge, `error_description="`+body.Description+`"`) {
		t.Errorf("got body description %q, not the one in the challenge %q", body.Description, want.challenge)
	}
}

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name    string
		headers func(t *testing.T, is *testIssuer, key testKey) []string // Authorization values
		down    bool                                                     // the issuer's JWKS answers 500
		want    wantResponse
	}{
		{
			name: "valid token",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string {
				return []string{"Bearer " + sign(t, key, "JWT", claimsFor(is, time.Now()))}
			},
			want: wantResponse{status: http.StatusOK, body: "auth0|6543"},
		},
		{
			name: "lower-case scheme",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string {
				return []string{"bearer " + sign(t, key, "JWT", claimsFor(is, time.Now()))}
			},
			want: wantResponse{status: http.StatusOK, body: "auth0|6543"},
		},
		{
			name:    "missing header",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string { return nil },
			want:    wantResponse{status: http.StatusUnauthorized, challenge: `Bearer realm="api"`, errCode: "invalid_token"},
		},
		{
			name: "wrong scheme",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string {
				return []string{"Basic dXNlcjpwYXNz"}
			},
			want: wantResponse{status: http.StatusUnauthorized, challenge: `Bearer realm="api"`, errCode: "invalid_token"},
		},
		{
			name:    "bearer without a token",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string { return []string{"Bearer "} },
			want: wantResponse{
				status:    http.StatusBadRequest,
				challenge: `Bearer realm="api", error="invalid_request", error_description="The Authorization header is malformed."`,
				errCode:   "invalid_request",
			},
		},
		{
			name: "two Authorization headers",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string {
				raw := sign(t, key, "JWT", claimsFor(is, time.Now()))
				return []string{"Bearer " + raw, "Bearer " + raw}
			},
			want: wantResponse{
				status:    http.StatusBadRequest,
				challenge: `Bearer realm="api", error="invalid_request", error_description="The Authorization header is malformed."`,
				errCode:   "invalid_request",
			},
		},
		{
			name:    "malformed token",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string { return []string{"Bearer abc.def"} },
			want: wantResponse{
				status:    http.StatusUnauthorized,
				challenge: `Bearer realm="api", error="invalid_token", error_description="The access token is malformed."`,
				errCode:   "invalid_token",
			},
		},
		{
			name: "expired token",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string {
				return []string{"Bearer " + sign(t, key, "JWT", claimsFor(is, time.Now().Add(-2*time.Hour)))}
			},
			want: wantResponse{
				status:    http.StatusUnauthorized,
				challenge: `Bearer realm="api", error="invalid_token", error_description="The access token expired."`,
				errCode:   "invalid_token",
			},
		},
		{
			name: "token for another API",
			headers: func(t *testing.T, is *testIssuer, key testKey) []string {
				cl := claimsFor(is, time.Now())
				cl["aud"] = "https://other.example.com"
				return []string{"Bearer " + sign(t, key, "JWT", cl)}
			},
			want: wantResponse{
				status:    http.StatusUnauthorized,
				challenge: `Bearer realm="api", error="invalid_token", error_description="The access token is not for this API."`,
				errCode:   "invalid_token",
			},
		},
		{
			name: "issuer keys unavailable",
			down: true,
			headers: func(t *testing.T, is *testIssuer, key testKey) []string {
				return []string{"Bearer " + sign(t, key, "JWT", claimsFor(is, time.Now()))}
			},
			want: wantResponse{status: http.StatusServiceUnavailable, errCode: "temporarily_unavailable"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := rsaKey(0, "k1")
			is := newTestIssuer(t, key)
			if tt.down {
				is.fail(http.StatusInternalServerError)
			}
			v, err := apiauth.New(apiauth.Config{Issuer: is.url(), Audience: testAudience})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/private", nil)
			for _, h := range tt.headers(t, is, key) {
				req.Header.Add("Authorization", h)
			}
			rec := httptest.NewRecorder()
			v.Middleware(echoSubject).ServeHTTP(rec, req)
			checkResponse(t, rec, tt.want)
		})
	}
}

func TestRequireScope(t *testing.T) {
	tests := []struct {
		name     string
		scope    string // the token's scope claim
		required []string
		noAuth   bool // RequireScope without the middleware in front
		want     wantResponse
	}{
		{
			name:     "has the scope",
			scope:    "openid read:sample",
			required: []string{"read:sample"},
			want:     wantResponse{status: http.StatusOK, body: "auth0|6543"},
		},
		{
			name:     "has every scope",
			scope:    "read:sample write:sample",
			required: []string{"write:sample", "read:sample"},
			want:     wantResponse{status: http.StatusOK, body: "auth0|6543"},
		},
		{
			name:     "lacks the scope",
			scope:    "openid profile",
			required: []string{"read:sample"},
			want: wantResponse{
				status:    http.StatusForbidden,
				challenge: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope, expected: read:sample", scope="read:sample"`,
				errCode:   "insufficient_scope",
			},
		},
		{
			name:     "lacks one of two",
			scope:    "read:sample",
			required: []string{"read:sample", "write:sample"},
			want: wantResponse{
				status:    http.StatusForbidden,
				challenge: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope, expected: read:sample write:sample", scope="read:sample write:sample"`,
				errCode:   "insufficient_scope",
			},
		},
		{
			name:     "a prefix is not the scope",
			scope:    "read:samples read",
			required: []string{"read:sample"},
			want: wantResponse{
				status:    http.StatusForbidden,
				challenge: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope, expected: read:sample", scope="read:sample"`,
				errCode:   "insufficient_scope",
			},
		},
		{
			name:     "no middleware in front",
			scope:    "read:sample",
			required: []string{"read:sample"},
			noAuth:   true,
			want:     wantResponse{status: http.StatusUnauthorized, challenge: `Bearer realm="api"`, errCode: "invalid_token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := rsaKey(0, "k1")
			is := newTestIssuer(t, key)
			v, err := apiauth.New(apiauth.Config{Issuer: is.url(), Audience: testAudience})
			if err != nil {
				t.Fatal(err)
			}
			cl := claimsFor(is, time.Now())
			cl["scope"] = tt.scope
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/private-scoped", nil)
			req.Header.Set("Authorization", "Bearer "+sign(t, key, "JWT", cl))
			h := apiauth.RequireScope(tt.required...)(echoSubject)
			if !tt.noAuth {
				h = v.Middleware(h)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			checkResponse(t, rec, tt.want)
		})
	}
}

func TestRequireScopePanicsOnBadScope(t *testing.T) {
	for _, scope := range []string{"", `a"b`, "two words", `back\slash`} {
		t.Run(scope, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("RequireScope(%q): got no panic, want one", scope)
				}
			}()
			apiauth.RequireScope(scope)
		})
	}
}

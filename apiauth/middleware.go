package apiauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// realm is the protection space named in every challenge (RFC 7235 §2.2), as Auth0's own API
// middleware names it.
const realm = "api"

type claimsKey struct{}

// FromContext returns the claims [Validator.Middleware] stored for the request.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// NewContext returns a copy of ctx carrying c, as [Validator.Middleware] does; handlers under
// test can use it to skip token handling.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Middleware accepts a request only with a valid bearer token in the Authorization header
// (RFC 6750 §2.1) and stores its [Claims] in the request context for [FromContext]. Otherwise
// it answers, with a JSON body {"error": code, "error_description": text} of the same code:
//
//   - no Authorization header, or another scheme: 401 with `WWW-Authenticate: Bearer
//     realm="api"` and no error code in the challenge, as RFC 6750 §3.1 asks for a request
//     without authentication; the body says invalid_token;
//   - a bearer header with no token or several Authorization headers: 400 invalid_request;
//   - a token that fails [Validator.Validate]: 401 with `WWW-Authenticate: Bearer realm="api",
//     error="invalid_token", error_description="..."`;
//   - the issuer's keys cannot be fetched and none are cached: 503 temporarily_unavailable,
//     since the token could not be judged.
//
// Tokens in the query string or form body (RFC 6750 §2.2, §2.3) are not looked at.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, aerr := bearerToken(r)
		if aerr != nil {
			aerr.write(w)
			return
		}
		claims, err := v.Validate(r.Context(), raw)
		if err != nil {
			describe(err).write(w)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), claims)))
	})
}

// RequireScope lets a request through only when the claims that [Validator.Middleware]
// stored hold every one of scopes; otherwise it answers 403 with `WWW-Authenticate: Bearer
// realm="api", error="insufficient_scope", error_description="...", scope="..."` (RFC 6750
// §3.1) and the same JSON body as the middleware. A request with no claims (RequireScope used
// without the middleware in front) gets 401. It panics when a scope is not a valid scope token
// (RFC 6749 §3.3), since it could not be put in the challenge.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	for _, s := range scopes {
		if !validScopeToken(s) {
			panic(fmt.Sprintf("apiauth.RequireScope: %q is not a scope token (RFC 6749 §3.3)", s))
		}
	}
	needed := strings.Join(scopes, " ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := FromContext(r.Context())
			if !ok {
				errNoCredentials.write(w)
				return
			}
			for _, s := range scopes {
				if !c.HasScope(s) {
					(&authError{
						status:      http.StatusForbidden,
						code:        "insufficient_scope",
						description: "Insufficient scope, expected: " + needed,
						scope:       needed,
						challenge:   true,
					}).write(w)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// validScopeToken reports whether s matches scope-token = 1*NQCHAR (RFC 6749 §3.3).
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// authError is one answer of the middleware: status, RFC 6750 §3.1 error code, and whether a
// WWW-Authenticate challenge carries the code.
type authError struct {
	status      int
	code        string
	description string // fixed texts only: they go inside a quoted-string
	scope       string
	challenge   bool // put error and error_description in WWW-Authenticate
}

var (
	errNoCredentials = &authError{status: http.StatusUnauthorized, code: "invalid_token", description: "Missing bearer token."}
	errBadHeader     = &authError{status: http.StatusBadRequest, code: "invalid_request", description: "The Authorization header is malformed.", challenge: true}
)

// bearerToken extracts the token of an "Authorization: Bearer <token>" header (RFC 6750 §2.1;
// the scheme is case-insensitive, RFC 7235 §2.1).
func bearerToken(r *http.Request) (string, *authError) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", errNoCredentials
	}
	if len(values) > 1 {
		return "", errBadHeader
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoCredentials
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", errBadHeader
	}
	return token, nil
}

// describe turns a Validate error into the answer a client sees. The descriptions are fixed
// texts: the wrapped details (which claim, which key id) stay with the server.
func describe(err error) *authError {
	if errors.Is(err, ErrKeysUnavailable) {
		return &authError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", description: "The signing keys of the issuer could not be fetched."}
	}
	text := "The access token is invalid."
	for _, d := range []struct {
		err  error
		text string
	}{
		{ErrMalformedToken, "The access token is malformed."},
		{ErrAlgorithm, "The access token is signed with an algorithm that is not accepted."},
		{ErrTokenType, "The access token has an unexpected type."},
		{ErrUnknownKey, "The access token is signed with an unknown key."},
		{ErrSignature, "The access token signature is invalid."},
		{ErrExpired, "The access token expired."},
		{ErrNotYetValid, "The access token is not valid yet."},
		{ErrIssuer, "The access token has the wrong issuer."},
		{ErrAudience, "The access token is not for this API."},
	} {
		if errors.Is(err, d.err) {
			text = d.text
			break
		}
	}
	return &authError{status: http.StatusUnauthorized, code: "invalid_token", description: text, challenge: true}
}

func (e *authError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized || e.status == http.StatusForbidden || e.status == http.StatusBadRequest {
		// RFC 6750 §3: the challenge's auth-params are quoted strings; codes, descriptions and
		// scopes here never contain '"' or '\'.
		var b strings.Builder
		b.WriteString(`Bearer realm="` + realm + `"`)
		if e.challenge {
			b.WriteString(`, error="` + e.code + `", error_description="` + e.description + `"`)
			if e.scope != "" {
				b.WriteString(`, scope="` + e.scope + `"`)
			}
		}
		w.Header().Set("WWW-Authenticate", b.String())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{e.code, e.description})
	_, _ = w.Write(append(body, '\n'))
}

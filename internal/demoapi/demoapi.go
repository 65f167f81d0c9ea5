// Package demoapi is the sample API that `sesame demo` serves next to the authorization
// server, so that a token fresh from /oauth/token can be tried on a real resource server.
//
// It mirrors the API of Auth0's backend quickstarts (a public, a private and a scoped
// endpoint with the same messages) and is built on apiauth exactly as a user's own API
// would be: it is also the worked example of that module.
package demoapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sesameauth/sesame/apiauth"
)

// SampleScope is the scope GET /api/private-scoped requires.
const SampleScope = "read:sample"

// The responses' messages, as in Auth0's quickstart samples.
const (
	PublicMessage        = "Hello from a public endpoint! You don't need to be authenticated to see this."
	PrivateMessage       = "Hello from a private endpoint! You need to be authenticated to see this."
	PrivateScopedMessage = "Hello from a private endpoint! You need to be authenticated and have a scope of " + SampleScope + " to see this."
)

// Response is the JSON body of every endpoint; Subject and Scope are set on the private
// ones, echoing the token's "sub" and "scope".
type Response struct {
	Message string `json:"message"`
	Subject string `json:"sub,omitempty"`
	Scope   string `json:"scope,omitempty"`
}

// Handler returns the sample API:
//
//   - GET /api/public: no token needed;
//   - GET /api/private: any token v accepts, echoing its sub and scope;
//   - GET /api/private-scoped: a token v accepts that was granted scope read:sample.
//
// Requests without a usable token get the answers of [apiauth.Validator.Middleware] and
// [apiauth.RequireScope] (401, 403 with a WWW-Authenticate challenge).
func Handler(v *apiauth.Validator) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/public", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, Response{Message: PublicMessage})
	})
	mux.Handle("GET /api/private", v.Middleware(echo(PrivateMessage)))
	mux.Handle("GET /api/private-scoped", v.Middleware(apiauth.RequireScope(SampleScope)(echo(PrivateScopedMessage))))
	return mux
}

// echo answers message with the subject and scope of the request's token.
func echo(message string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp := Response{Message: message}
		if c, ok := apiauth.FromContext(r.Context()); ok {
			resp.Subject = c.Subject
			resp.Scope = strings.Join(c.Scope, " ")
		}
		writeJSON(w, resp)
	})
}

func writeJSON(w http.ResponseWriter, body Response) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

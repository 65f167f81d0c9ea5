// Package mgmtapi serves Auth0's Management API v2 (under {issuer}api/v2/) over admin.Service,
// so that Auth0's own tooling (the Deploy CLI, Terraform, the SDKs' management clients)
// manages a Sesame tenant.
//
// It sits beside oauthserver in the HTTP layer: it imports admin (the one owner of the rules
// of what a valid client, API, connection... is), token (to verify management tokens with the
// server's own keys) and store (records and log events), and nothing imports it but the
// composition root. Each concern lives in one place:
//   - routing, authentication and scope checks: route and API.serve (this file);
//   - the error body {statusCode, error, message, errorCode} and the mapping of admin's errors
//     to it: errors.go;
//   - offset (page/per_page/include_totals) and checkpoint (from/take) paging: paging.go;
//   - the rate limit (429, Retry-After, X-RateLimit-*): ratelimit.go;
//   - the sapi/fapi tenant log event of every write: in serve, from the route's description.
//
// A handler only decodes the request (decodeBody, query parameters), calls one admin method and
// renders the answer; it validates nothing itself.
package mgmtapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// Verifier checks the signature of a token this server minted (token.Keys satisfies it).
type Verifier interface {
	Verify(ctx context.Context, raw string, algs ...string) (map[string]any, error)
}

// Emitter records tenant log events (logs.Sink satisfies it).
type Emitter interface {
	Emit(e store.LogEvent)
}

// Limiter counts requests in rate-limit buckets (guard.Guard satisfies it).
type Limiter interface {
	Take(ctx context.Context, key string, r guard.Rate) (guard.Decision, error)
}

// Config is what the Management API needs.
type Config struct {
	// Issuer is the server's issuer ("https://host/"); the API answers under {Issuer}api/v2/
	// and accepts tokens whose audience is that URL.
	Issuer string
	Admin  *admin.Service
	Keys   Verifier
	Events Emitter
	// Limiter and RatePerMinute bound the requests of each caller (a client, or a user for a
	// user's token); RatePerMinute 0 turns the limit off.
	Limiter       Limiter
	RatePerMinute int
	// ClientIP returns the caller's address for the tenant log; nil means the TCP peer.
	ClientIP func(*http.Request) string
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// API is the Management API's HTTP handler.
type API struct {
	cfg      Config
	audience string
	// base is the URL path the API answers under, without the trailing slash ("/api/v2").
	base string
	mux  *http.ServeMux
	log  *slog.Logger
}

// New builds the API and its routes.
func New(cfg Config) *API {
	a := &API{cfg: cfg, audience: admin.ManagementAudience(cfg.Issuer), mux: http.NewServeMux(), log: cfg.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.base = "/api/v2"
	if u, err := url.Parse(a.audience); err == nil {
		a.base = strings.TrimSuffix(u.Path, "/")
	}
	a.mux.HandleFunc(a.base+"/", a.unserved)
	a.routes()
	return a
}

// unserved answers a path Sesame does not serve. A read is refused as Auth0 refuses a token
// without the scope, naming Auth0's scope for it (unservedScopes, else "read:" and the path's
// first segment): the Deploy CLI skips a resource type whose read answers exactly that, and
// aborts an export on any other error, so that is what lets it export every type Sesame has.
// The token must be valid all the same. Other methods are 404, and so are reads under
// /guardian/ (SMS and push providers, templates, the selected phone provider): Sesame serves
// the guardian factors themselves and delivers codes through the server's configured sender,
// and the CLI treats a 404 there as "this tenant has no such setting" and skips it silently.
func (a *API) unserved(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	notFound := &Error{Status: http.StatusNotFound, Code: "not_found", Message: "Not Found"}
	if r.Method != http.MethodGet {
		a.writeError(w, r, notFound)
		return
	}
	if _, err := a.authenticate(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, a.base+"/")
	if strings.HasPrefix(rel, "guardian/") {
		a.writeError(w, r, notFound)
		return
	}
	first, _, _ := strings.Cut(rel, "/")
	scope, ok := unservedScopes[first]
	if !ok {
		scope = "read:" + strings.ReplaceAll(first, "-", "_")
	}
	a.writeError(w, r, insufficientScope([]string{scope}))
}

// unservedScopes names Auth0's read scope for the unserved paths whose first segment is not
// the scope's name.
var unservedScopes = map[string]string{
	"emails":                              "read:email_provider",
	"connections-directory-provisionings": "read:directory_provisionings",
}

// Pattern is the http.ServeMux pattern the API is mounted at ("/api/v2/").
func (a *API) Pattern() string { return a.base + "/" }

// Handler serves the API's routes (full paths, base included).
func (a *API) Handler() http.Handler { return a.mux }

func (a *API) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

// Caller is who made a request: the client of a client-credentials token, or the user (and
// the client they logged in with) of a user's access token.
type Caller struct {
	ClientID string
	// UserID is the token's subject for a user's token; empty for a client's.
	UserID string
	Scopes []string
}

// handlerFunc serves one route for an authenticated caller whose scopes the route accepts.
// A returned error is rendered by writeError; the handler must not have written anything then.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *Caller) error

// route is one endpoint: its pattern, the scopes of which the token needs any one, and for a
// write the description its tenant log event carries ("Create a client").
type route struct {
	pattern string
	scopes  []string
	desc    string
	h       handlerFunc
}

// handle registers pattern ("GET /clients/{id}", relative to the API's base) for callers that
// hold any of scopes. desc names the operation in the tenant log and is required for every
// method but GET.
func (a *API) handle(pattern string, scopes []string, desc string, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	if method != http.MethodGet && desc == "" {
		panic("mgmtapi: write route without a log description: " + pattern)
	}
	rt := &route{pattern: pattern, scopes: scopes, desc: desc, h: h}
	a.mux.HandleFunc(method+" "+a.base+path, func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, rt) })
}

// serve authenticates the caller, applies the rate limit and the route's scopes, runs the
// handler, and logs a write as sapi (success) or fapi (failure) with who made it.
func (a *API) serve(w http.ResponseWriter, r *http.Request, rt *route) {
	w.Header().Set("Cache-Control", "no-store")
	c, err := a.authenticate(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.limit(w, r, c); err != nil {
		a.writeError(w, r, err)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	if !slices.ContainsFunc(rt.scopes, func(s string) bool { return slices.Contains(c.Scopes, s) }) {
		err = insufficientScope(rt.scopes)
	} else {
		err = rt.h(rec, r, c)
	}
	if err != nil {
		err = a.writeError(rec, r, err)
	}
	if r.Method != http.MethodGet {
		a.logWrite(r, rt, c, rec.status, err)
	}
}

// authenticate checks the bearer token: signed by one of our keys (never HMAC: the
// Management API signs RS256), issued by us, not expired, for the Management API audience.
func (a *API) authenticate(r *http.Request) (*Caller, error) {
	h := r.Header.Get("Authorization")
	scheme, raw, _ := strings.Cut(h, " ")
	raw = strings.TrimSpace(raw)
	if h == "" {
		return nil, errUnauthorized("Missing authentication")
	}
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return nil, &Error{Status: http.StatusBadRequest, Code: "Bearer", Message: "Bad HTTP authentication header format"}
	}
	claims, err := a.cfg.Keys.Verify(r.Context(), raw)
	if err != nil {
		return nil, errUnauthorized("Invalid token").withCause(err)
	}
	if iss, _ := claims["iss"].(string); iss != a.cfg.Issuer {
		return nil, errUnauthorized("Invalid token").withCause(errString("issuer " + iss))
	}
	if err := token.ValidateTime(claims, a.now(), 0); err != nil {
		return nil, errUnauthorized("Expired token received for JSON Web Token validation").withCause(err)
	}
	if !audienceHas(claims["aud"], a.audience) {
		return nil, errUnauthorized("Bad audience: " + audienceText(claims["aud"]))
	}
	c := &Caller{Scopes: strings.Fields(stringClaim(claims, "scope"))}
	c.ClientID = stringClaim(claims, "azp")
	if stringClaim(claims, "gty") != "client-credentials" {
		// A user's access token (RBAC on the Management API: its scopes are the management
		// permissions the user holds).
		c.UserID = stringClaim(claims, "sub")
	}
	return c, nil
}

func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

func audienceHas(aud any, want string) bool {
	switch v := aud.(type) {
	case string:
		return v == want
	case []any:
		return slices.ContainsFunc(v, func(x any) bool { return x == want })
	}
	return false
}

func audienceText(aud any) string {
	switch v := aud.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ",")
	}
	return ""
}

// logWrite records a write in the tenant log: sapi when it succeeded, fapi when it failed,
// with the caller's client and user, the operation, and never a request or response body
// (they may hold secrets).
func (a *API) logWrite(r *http.Request, rt *route, c *Caller, status int, err error) {
	if a.cfg.Events == nil {
		return
	}
	typ, desc := "sapi", rt.desc
	if status >= 400 || err != nil {
		typ = "fapi"
	}
	auth := map[string]any{"strategy": "jwt", "client_id": c.ClientID}
	if c.UserID != "" {
		auth["user_id"] = c.UserID
	}
	details := map[string]any{
		"request": map[string]any{
			"method":    strings.ToLower(r.Method),
			"path":      r.URL.Path,
			"query":     r.URL.RawQuery,
			"channel":   "api",
			"userAgent": r.UserAgent(),
			"auth":      auth,
		},
		"response": map[string]any{"statusCode": status},
	}
	if e := asError(err); e != nil && typ == "fapi" {
		details["response"].(map[string]any)["body"] = e.body()
	}
	a.cfg.Events.Emit(store.LogEvent{
		Type: typ, Description: desc, ClientID: c.ClientID, UserID: c.UserID,
		IP: a.clientIP(r), UserAgent: r.UserAgent(), Details: details,
	})
}

func (a *API) clientIP(r *http.Request) string {
	if a.cfg.ClientIP != nil {
		return a.cfg.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// statusRecorder remembers the status a handler wrote, for the tenant log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Package apiauth is net/http middleware for resource servers (APIs) that accept JWT access
// tokens issued by Sesame or Auth0.
//
// It lives in its own module, with only the standard library and go-jose as dependencies, so
// that an API importing it does not pull in the authorization server's dependencies.
//
// A [Validator] checks a bearer token (RFC 6750) the way RFC 9068 §4 asks a resource server to:
// the signature with a key from the issuer's JWKS (RFC 7517) or a shared HMAC secret, the
// algorithm against an allow-list, "typ" (JWT or at+jwt), "iss" byte for byte, "aud", and
// "exp", "nbf" and "iat" with a small leeway (RFC 7519 §4.1). The JWKS is fetched once, shared
// by concurrent requests, kept for [Config.CacheTTL], and refetched at most once per
// [Config.MinRefreshInterval] when a token names a key id the cache does not know (key
// rotation); when a refetch fails the cached keys keep being used.
//
// [Validator.Middleware] answers a request without a usable token with 401 and a
// WWW-Authenticate challenge (RFC 6750 §3), and [RequireScope] answers a token without the
// needed scopes with 403 insufficient_scope (RFC 6750 §3.1). Both also write a JSON body
// {"error": "...", "error_description": "..."} so that clients that read bodies, not headers,
// see the same thing.
package apiauth

// Package oauthserver serves Sesame's public OAuth 2.0 and OpenID Connect endpoints:
// /oauth/token (every grant), /oauth/revoke, /oauth/introspect, /userinfo and the
// /.well-known documents.
//
// It is the only package that produces OAuth errors on the wire. Domain packages return
// sentinel or typed errors; mapError turns them into an *Error once and writeError renders it,
// logging the cause (causes are never sent). The token endpoint is one dispatcher: parsing,
// client authentication, the grant-type check, audience and scope resolution, token issuance and
// the tenant log happen once in token.go; each grant (grant_*.go) only answers "who is this and
// what was granted before".
//
// Wire facts (status codes, error texts, claim shapes) follow Auth0's Resource Owner Password
// flow as recorded in the project's WIRE.md, and RFC 6749, 6750, 7009, 7662, 8414 and 7523.
package oauthserver

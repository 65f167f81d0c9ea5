// Package compat holds Sesame's compatibility tests: the real sesame binary, started on
// loopback with TLS, driven by client libraries Sesame's authors did not write
// (github.com/auth0/go-auth0/v3, golang.org/x/oauth2, github.com/coreos/go-oidc/v3) and checked
// by the apiauth middleware an API would use; and, from node_test.go, by Node.js clients in
// node/ (the Auth0 Node SDK, @auth0/auth0-auth-js, openid-client, jose and
// express-oauth2-jwt-bearer, pinned by node/package-lock.json), each script printing what its
// library returned as JSON for the Go test to assert on; and, from browser_test.go, by a real
// browser (Debian's chromium, headless, over the DevTools protocol with chromedp) running a
// page's fetch() calls from a listed and an unlisted origin, which proves the CORS answers; and,
// from deploycli_test.go, by Auth0's Deploy CLI (a0deploy, pinned by deploycli/package-lock.json)
// importing a tenant into a server of its own, exporting it and importing the export again.
//
// It is a module of its own so that those libraries and their dependencies stay out of the
// server's go.mod. The tests talk to the server only over the wire: they build the binary, apply
// a tenant file with `sesame apply`, run `sesame serve` as a subprocess and rotate its keys with
// `sesame keys rotate`, as an operator would. Run them from the repository root with
// `go test ./compat/...` (workspace mode) or from this directory with `go test ./...`.
package compat

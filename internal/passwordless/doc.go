// Package passwordless holds Auth0's passwordless one-time codes for connections of strategy
// email and sms: their options (the connection's totp, email, template, disable_signup and
// brute_force_protection settings), the recipients they accept, the messages that carry the
// codes, and the codes themselves, issued and verified against the store.
//
// It is a service beside mfa: it imports the store and nothing of HTTP. The token endpoint
// (package oauthserver) owns the wire: POST /passwordless/start and the
// http://auth0.com/oauth/grant-type/passwordless/otp grant; admin.Service checks a
// connection's options with ParseOptions before anything stores them.
//
// A code is six digits by default, so it is guessable offline from a plain hash: the store
// keeps an HMAC keyed with a key derived from the key-encryption key, bound to the connection
// and recipient. Tries are counted before the code is compared and a code dies after
// MaxAttempts tries, so at most MaxAttempts guesses are ever judged per code, however many
// arrive at once.
package passwordless

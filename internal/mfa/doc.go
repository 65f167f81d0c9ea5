// Package mfa is the second factor of Auth0's password flow (WIRE.md §4): paused logins
// (mfa_token transactions), enrolment of authenticators, TOTP (RFC 6238), recovery codes and
// out-of-band email/SMS codes, and the per-user limit on failed factors.
//
// It knows nothing of HTTP: package oauthserver maps its sentinel errors to wire errors. Every
// secret is stored hashed or sealed: mfa_tokens, oob_codes, binding codes and recovery codes as
// SHA-256 (they are high-entropy or short-lived and rate-limited), TOTP secrets sealed with the
// key-encryption key.
package mfa

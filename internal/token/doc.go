// Package token mints and verifies the JSON Web Tokens Sesame issues, and manages the keys that
// sign them.
//
// It is a service: it imports the store (signing keys live there, so that every node signs with
// the same keys) and seal (their private parts are sealed with the key-encryption key), and
// nothing above. It never touches HTTP: oauthserver calls it with plain values.
//
// What lives here:
//   - Keys: per JWS algorithm a current key that signs, a next key already published in the
//     JWKS, and previous keys still published until the tokens they signed have expired
//     (RFC 7517 key sets, RFC 7638 thumbprints as key ids).
//   - Minter: access tokens in Auth0's dialects and the RFC 9068 profile, and OpenID Connect ID
//     tokens, with exactly the claims WIRE.md §2 lists.
//   - FilterCustomClaims: the restrictions Auth0 applies to claims added by Rules and Actions.
//   - NewRefreshToken and HashRefreshToken: opaque refresh-token secrets, stored only as hashes.
//   - VerifyClientAssertion: private_key_jwt client authentication (RFC 7523 §3).
//
// All JOSE work goes through github.com/go-jose/go-jose/v4 with an explicit algorithm allow-list
// on every parse; "none" and HMAC are never accepted where a public key is expected.
package token

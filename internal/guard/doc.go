// Package guard is Sesame's attack protection for the password grants, after Auth0's: brute-force
// protection (consecutive failed logins per identifier and IP), suspicious-IP throttling (failed
// logins per IP across every account, as a token bucket), breached-password detection, the
// same user + same IP login limit, the request rate limits of the token endpoint (Take), and
// the signed single-use tickets of unblock links (MintTicket, ParseTicket).
//
// It is a service: it holds no state of its own, only rules over the shared counters of
// store.Counters, so that every node of a cluster sees the same counts; each count is one atomic
// store statement, because a lockout built on read-then-write is bypassed by parallel requests.
// It knows nothing of HTTP: it answers with BlockedError values and with the tenant log events
// (Auth0 codes limit_wc, limit_mu, limit_sul, pwd_leak) and whom to notify that the caller should record; package oauthserver
// turns those into wire errors and log entries (WIRE.md §5).
package guard

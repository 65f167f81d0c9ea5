package token

import "errors"

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrUnsupportedAlg is returned for a JWS algorithm this package does not sign or accept
	// in that place.
	ErrUnsupportedAlg = errors.New("token: unsupported signing algorithm")
	// ErrNoKey is returned when no key of the requested algorithm is current (Ensure was not
	// called for it).
	ErrNoKey = errors.New("token: no signing key for algorithm")
	// ErrInvalidToken is returned by Verify and VerifyHS256 for a token that is malformed,
	// signed with a disallowed algorithm, by a key we do not publish, or whose signature does
	// not verify.
	ErrInvalidToken = errors.New("token: invalid token")
	// ErrExpired is returned by ValidateTime for a token past its exp.
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid is returned by ValidateTime for a token whose nbf is in the future.
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrClaimsTooLarge is returned by FilterCustomClaims when the custom claims exceed
	// Auth0's 100 KB payload limit.
	ErrClaimsTooLarge = errors.New("token: custom claims exceed 100 KB")
	// ErrUnknownDialect is returned for an access-token dialect that is not one of Auth0's.
	ErrUnknownDialect = errors.New("token: unknown access token dialect")
	// ErrInvalidAssertion is returned by PeekAssertionIssuer and VerifyClientAssertion for a
	// client assertion that must not authenticate the client.
	ErrInvalidAssertion = errors.New("token: invalid client assertion")
)

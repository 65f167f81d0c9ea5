package apiauth

import "errors"

// The errors [Validator.Validate] returns wrap one of these sentinels; test with errors.Is.
var (
	// ErrMalformedToken means the token is not a compact JWS with a JSON claim set of the
	// expected shape (RFC 7515 §7.1, RFC 7519 §7.2).
	ErrMalformedToken = errors.New("apiauth: malformed token")
	// ErrAlgorithm means the token's "alg" is not in the allow-list, or does not fit the key.
	ErrAlgorithm = errors.New("apiauth: signing algorithm not allowed")
	// ErrTokenType means the token's "typ" header is neither JWT nor at+jwt (RFC 9068 §2.1).
	ErrTokenType = errors.New("apiauth: token type not accepted")
	// ErrUnknownKey means no key in the issuer's JWKS has the token's "kid", even after a
	// permitted refetch.
	ErrUnknownKey = errors.New("apiauth: unknown signing key")
	// ErrSignature means the signature does not verify with the key.
	ErrSignature = errors.New("apiauth: invalid signature")
	// ErrExpired means "exp" is missing or in the past (RFC 7519 §4.1.4).
	ErrExpired = errors.New("apiauth: token expired")
	// ErrNotYetValid means "nbf" or "iat" is in the future (RFC 7519 §4.1.5, §4.1.6).
	ErrNotYetValid = errors.New("apiauth: token not yet valid")
	// ErrIssuer means "iss" is not exactly [Config.Issuer].
	ErrIssuer = errors.New("apiauth: wrong issuer")
	// ErrAudience means "aud" does not contain [Config.Audience].
	ErrAudience = errors.New("apiauth: wrong audience")
	// ErrKeysUnavailable means the JWKS could not be fetched and no keys are cached; the
	// token was not judged, so the middleware answers 503, not 401.
	ErrKeysUnavailable = errors.New("apiauth: signing keys unavailable")
	// ErrConfig means [New] was given an unusable [Config].
	ErrConfig = errors.New("apiauth: invalid config")
)

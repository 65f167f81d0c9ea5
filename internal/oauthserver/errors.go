package oauthserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// Error is an OAuth error as sent on the wire (RFC 6749 §5.2, with Auth0's status codes).
type Error struct {
	Status      int
	Code        string
	Description string
	// Extra fields are added to the JSON body (mfa_token, mfa_requirements...).
	Extra map[string]any
	// Header is added to the response (WWW-Authenticate, Retry-After...).
	Header http.Header
	// Cause is logged, never sent.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Cause)
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

func oauthErr(status int, code, description string) *Error {
	return &Error{Status: status, Code: code, Description: description}
}

// withCause returns a copy of e that logs cause.
func (e *Error) withCause(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// The errors of WIRE.md §1, texts kept exact: SDKs match them literally.
var (
	errWrongCredentials   = oauthErr(http.StatusForbidden, "invalid_grant", "Wrong email or password.")
	errUnauthorizedClient = oauthErr(http.StatusUnauthorized, "access_denied", "Unauthorized")
	errNoDefaultDirectory = oauthErr(http.StatusInternalServerError, "server_error", "Authorization server not configured with default connection.")
	errUserBlocked        = oauthErr(http.StatusUnauthorized, "unauthorized", "user is blocked")
	errConnNotEnabled     = oauthErr(http.StatusBadRequest, "invalid_request", "The connection is not enabled for this client.")
	errInvalidRefresh     = oauthErr(http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
	errRefreshBlocked     = oauthErr(http.StatusForbidden, "invalid_grant", "user is blocked")
	errRefreshDeletedUser = oauthErr(http.StatusForbidden, "invalid_grant", "The refresh_token was generated for a user who doesn't exist anymore.")
	errOverloaded         = &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
		Description: "The server is busy. Please retry later.", Header: http.Header{"Retry-After": {"1"}}}
	errServer = oauthErr(http.StatusInternalServerError, "server_error", "Internal server error.")

	// Attack protection (WIRE.md §5).
	errBruteForce = oauthErr(http.StatusTooManyRequests, "too_many_attempts",
		"Your account has been blocked after multiple consecutive login attempts. We've sent you a notification via your preferred contact method with instructions on how to unblock it.")
	errIPThrottled = oauthErr(http.StatusTooManyRequests, "too_many_attempts",
		"We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.")
	errPasswordLeaked = oauthErr(http.StatusUnauthorized, "password_leaked",
		"This login attempt has been blocked because the password you're using was previously disclosed through a data breach (not in this application). Please check your email for more information.")
	// Decision: the text of the same user + same IP limit (limit_sul); Auth0's public record
	// names the event, not the error text.
	errSameUserIP = oauthErr(http.StatusTooManyRequests, "too_many_attempts",
		"Too many login attempts for this user from this IP address. Please try again later.")
	// errRateLimited is a request rate limit of the token endpoint (WIRE.md §1); its 429 carries
	// X-RateLimit-* and Retry-After.
	errRateLimited = oauthErr(http.StatusTooManyRequests, "too_many_requests",
		"Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.")
)

// guardErr maps attack protection's refusals to their wire errors; other errors pass through.
func guardErr(err error) error {
	var be *guard.BlockedError
	if !errors.As(err, &be) {
		return err
	}
	switch be.Reason {
	case guard.BruteForce:
		return errBruteForce.withCause(err)
	case guard.SuspiciousIP:
		return errIPThrottled.withCause(err)
	case guard.BreachedPassword:
		return errPasswordLeaked.withCause(err)
	case guard.SameUserIPRate:
		e := errSameUserIP.withCause(err)
		if be.RetryAfter > 0 {
			e.Header = http.Header{"Retry-After": {retryAfter(be.RetryAfter)}}
		}
		return e
	}
	return err
}

// retryAfter is the Retry-After value (RFC 9110 §10.2.3, delay-seconds) for a retry after d:
// whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

func errMissing(name string) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_request", "Missing required parameter: "+name)
}

func errInvalidRequest(description string) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_request", description)
}

func errGrantNotAllowed(grantType string) *Error {
	return oauthErr(http.StatusForbidden, "unauthorized_client", fmt.Sprintf("Grant type '%s' not allowed for the client.", grantType))
}

func errUnsupportedGrant(grantType string) *Error {
	return oauthErr(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+grantType)
}

func errServiceNotFound(audience string) *Error {
	return oauthErr(http.StatusForbidden, "access_denied", "Service not found: "+audience)
}

func errUnknownRealm(realm string) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_request", "Unknown realm "+realm+".")
}

// asError maps any error to the wire error. A store that cannot be reached, or a request
// whose deadline ran out, is transient: 503 temporarily_unavailable with Retry-After (RFC 6749
// §5.2 allows it as an extension of §4.1.2.1's code), so that clients retry, perhaps on another
// node. Anything else not already an *Error is a 500 whose cause is logged.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return errOverloaded.withCause(err)
	}
	return errServer.withCause(err)
}

// writeJSON writes a JSON body with the headers every OAuth response carries (RFC 6749 §5.1),
// success and error alike (writeError comes here too).
func writeJSON(w http.ResponseWriter, status int, body any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	// A token or error body must never be sniffed and rendered as HTML or script.
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeError renders err and logs its cause. It is the one place errors reach the wire.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if e.Cause != nil || e.Status >= 500 {
		level := slog.LevelInfo
		if e.Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "oauth error", "path", r.URL.Path, "status", e.Status, "error", e.Code, "cause", e.Cause)
	}
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	body := make(map[string]any, 2+len(e.Extra))
	for k, v := range e.Extra {
		body[k] = v
	}
	body["error"] = e.Code
	body["error_description"] = e.Description
	writeJSON(w, e.Status, body)
}

// MFA errors (WIRE.md §4), texts kept exact.
var (
	errMFARequired        = oauthErr(http.StatusForbidden, "mfa_required", "Multifactor authentication required")
	errMFAMalformed       = oauthErr(http.StatusForbidden, "invalid_grant", "Malformed mfa_token")
	errMFAExpired         = oauthErr(http.StatusForbidden, "expired_token", "mfa_token is expired")
	errMFAInvalidOTP      = oauthErr(http.StatusForbidden, "invalid_grant", "Invalid otp_code.")
	errMFAInvalidBinding  = oauthErr(http.StatusForbidden, "invalid_grant", "Invalid binding_code.")
	errMFAInvalidOOB      = oauthErr(http.StatusForbidden, "invalid_grant", "Invalid oob_code.")
	errMFAInvalidRecovery = oauthErr(http.StatusForbidden, "invalid_grant", "Invalid recovery_code.")
	// Decision: the text of the factor rate limit.
	errMFATooManyAttempts      = oauthErr(http.StatusTooManyRequests, "too_many_attempts", "Too many failed attempts. Try again later.")
	errMFAUnsupportedChallenge = oauthErr(http.StatusBadRequest, "unsupported_challenge_type", "User is not enrolled with any authenticator that supports the requested challenge type.")
	errMFAAlreadyEnrolled      = oauthErr(http.StatusForbidden, "access_denied", "User is already enrolled.")
	errMFAConfirmed            = oauthErr(http.StatusForbidden, "access_denied", "An enrolled authenticator can only be removed by an administrator.")
	errAuthenticatorNotFound   = oauthErr(http.StatusNotFound, "not_found", "Authenticator not found.")
	errMFAMissingBearer        = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Description: "Missing mfa_token.",
		Header: http.Header{"Www-Authenticate": {`Bearer realm="mfa"`}}}
)

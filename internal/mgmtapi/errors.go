package mgmtapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// Error is a Management API error as Auth0 sends it:
// {"statusCode":403,"error":"Forbidden","message":"…","errorCode":"insufficient_scope"}.
// Handlers return one (or an admin error, which toError maps); writeError renders it.
type Error struct {
	Status int
	// Code is errorCode (Auth0's machine-readable reason, e.g. "inexistent_client").
	Code    string
	Message string
	// Header is sent with the error (Retry-After, WWW-Authenticate).
	Header http.Header
	cause  error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// withCause returns a copy of e that logs cause (never sent).
func (e *Error) withCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

func (e *Error) body() map[string]any {
	b := map[string]any{"statusCode": e.Status, "error": http.StatusText(e.Status), "message": e.Message}
	if e.Code != "" {
		b["errorCode"] = e.Code
	}
	return b
}

type errString string

func (e errString) Error() string { return string(e) }

// errUnauthorized is a 401 for a missing, malformed, foreign or expired token; the messages
// are Auth0's.
func errUnauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: msg,
		Header: http.Header{"WWW-Authenticate": {`Bearer realm="api/v2"`}}}
}

// insufficientScope is Auth0's 403 for a token that holds none of the route's scopes; Auth0
// lists them comma-separated.
func insufficientScope(scopes []string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "insufficient_scope",
		Message: "Insufficient scope, expected any of: " + strings.Join(scopes, ",")}
}

// badQuery is a 400 for a query parameter of the wrong form.
func badQuery(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_query_string",
		Message: "Query validation error: " + fmt.Sprintf(format, args...)}
}

// badBody is a 400 for a request body that is not what the endpoint takes.
func badBody(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_body",
		Message: "Payload validation error: " + fmt.Sprintf(format, args...)}
}

// notFound is a 404 with Auth0's inexistent_<kind> code ("The client does not exist.").
func notFound(kind string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "inexistent_" + strings.ReplaceAll(kind, " ", "_"),
		Message: "The " + kind + " does not exist."}
}

var errInternal = &Error{Status: http.StatusInternalServerError, Code: "internal_error",
	Message: "An internal server error occurred"}

// asError returns err as an *Error when it is one.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// toError maps any error a handler returns to the wire error, in one place: an *Error as it
// is; admin's ValidationError as 400 invalid_body (every field problem listed), NotFoundError
// as 404 inexistent_<kind>, ConflictError as 409 <kind>_conflict; an unreachable store as
// 503; anything else as 500 (its cause logged, never sent).
func toError(err error) *Error {
	if e := asError(err); e != nil {
		return e
	}
	var (
		nf *admin.NotFoundError
		cf *admin.ConflictError
	)
	if msgs := validationMessages(err); len(msgs) > 0 {
		return badBody("%s", strings.Join(msgs, "; ")).withCause(err)
	}
	switch {
	case errors.As(err, &nf):
		return notFound(nf.Kind).withCause(err)
	case errors.As(err, &cf):
		return &Error{Status: http.StatusConflict, Code: strings.ReplaceAll(cf.Kind, " ", "_") + "_conflict",
			Message: cf.Error(), cause: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "Not Found", cause: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "The resource already exists", cause: err}
	case errors.Is(err, store.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Message: "The service is temporarily unavailable, please retry",
			Header:  http.Header{"Retry-After": {"1"}}, cause: err}
	}
	return errInternal.withCause(err)
}

// validationMessages lists every admin.ValidationError in err (errors.Join trees included) as
// "field: message".
func validationMessages(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		var ve *admin.ValidationError
		switch x := e.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		default:
			if errors.As(e, &ve) {
				out = append(out, ve.Error())
			}
		}
	}
	walk(err)
	return out
}

// writeError renders err once, logging its cause for a server-side failure, and returns the
// wire error it sent.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) *Error {
	e := toError(err)
	if e.Status >= 500 {
		a.log.Error("management API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if e.cause != nil {
		a.log.Debug("management API request refused", "method", r.Method, "path", r.URL.Path, "err", e.cause)
	}
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	writeJSON(w, e.Status, e.body())
	return e
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody bounds a request body (Auth0 refuses large payloads too).
const maxBody = 1 << 20

// decodeBody reads a JSON object into v. Fields the endpoint does not know are ignored, as the
// Deploy CLI sends every field of Auth0's objects, also those Sesame has no use for; a body
// that is not JSON, or a field of the wrong type, is 400 invalid_body.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &te):
			return badBody("'Expected type %s but found type %s' on property %s.", jsonType(te.Type.Kind().String()), te.Value, te.Field).withCause(err)
		case errors.As(err, &mbe):
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large", Message: "Payload content length greater than maximum allowed: 1048576"}
		}
		return &Error{Status: http.StatusBadRequest, Code: "invalid_body", Message: "Invalid request payload JSON format", cause: err}
	}
	if dec.More() {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_body", Message: "Invalid request payload JSON format"}
	}
	return nil
}

// jsonType names a Go kind the way a JSON schema does.
func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "integer"
	case strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "bool":
		return "boolean"
	case kind == "slice", kind == "array":
		return "array"
	case kind == "map", kind == "struct", kind == "ptr":
		return "object"
	}
	return kind
}

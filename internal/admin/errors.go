package admin

import (
	"errors"
	"fmt"

	"github.com/sesameauth/sesame/internal/store"
)

// ValidationError is a rejected input field. Several are joined with errors.Join when an input
// has several problems; errors.As finds the first.
type ValidationError struct {
	// Field is the Management API name of the field (e.g. "grant_types", "email").
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundError reports that the named object does not exist. It matches store.ErrNotFound with
// errors.Is, so callers may test either.
type NotFoundError struct {
	// Kind is "client", "resource server", "connection" or "user".
	Kind string
	ID   string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.ID) }

// Is makes errors.Is(err, store.ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == store.ErrNotFound }

// ConflictError reports that the object already exists (a taken id, identifier, name, email or
// username). It matches store.ErrConflict with errors.Is.
type ConflictError struct {
	Kind    string
	ID      string
	Message string
}

func (e *ConflictError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%s %q already exists", e.Kind, e.ID)
}

// Is makes errors.Is(err, store.ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == store.ErrConflict }

// Status returns the HTTP status the Management API answers err with: 400 for a
// ValidationError, 404 for not found, 409 for a conflict, 500 otherwise.
func Status(err error) int {
	var ve *ValidationError
	switch {
	case err == nil:
		return 200
	case errors.As(err, &ve):
		return 400
	case errors.Is(err, store.ErrNotFound):
		return 404
	case errors.Is(err, store.ErrConflict):
		return 409
	default:
		return 500
	}
}

// storeErr turns the store's sentinels into the typed errors above, naming the object.
func storeErr(err error, kind, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return &NotFoundError{Kind: kind, ID: id}
	case errors.Is(err, store.ErrConflict):
		return &ConflictError{Kind: kind, ID: id}
	default:
		return err
	}
}

// findBy returns the first of items that match accepts, or a NotFoundError naming kind and id
// (for records the store keys otherwise, looked up by their ID among a few).
func findBy[T any](items []T, kind, id string, match func(T) bool) (T, error) {
	for _, it := range items {
		if match(it) {
			return it, nil
		}
	}
	var zero T
	return zero, &NotFoundError{Kind: kind, ID: id}
}

package store

import (
	"context"
	"time"
)

// ClientGrant allows a client to get access tokens for one API with the client credentials
// grant (Auth0's client grant object): Scope is what such a token may carry at most. A client
// has at most one grant per API.
type ClientGrant struct {
	// ID looks like cgr_<16 hex>.
	ID       string
	ClientID string
	// Audience is the API's identifier.
	Audience string
	Scope    []string
	// CreatedAt and UpdatedAt are Sesame's bookkeeping; Auth0's object has neither.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ClientGrantFilter narrows ListClientGrants; empty fields do not filter.
type ClientGrantFilter struct {
	ClientID string
	Audience string
}

// ClientGrants stores client grants. Deleting a client or an API deletes its grants with it
// (as at Auth0, where a deleted application leaves no grant behind).
type ClientGrants interface {
	GetClientGrant(ctx context.Context, id string) (ClientGrant, error)
	// FindClientGrant returns the grant of the client for the audience (the token endpoint's
	// look-up); ErrNotFound when there is none.
	FindClientGrant(ctx context.Context, clientID, audience string) (ClientGrant, error)
	// ListClientGrants returns the grants matching f ordered by ID.
	ListClientGrants(ctx context.Context, f ClientGrantFilter) ([]ClientGrant, error)
	// CreateClientGrant fails with ErrConflict when the ID, or the client and audience pair,
	// is taken, and with ErrNotFound when the client or the API does not exist.
	CreateClientGrant(ctx context.Context, g ClientGrant) error
	// UpdateClientGrant applies fn in one transaction; the ID, client and audience cannot change.
	UpdateClientGrant(ctx context.Context, id string, fn func(*ClientGrant) error) error
	DeleteClientGrant(ctx context.Context, id string) error
}

// NewClientGrantID returns cgr_<16 hex>.
func NewClientGrantID() string { return NewID("cgr_", 8) }

package admin

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/sesameauth/sesame/internal/store"
)

// GetConnectionByID returns a connection by its id (con_…), as the Management API names
// connections; the store keys them by name (the realm), and a tenant has few.
func (s *Service) GetConnectionByID(ctx context.Context, id string) (store.Connection, error) {
	all, err := s.Store.ListConnections(ctx)
	if err != nil {
		return store.Connection{}, err
	}
	for _, c := range all {
		if c.ID == id {
			return c, nil
		}
	}
	return store.Connection{}, &NotFoundError{Kind: "connection", ID: id}
}

// ConnectionPatch is a partial change of a connection (Auth0's PATCH
// /api/v2/connections/{id}): nil fields keep their value. The name and strategy never change.
type ConnectionPatch struct {
	// Options replace the stored options as a whole, as at Auth0.
	Options *map[string]any
	// EnabledClients replace the enabled clients; they must exist.
	EnabledClients *[]string
}

// UpdateConnection applies p to the connection with this id.
func (s *Service) UpdateConnection(ctx context.Context, id string, p ConnectionPatch) (store.Connection, error) {
	cur, err := s.GetConnectionByID(ctx, id)
	if err != nil {
		return store.Connection{}, err
	}
	if p.Options != nil {
		if errs := CheckConnectionOptions(cur.Strategy, *p.Options); len(errs) > 0 {
			return store.Connection{}, errors.Join(errs...)
		}
	}
	if p.EnabledClients != nil {
		errs, err := s.checkEnabledClients(ctx, *p.EnabledClients)
		if err != nil {
			return store.Connection{}, err
		}
		if len(errs) > 0 {
			return store.Connection{}, errors.Join(errs...)
		}
	}
	now := s.now()
	var out store.Connection
	err = s.Store.UpdateConnection(ctx, cur.Name, func(c *store.Connection) error {
		if p.Options != nil {
			c.Options = maps.Clone(*p.Options)
			if c.Options == nil {
				c.Options = map[string]any{}
			}
		}
		if p.EnabledClients != nil {
			c.EnabledClients = slices.Clone(*p.EnabledClients)
		}
		c.UpdatedAt = now
		out = *c
		return nil
	})
	return out, storeErr(err, "connection", id)
}

// ClientStatus enables (Status true) or disables a client on a connection (Auth0's PATCH
// /api/v2/connections/{id}/clients body items).
type ClientStatus struct {
	ClientID string
	Status   bool
}

// SetConnectionClients enables and disables clients on the connection with this id, each
// change as listed; an enabled client must exist.
func (s *Service) SetConnectionClients(ctx context.Context, id string, changes []ClientStatus) error {
	cur, err := s.GetConnectionByID(ctx, id)
	if err != nil {
		return err
	}
	var enable []string
	for _, ch := range changes {
		if ch.Status {
			enable = append(enable, ch.ClientID)
		}
	}
	errs, err := s.checkEnabledClients(ctx, slices.Compact(slices.Sorted(slices.Values(enable))))
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	now := s.now()
	err = s.Store.UpdateConnection(ctx, cur.Name, func(c *store.Connection) error {
		for _, ch := range changes {
			has := slices.Contains(c.EnabledClients, ch.ClientID)
			switch {
			case ch.Status && !has:
				c.EnabledClients = append(c.EnabledClients, ch.ClientID)
			case !ch.Status && has:
				c.EnabledClients = slices.DeleteFunc(c.EnabledClients, func(x string) bool { return x == ch.ClientID })
			}
		}
		c.UpdatedAt = now
		return nil
	})
	return storeErr(err, "connection", id)
}

// DeleteConnectionByID deletes the connection with this id and every user in it.
func (s *Service) DeleteConnectionByID(ctx context.Context, id string) error {
	cur, err := s.GetConnectionByID(ctx, id)
	if err != nil {
		return err
	}
	return s.DeleteConnection(ctx, cur.Name)
}

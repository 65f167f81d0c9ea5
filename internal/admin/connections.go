package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/store"
)

// StrategyAuth0 is the strategy of the built-in user database.
const StrategyAuth0 = "auth0"

// Strategies are the connection strategies Sesame can serve: the user database, LDAP and
// Active Directory realms, and passwordless one-time codes by email and by SMS.
var Strategies = []string{StrategyAuth0, StrategyAD, StrategyLDAP, passwordless.StrategyEmail, passwordless.StrategySMS}

// CheckConnectionOptions reports the problems of the options of a connection of this strategy
// that Sesame reads (a passwordless connection's totp, email, template, disable_signup and
// brute_force_protection); other options are kept as they are.
func CheckConnectionOptions(strategy string, opts map[string]any) []error {
	if !passwordless.IsStrategy(strategy) {
		return nil
	}
	_, errs := passwordless.ParseOptions(strategy, opts)
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var oe *passwordless.OptionError
		if errors.As(e, &oe) {
			out = append(out, invalid(oe.Path, "%s", oe.Message))
		} else {
			out = append(out, e)
		}
	}
	return out
}

// connectionName is Auth0's rule for connection names: letters, digits and single hyphens
// between them (the name is the realm parameter and appears in URLs).
var connectionName = regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)

// CheckConnectionName validates a connection name.
func CheckConnectionName(name string) error {
	switch {
	case name == "":
		return invalid("name", "is required")
	case len(name) > 128:
		return invalid("name", "longer than 128 characters")
	case !connectionName.MatchString(name):
		return invalid("name", "%q may only hold letters, digits and single hyphens between them", name)
	}
	return nil
}

// CreateConnection creates a connection ("auth0" strategy when strategy is empty) enabled for
// the given clients, which must exist.
func (s *Service) CreateConnection(ctx context.Context, name, strategy string, enabledClients []string) (store.Connection, error) {
	return s.CreateConnectionFrom(ctx, ConnectionInput{Name: name, Strategy: strategy, EnabledClients: enabledClients})
}

// ConnectionInput describes a new connection (Auth0's POST /api/v2/connections body).
type ConnectionInput struct {
	Name string
	// Strategy defaults to "auth0".
	Strategy string
	// EnabledClients are client ids, which must exist.
	EnabledClients []string
	// Options are the strategy's settings (passwordPolicy, requires_username...; ldap_url...
	// for ad/ldap, see docs/ldap.md).
	Options map[string]any
	// BaseDir resolves a relative ldap_ca path (the CLI's working directory).
	BaseDir string
}

// CreateConnectionFrom creates a connection from in.
func (s *Service) CreateConnectionFrom(ctx context.Context, in ConnectionInput) (store.Connection, error) {
	strategy := in.Strategy
	if strategy == "" {
		strategy = StrategyAuth0
	}
	var errs []error
	if err := CheckConnectionName(in.Name); err != nil {
		errs = append(errs, err)
	}
	if !slices.Contains(Strategies, strategy) {
		errs = append(errs, invalid("strategy", "%q is not supported (want one of %v)", strategy, Strategies))
	}
	opts, optErrs := s.connectionOptions(in.Name, strategy, in.Options, nil, in.BaseDir)
	errs = append(errs, optErrs...)
	clientErrs, err := s.checkEnabledClients(ctx, in.EnabledClients)
	if err != nil {
		return store.Connection{}, err
	}
	if errs = append(errs, clientErrs...); len(errs) > 0 {
		return store.Connection{}, errors.Join(errs...)
	}
	now := s.now()
	c := store.Connection{
		ID:             store.NewConnectionID(),
		Name:           in.Name,
		Strategy:       strategy,
		EnabledClients: slices.Clone(in.EnabledClients),
		Options:        maps.Clone(opts),
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if c.EnabledClients == nil {
		c.EnabledClients = []string{}
	}
	if c.Options == nil {
		c.Options = map[string]any{}
	}
	if err := s.Store.CreateConnection(ctx, c); err != nil {
		return store.Connection{}, storeErr(err, "connection", in.Name)
	}
	return c, nil
}

// checkEnabledClients reports each enabled_clients entry that is listed twice or names no
// client.
func (s *Service) checkEnabledClients(ctx context.Context, ids []string) ([]error, error) {
	var errs []error
	for i, id := range ids {
		if slices.Index(ids, id) != i {
			errs = append(errs, invalid(fmt.Sprintf("enabled_clients[%d]", i), "%q is listed twice", id))
			continue
		}
		if _, err := s.Store.GetClient(ctx, id); errors.Is(err, store.ErrNotFound) {
			errs = append(errs, invalid(fmt.Sprintf("enabled_clients[%d]", i), "no client has id %q", id))
		} else if err != nil {
			return nil, err
		}
	}
	return errs, nil
}

// GetConnection returns a connection by name.
func (s *Service) GetConnection(ctx context.Context, name string) (store.Connection, error) {
	c, err := s.Store.GetConnection(ctx, name)
	return c, storeErr(err, "connection", name)
}

// ListConnections returns every connection ordered by name.
func (s *Service) ListConnections(ctx context.Context) ([]store.Connection, error) {
	return s.Store.ListConnections(ctx)
}

// DeleteConnection deletes a connection and every user in it (Auth0 does the same). Their
// refresh tokens stop working: a refresh for a deleted user fails.
func (s *Service) DeleteConnection(ctx context.Context, name string) error {
	return storeErr(s.Store.DeleteConnection(ctx, name), "connection", name)
}

// EnableClient lets the client log users in through the connection; enabling twice is not an
// error.
func (s *Service) EnableClient(ctx context.Context, connection, clientID string) error {
	if _, err := s.Store.GetClient(ctx, clientID); err != nil {
		return storeErr(err, "client", clientID)
	}
	err := s.Store.UpdateConnection(ctx, connection, func(c *store.Connection) error {
		if !slices.Contains(c.EnabledClients, clientID) {
			c.EnabledClients = append(c.EnabledClients, clientID)
			c.UpdatedAt = s.now()
		}
		return nil
	})
	return storeErr(err, "connection", connection)
}

// DisableClient stops the client from using the connection; disabling a client that is not
// enabled is not an error.
func (s *Service) DisableClient(ctx context.Context, connection, clientID string) error {
	err := s.Store.UpdateConnection(ctx, connection, func(c *store.Connection) error {
		if slices.Contains(c.EnabledClients, clientID) {
			c.EnabledClients = slices.DeleteFunc(c.EnabledClients, func(id string) bool { return id == clientID })
			c.UpdatedAt = s.now()
		}
		return nil
	})
	return storeErr(err, "connection", connection)
}

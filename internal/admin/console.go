package admin

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/store"
)

// ConsoleClientName is the name of the first-party application the web console (under
// {issuer}console/) signs administrators in with. A tenant file may list it in a connection's
// enabled_clients like any other application.
const ConsoleClientName = "Sesame Console"

// ConsoleClientID is the console application's client_id: the same on every node and in every
// tenant (a client_id is public), so that nodes starting together make one console client,
// not one each.
const ConsoleClientID = "sesame-console"

// consoleGrantTypes are the console's grants: the password-realm grant, and the MFA grants
// that finish a login the MFA policy interrupts. No refresh token: the console keeps its
// access token in memory only, and a reload signs in again.
var consoleGrantTypes = []string{GrantPasswordRealm, GrantMFAOTP, GrantMFAOOB, GrantMFARecoveryCode}

// EnsureConsoleClient returns the console's application, creating it when missing: a public
// single-page app (no secret to keep in a browser) whose only web origin is the issuer's.
// A new console client is enabled on every database connection, so that the first
// administrator can sign in; from then on which connections it may use is the administrator's
// choice. An existing one has its web origin brought up to date when the issuer changed.
func (s *Service) EnsureConsoleClient(ctx context.Context, issuer string) (store.Client, error) {
	origin, err := issuerOrigin(issuer)
	if err != nil {
		return store.Client{}, err
	}
	c, err := s.Store.GetClient(ctx, ConsoleClientID)
	if err == nil {
		return s.consoleOrigin(ctx, c, origin)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Client{}, err
	}
	c, _, err = s.CreateClient(ctx, ClientInput{
		ClientID:    ConsoleClientID,
		Name:        ConsoleClientName,
		Description: "The web console under " + strings.TrimSuffix(issuer, "/") + "/console/ (created by the server)",
		AppType:     AppSPA,
		GrantTypes:  slices.Clone(consoleGrantTypes),
		WebOrigins:  []string{origin},
	})
	if errors.Is(err, store.ErrConflict) {
		// Another node made it meanwhile, and enabled it.
		if c, err = s.Store.GetClient(ctx, ConsoleClientID); err != nil {
			return store.Client{}, err
		}
		return s.consoleOrigin(ctx, c, origin)
	}
	if err != nil {
		return store.Client{}, err
	}
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		return c, err
	}
	for _, conn := range conns {
		if conn.Strategy == "auth0" || conn.Strategy == "" {
			if err := s.EnableClient(ctx, conn.Name, c.ClientID); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}

// consoleOrigin adds origin to the console client's web origins when it is missing (the
// issuer changed).
func (s *Service) consoleOrigin(ctx context.Context, c store.Client, origin string) (store.Client, error) {
	if slices.Contains(c.WebOrigins, origin) {
		return c, nil
	}
	origins := append(slices.Clone(c.WebOrigins), origin)
	c, _, err := s.UpdateClient(ctx, c.ClientID, ClientPatch{WebOrigins: &origins})
	return c, err
}

// ConsoleRealms returns the names of the connections the console client may sign in with,
// the choices of the console's sign-in form.
func (s *Service) ConsoleRealms(ctx context.Context, clientID string) ([]string, error) {
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range conns {
		if slices.Contains(c.EnabledClients, clientID) {
			names = append(names, c.Name)
		}
	}
	return names, nil
}

// GrantAdmin gives a user every Management API permission, so that the user's access token
// for the Management API (and so the web console) may do everything an administrator does.
// Granting twice is not an error.
func (s *Service) GrantAdmin(ctx context.Context, userID string) error {
	if s.ManagementAudience == "" {
		return invalid("audience", "this command needs the server's issuer to name its Management API")
	}
	if _, err := s.Store.GetResourceServer(ctx, s.ManagementAudience); errors.Is(err, store.ErrNotFound) {
		// Made by the server at start, for its issuer: a guess here could name the wrong one.
		return invalid("audience", "there is no Management API %s yet: start the server once (sesame serve), or name its --issuer", s.ManagementAudience)
	} else if err != nil {
		return err
	}
	ps := make([]store.Permission, len(ManagementScopes))
	for i, sc := range ManagementScopes {
		ps[i] = store.Permission{ResourceServerIdentifier: s.ManagementAudience, PermissionName: sc}
	}
	return s.AddUserPermissions(ctx, userID, ps)
}

// issuerOrigin is the browser origin (scheme://host[:port]) of an issuer URL.
func issuerOrigin(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", invalid("issuer", "%q is not an absolute URL", issuer)
	}
	return u.Scheme + "://" + u.Host, nil
}

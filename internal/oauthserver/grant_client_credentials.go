package oauthserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/hooks"
)

// grantClientCredentials is RFC 6749 §4.4's grant type.
const grantClientCredentials = "client_credentials"

// clientCredentialsGrant serves the client credentials grant (RFC 6749 §4.4) as Auth0 does: a
// confidential client gets an access token for an API it holds a client grant for, with the
// grant's scopes (narrowed by the scope parameter), subject CLIENT_ID@clients, and neither an
// ID token nor a refresh token (RFC 6749 §4.4.3). Only the credentials-exchange Actions run.
type clientCredentialsGrant struct{ s *Server }

func (clientCredentialsGrant) events() (string, string) { return "seccft", "feccft" }

// realm: a client acting for itself involves no user and no directory.
func (clientCredentialsGrant) realm(context.Context, *exchange) (string, *Error, error) {
	return "", nil, nil
}

// Wire errors of the client credentials grant, texts as Auth0 sends them.
var errNoAudience = oauthErr(http.StatusForbidden, "access_denied",
	"No audience parameter was provided, and no default audience has been configured")

func errNoClientGrant(audience string) *Error {
	return oauthErr(http.StatusForbidden, "access_denied", fmt.Sprintf(
		`Client is not authorized to access "%s". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
		audience))
}

// errScopesNotGranted lists the requested scopes outside the grant. Decision: several are
// space-separated, as in the scope parameter (Auth0's public record shows one at a time).
func errScopesNotGranted(scopes []string) *Error {
	return oauthErr(http.StatusForbidden, "access_denied", "Client has not been granted scopes: "+strings.Join(scopes, " "))
}

func (g clientCredentialsGrant) login(ctx context.Context, ex *exchange) error {
	s := g.s
	// A public client proves nothing about itself, so it cannot speak for itself either;
	// admin refuses client_credentials in its grant_types, and this holds even for a record
	// written before that rule.
	if !ex.client.Confidential {
		return errGrantNotAllowed(grantClientCredentials).withCause(errors.New("public client"))
	}
	aud := ex.p.get("audience")
	if aud == "" {
		aud = ex.tenant.DefaultAudience
	}
	if aud == "" {
		return errNoAudience
	}
	api, err := s.store.GetResourceServer(ctx, aud)
	if err != nil {
		return storeErr(err, errServiceNotFound(safeName(aud)))
	}
	ex.api = &api
	cg, err := s.store.FindClientGrant(ctx, ex.client.ClientID, api.Identifier)
	if err != nil {
		return storeErr(err, errNoClientGrant(safeName(api.Identifier)))
	}
	// Decision: a scope the API stopped defining after the grant was made is no longer
	// granted (least privilege; admin refuses such a grant when it is written).
	granted := slices.DeleteFunc(slices.Clone(cg.Scope), func(sc string) bool { return !apiDefines(&api, sc) })
	ex.scopes = granted
	if req := splitScope(ex.p.get("scope")); len(req) > 0 {
		var missing []string
		for _, sc := range req {
			if !slices.Contains(granted, sc) && !slices.Contains(missing, sc) {
				missing = append(missing, sc)
			}
		}
		if len(missing) > 0 {
			return errScopesNotGranted(missing)
		}
		ex.scopes = slices.DeleteFunc(granted, func(sc string) bool { return !slices.Contains(req, sc) })
	}
	if strings.HasSuffix(api.TokenDialect, "_authz") {
		// With RBAC's "add permissions in the access token", Auth0 lists a machine's granted
		// scopes as its permissions.
		ex.perms = slices.Clone(ex.scopes)
	}
	ex.subject = ex.client.ClientID + "@clients"
	return nil
}

// credentialsEvent is the credentials-exchange Actions' view of the exchange.
func credentialsEvent(ex *exchange) hooks.CredentialsEvent {
	return hooks.CredentialsEvent{
		Client:          hooks.Client{ClientID: ex.client.ClientID, Name: ex.client.Name, Metadata: ex.client.Metadata},
		ResourceServer:  ex.api.Identifier,
		RequestedScopes: splitScope(ex.requestedScope),
		Scopes:          slices.Clone(ex.scopes),
		Request:         hookRequest(ex),
		TenantID:        ex.tenant.FriendlyName,
	}
}

// deniedExchange is api.access.deny(code, reason) of a credentials-exchange Action: Auth0
// documents invalid_scope, invalid_request and server_error as the codes. Decision: the two
// request errors answer 400 (RFC 6749 §5.2), server_error 500, and any other code is sent as
// invalid_request.
func deniedExchange(d *hooks.DeniedError) *Error {
	switch d.Code {
	case "invalid_scope", "invalid_request":
		return oauthErr(http.StatusBadRequest, d.Code, d.Reason)
	case "server_error":
		return oauthErr(http.StatusInternalServerError, d.Code, d.Reason)
	}
	return oauthErr(http.StatusBadRequest, "invalid_request", d.Reason)
}

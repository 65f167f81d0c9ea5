package oauthserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// assertionType is RFC 7523 §2.2's client_assertion_type.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticatedClient is the result of client authentication.
type authenticatedClient struct {
	store.Client
	// Confidential is true when the client proved itself with a secret or an assertion; only
	// such clients may speak for an end user's IP (auth0-forwarded-for) or introspect.
	Confidential bool
	// Method is how it authenticated: client_secret_post, client_secret_basic, private_key_jwt
	// or none.
	Method string
}

// authenticateClient implements RFC 6749 §2.3 with the methods of WIRE.md §1. Wrong or missing
// credentials for a confidential client are 401 access_denied "Unauthorized", as at Auth0;
// unauthorized is what the revocation and introspection endpoints rename to invalid_client.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, p params) (authenticatedClient, error) {
	basicID, basicSecret, hasBasic, err := basicCredentials(r)
	if err != nil {
		return authenticatedClient{}, err
	}
	clientID, secret := p.get("client_id"), p.get("client_secret")
	assertion := p.get("client_assertion")
	method := "client_secret_post"
	if hasBasic {
		if secret != "" || assertion != "" {
			return authenticatedClient{}, errInvalidRequest("Only one client authentication method may be used.")
		}
		if clientID != "" && clientID != basicID {
			return authenticatedClient{}, errInvalidRequest("client_id does not match the Authorization header.")
		}
		clientID, secret, method = basicID, basicSecret, "client_secret_basic"
	}
	if assertion != "" {
		if secret != "" {
			return authenticatedClient{}, errInvalidRequest("Only one client authentication method may be used.")
		}
		return s.authenticateAssertion(ctx, p, clientID, assertion)
	}
	if clientID == "" {
		return authenticatedClient{}, errMissing("client_id")
	}
	client, err := s.store.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return authenticatedClient{}, errUnauthorizedClient.withCause(errors.New("unknown client_id"))
	}
	if err != nil {
		return authenticatedClient{}, err
	}
	switch client.TokenEndpointAuthMethod {
	case "none":
		// A public client has no secret; one sent anyway proves nothing and is ignored.
		return authenticatedClient{Client: client, Method: "none"}, nil
	case "private_key_jwt":
		return authenticatedClient{}, errUnauthorizedClient.withCause(errors.New("client must authenticate with private_key_jwt"))
	}
	// client_secret_post and client_secret_basic are interchangeable, as at Auth0: x/oauth2
	// tries Basic first and falls back to the body.
	if secret == "" {
		return authenticatedClient{}, errUnauthorizedClient.withCause(errors.New("client secret missing"))
	}
	if !password.VerifySecret(client.SecretHash, secret) {
		e := errUnauthorizedClient.withCause(errors.New("wrong client secret"))
		if method == "client_secret_basic" {
			// RFC 6749 §5.2: a client that tried HTTP Basic is told which scheme to use.
			e.Header = http.Header{"WWW-Authenticate": {`Basic realm="sesame"`}}
		}
		return authenticatedClient{}, e
	}
	return authenticatedClient{Client: client, Confidential: true, Method: method}, nil
}

// authenticateAssertion verifies a private_key_jwt client assertion (RFC 7523 §3) and spends its
// jti once (RFC 7523 §3 item 7), so a captured assertion cannot be replayed.
func (s *Server) authenticateAssertion(ctx context.Context, p params, clientID, assertion string) (authenticatedClient, error) {
	if p.get("client_assertion_type") != assertionType {
		if p.get("client_assertion_type") == "" {
			return authenticatedClient{}, errMissing("client_assertion_type")
		}
		return authenticatedClient{}, errInvalidRequest("client_assertion_type must be " + assertionType)
	}
	iss, err := token.PeekAssertionIssuer(assertion)
	if err != nil {
		return authenticatedClient{}, errUnauthorizedClient.withCause(err)
	}
	if clientID == "" {
		clientID = iss
	}
	if iss != clientID {
		return authenticatedClient{}, errUnauthorizedClient.withCause(errors.New("assertion issuer is not the client_id"))
	}
	client, err := s.store.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return authenticatedClient{}, errUnauthorizedClient.withCause(errors.New("unknown client_id in assertion"))
	}
	if err != nil {
		return authenticatedClient{}, err
	}
	if client.TokenEndpointAuthMethod != "private_key_jwt" || len(client.Credentials) == 0 {
		return authenticatedClient{}, errUnauthorizedClient.withCause(errors.New("client is not registered for private_key_jwt"))
	}
	pems := make([]string, len(client.Credentials))
	for i, c := range client.Credentials {
		pems[i] = c.PEM
	}
	// The audience is the issuer (what Auth0's SDKs send); the token endpoint URL is accepted too.
	claims, err := token.VerifyClientAssertion(assertion, pems, client.ClientID,
		[]string{s.issuer, s.issuer + "oauth/token", trimSlash(s.issuer)}, s.now())
	if err != nil {
		return authenticatedClient{}, errUnauthorizedClient.withCause(err)
	}
	// Keep the jti until the assertion could no longer be accepted anyway.
	until := claims.ExpiresAt.Add(time.Minute)
	if err := s.store.UseOnce(ctx, "jti:"+client.ClientID+":"+claims.JTI, until); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return authenticatedClient{}, errUnauthorizedClient.withCause(errors.New("client assertion jti replayed"))
		}
		return authenticatedClient{}, err
	}
	return authenticatedClient{Client: client, Confidential: true, Method: "private_key_jwt"}, nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}

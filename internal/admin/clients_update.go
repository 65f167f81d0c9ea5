package admin

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/sesameauth/sesame/internal/store"
)

// ClientPatch is a partial change of a client (Auth0's PATCH /api/v2/clients/{id}): nil fields
// keep their value.
type ClientPatch struct {
	Name                    *string
	Description             *string
	AppType                 *string
	GrantTypes              *[]string
	TokenEndpointAuthMethod *string
	// Secret sets a new client secret (at least password.MinSecretLength characters).
	Secret          *string
	IDTokenAlg      *string
	IDTokenLifetime *int
	// RefreshToken, when set, edits the stored refresh-token policy (fields not given keep
	// their value, as Auth0 merges refresh_token).
	RefreshToken                   func(*store.RefreshTokenPolicy)
	IsTokenEndpointIPHeaderTrusted *bool
	// Metadata is merged into client_metadata, as Auth0 merges it: a nil value removes the key.
	Metadata   map[string]*string
	WebOrigins *[]string
	// Credentials, when set, are the client's private_key_jwt keys from now on. A key with an
	// ID keeps the stored key of that ID (ValidationError when there is none); one without an
	// ID is new and needs its PEM.
	Credentials *[]store.ClientCredential
}

// UpdateClient applies p to a client under the same rules as CreateClient and returns the
// client, and a secret when the change generated one (a public client made confidential).
// The stored secret is kept unless p sets one; HS256 ID tokens need the secret sealed, so
// switching an existing client to HS256 needs a new secret when none is sealed.
func (s *Service) UpdateClient(ctx context.Context, clientID string, p ClientPatch) (store.Client, string, error) {
	cur, err := s.GetClient(ctx, clientID)
	if err != nil {
		return store.Client{}, "", err
	}
	in := ClientInput{
		ClientID: cur.ClientID, Name: cur.Name, Description: cur.Description, AppType: cur.AppType,
		GrantTypes: slices.Clone(cur.GrantTypes), TokenEndpointAuthMethod: cur.TokenEndpointAuthMethod,
		IDTokenAlg: cur.IDTokenAlg, IDTokenLifetime: cur.IDTokenLifetime,
		Credentials:                    slices.Clone(cur.Credentials),
		IsTokenEndpointIPHeaderTrusted: cur.IsTokenEndpointIPHeaderTrusted,
		Metadata:                       maps.Clone(cur.Metadata), WebOrigins: slices.Clone(cur.WebOrigins),
	}
	if in.GrantTypes == nil {
		in.GrantTypes = []string{}
	}
	rt := cur.RefreshToken
	in.RefreshToken = &rt
	setIf(&in.Name, p.Name)
	setIf(&in.Description, p.Description)
	setIf(&in.AppType, p.AppType)
	setIf(&in.GrantTypes, p.GrantTypes)
	setIf(&in.TokenEndpointAuthMethod, p.TokenEndpointAuthMethod)
	setIf(&in.Secret, p.Secret)
	setIf(&in.IDTokenAlg, p.IDTokenAlg)
	setIf(&in.IDTokenLifetime, p.IDTokenLifetime)
	setIf(&in.IsTokenEndpointIPHeaderTrusted, p.IsTokenEndpointIPHeaderTrusted)
	setIf(&in.WebOrigins, p.WebOrigins)
	if p.RefreshToken != nil {
		p.RefreshToken(in.RefreshToken)
	}
	if len(p.Metadata) > 0 {
		if in.Metadata == nil {
			in.Metadata = map[string]string{}
		}
		for k, v := range p.Metadata {
			if v == nil {
				delete(in.Metadata, k)
			} else {
				in.Metadata[k] = *v
			}
		}
	}
	if p.Credentials != nil {
		creds, err := patchCredentials(cur.Credentials, *p.Credentials)
		if err != nil {
			return store.Client{}, "", err
		}
		in.Credentials = creds
	}
	in.keepSecret = in.Secret == "" && cur.SecretHash != ""
	c, secret, err := s.buildClient(in)
	if err != nil {
		return store.Client{}, "", err
	}
	if in.keepSecret && c.TokenEndpointAuthMethod != AuthNone {
		c.SecretHash = cur.SecretHash
		if c.IDTokenAlg == "HS256" {
			if cur.SecretSealed == nil {
				return store.Client{}, "", invalid("jwt_configuration.alg", "HS256 ID tokens are signed with the client secret, which Sesame keeps only as a hash: set client_secret (or rotate it) in the same change")
			}
			c.SecretSealed = cur.SecretSealed
		}
	}
	if c.IDTokenAlg == "PS256" && s.Keys != nil {
		if err := s.Keys.Ensure(ctx, "PS256"); err != nil {
			return store.Client{}, "", err
		}
	}
	c.CreatedAt = cur.CreatedAt
	err = s.Store.UpdateClient(ctx, clientID, func(stored *store.Client) error {
		*stored = c
		return nil
	})
	if err != nil {
		return store.Client{}, "", storeErr(err, "client", clientID)
	}
	return c, secret, nil
}

// patchCredentials resolves a new credential list against the stored one.
func patchCredentials(stored, want []store.ClientCredential) ([]store.ClientCredential, error) {
	out := make([]store.ClientCredential, 0, len(want))
	var errs []error
	for _, w := range want {
		if w.ID == "" {
			out = append(out, w)
			continue
		}
		i := slices.IndexFunc(stored, func(c store.ClientCredential) bool { return c.ID == w.ID })
		if i < 0 {
			errs = append(errs, invalid("client_authentication_methods.private_key_jwt.credentials", "the client has no credential %q", w.ID))
			continue
		}
		out = append(out, stored[i])
	}
	return out, errors.Join(errs...)
}

// AddClientCredential registers one more private_key_jwt public key for a client (Auth0's POST
// /api/v2/clients/{id}/credentials); the client must use private_key_jwt.
func (s *Service) AddClientCredential(ctx context.Context, clientID string, cr store.ClientCredential) (store.ClientCredential, error) {
	cur, err := s.GetClient(ctx, clientID)
	if err != nil {
		return store.ClientCredential{}, err
	}
	cr.ID = "" // a new key: buildClient names it
	creds := append(slices.Clone(cur.Credentials), cr)
	c, _, err := s.UpdateClient(ctx, clientID, ClientPatch{Credentials: &creds})
	if err != nil {
		return store.ClientCredential{}, err
	}
	return c.Credentials[len(c.Credentials)-1], nil
}

// DeleteClientCredential removes a private_key_jwt key from a client; the last key of a
// private_key_jwt client cannot go (ValidationError): the client could not authenticate.
func (s *Service) DeleteClientCredential(ctx context.Context, clientID, credentialID string) error {
	cur, err := s.GetClient(ctx, clientID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cur.Credentials, func(c store.ClientCredential) bool { return c.ID == credentialID }) {
		return &NotFoundError{Kind: "credential", ID: credentialID}
	}
	creds := slices.DeleteFunc(slices.Clone(cur.Credentials), func(c store.ClientCredential) bool { return c.ID == credentialID })
	_, _, err = s.UpdateClient(ctx, clientID, ClientPatch{Credentials: &creds})
	return err
}

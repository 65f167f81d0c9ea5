package mgmtapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// clientView is Auth0's client object as the Management API returns it. client_secret is set
// only in the answers to a create and a secret rotation: Sesame keeps a hash of the secret,
// never the secret itself.
type clientView struct {
	ClientID                       string               `json:"client_id"`
	Tenant                         string               `json:"tenant,omitempty"`
	Name                           string               `json:"name"`
	Description                    string               `json:"description"`
	Global                         bool                 `json:"global"`
	ClientSecret                   string               `json:"client_secret,omitempty"`
	AppType                        string               `json:"app_type"`
	IsFirstParty                   bool                 `json:"is_first_party"`
	OIDCConformant                 bool                 `json:"oidc_conformant"`
	Callbacks                      []string             `json:"callbacks"`
	AllowedOrigins                 []string             `json:"allowed_origins"`
	WebOrigins                     []string             `json:"web_origins"`
	AllowedLogoutURLs              []string             `json:"allowed_logout_urls"`
	GrantTypes                     []string             `json:"grant_types"`
	JWTConfiguration               jwtConfigurationView `json:"jwt_configuration"`
	TokenEndpointAuthMethod        string               `json:"token_endpoint_auth_method"`
	ClientAuthenticationMethods    *clientAuthMethods   `json:"client_authentication_methods,omitempty"`
	IsTokenEndpointIPHeaderTrusted bool                 `json:"is_token_endpoint_ip_header_trusted"`
	ClientMetadata                 map[string]string    `json:"client_metadata"`
	RefreshToken                   refreshTokenView     `json:"refresh_token"`
	CustomLoginPageOn              bool                 `json:"custom_login_page_on"`
	SSODisabled                    bool                 `json:"sso_disabled"`
	CrossOriginAuthentication      bool                 `json:"cross_origin_authentication"`
}

type jwtConfigurationView struct {
	Alg               string `json:"alg"`
	LifetimeInSeconds int    `json:"lifetime_in_seconds"`
	SecretEncoded     bool   `json:"secret_encoded"`
}

type refreshTokenView struct {
	RotationType              string `json:"rotation_type"`
	ExpirationType            string `json:"expiration_type"`
	Leeway                    int    `json:"leeway"`
	TokenLifetime             int    `json:"token_lifetime"`
	InfiniteTokenLifetime     bool   `json:"infinite_token_lifetime"`
	IdleTokenLifetime         int    `json:"idle_token_lifetime"`
	InfiniteIdleTokenLifetime bool   `json:"infinite_idle_token_lifetime"`
}

type clientAuthMethods struct {
	PrivateKeyJWT *struct {
		Credentials []credentialRef `json:"credentials"`
	} `json:"private_key_jwt,omitempty"`
}

type credentialRef struct {
	ID string `json:"id"`
}

// credentialView is a private_key_jwt public key (Auth0's client credential object).
type credentialView struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	CredentialType string    `json:"credential_type"`
	Kid            string    `json:"kid,omitempty"`
	Alg            string    `json:"alg,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func newClientView(c store.Client, tenant string) clientView {
	v := clientView{
		ClientID: c.ClientID, Tenant: tenant, Name: c.Name, Description: c.Description, AppType: c.AppType,
		IsFirstParty: true, OIDCConformant: true,
		Callbacks: []string{}, AllowedOrigins: []string{}, AllowedLogoutURLs: []string{},
		WebOrigins:              nonNil(c.WebOrigins),
		GrantTypes:              nonNil(c.GrantTypes),
		JWTConfiguration:        jwtConfigurationView{Alg: c.IDTokenAlg, LifetimeInSeconds: c.IDTokenLifetime},
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		// Auth0 reports a private_key_jwt client's method as null with the credentials set.
		IsTokenEndpointIPHeaderTrusted: c.IsTokenEndpointIPHeaderTrusted,
		ClientMetadata:                 c.Metadata,
		RefreshToken: refreshTokenView{
			RotationType: c.RefreshToken.RotationType, ExpirationType: c.RefreshToken.ExpirationType,
			Leeway: c.RefreshToken.Leeway, TokenLifetime: c.RefreshToken.TokenLifetime,
			InfiniteTokenLifetime: c.RefreshToken.InfiniteTokenLifetime, IdleTokenLifetime: c.RefreshToken.IdleTokenLifetime,
			InfiniteIdleTokenLifetime: c.RefreshToken.InfiniteIdleTokenLifetime,
		},
	}
	if v.ClientMetadata == nil {
		v.ClientMetadata = map[string]string{}
	}
	if len(c.Credentials) > 0 {
		m := &clientAuthMethods{PrivateKeyJWT: &struct {
			Credentials []credentialRef `json:"credentials"`
		}{}}
		for _, cr := range c.Credentials {
			m.PrivateKeyJWT.Credentials = append(m.PrivateKeyJWT.Credentials, credentialRef{ID: cr.ID})
		}
		v.ClientAuthenticationMethods = m
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// tenantName is the tenant field of Auth0's objects: the tenant's friendly name.
func (a *API) tenantName(r *http.Request) string {
	t, err := a.cfg.Admin.Store.GetTenant(r.Context())
	if err != nil {
		return ""
	}
	return t.FriendlyName
}

// listClients is GET /clients: offset paging; is_global=true lists Auth0's global client,
// which Sesame has none of (the Deploy CLI's export reads the global client's id only to
// leave it out), so it answers an empty list; app_type filters by a comma-separated list.
func (a *API) listClients(w http.ResponseWriter, r *http.Request, c *Caller) error {
	q := r.URL.Query()
	global, err := boolParam(q, "is_global")
	if err != nil {
		return err
	}
	all, err := a.cfg.Admin.ListClients(r.Context())
	if err != nil {
		return err
	}
	if global {
		all = nil
	}
	if types := q.Get("app_type"); types != "" {
		want := splitComma(types)
		all = slices.DeleteFunc(all, func(c store.Client) bool { return !slices.Contains(want, c.AppType) })
	}
	tenant := a.tenantName(r)
	views := make([]clientView, len(all))
	for i, cl := range all {
		views[i] = newClientView(cl, tenant)
	}
	return writeList(w, r, "clients", views, nil)
}

// clientBody is the JSON body of POST /clients and PATCH /clients/{id}: pointers tell a field
// left out from one set to its zero value.
type clientBody struct {
	Name                           *string            `json:"name"`
	Description                    *string            `json:"description"`
	AppType                        *string            `json:"app_type"`
	GrantTypes                     *[]string          `json:"grant_types"`
	TokenEndpointAuthMethod        *string            `json:"token_endpoint_auth_method"`
	ClientSecret                   *string            `json:"client_secret"`
	JWTConfiguration               *jwtBody           `json:"jwt_configuration"`
	RefreshToken                   *refreshTokenBody  `json:"refresh_token"`
	IsTokenEndpointIPHeaderTrusted *bool              `json:"is_token_endpoint_ip_header_trusted"`
	ClientMetadata                 *map[string]string `json:"client_metadata"`
	WebOrigins                     *[]string          `json:"web_origins"`
	ClientAuthenticationMethods    *authMethodsBody   `json:"client_authentication_methods"`
}

type jwtBody struct {
	Alg               *string `json:"alg"`
	LifetimeInSeconds *int    `json:"lifetime_in_seconds"`
}

type refreshTokenBody struct {
	RotationType              *string `json:"rotation_type"`
	ExpirationType            *string `json:"expiration_type"`
	Leeway                    *int    `json:"leeway"`
	TokenLifetime             *int    `json:"token_lifetime"`
	InfiniteTokenLifetime     *bool   `json:"infinite_token_lifetime"`
	IdleTokenLifetime         *int    `json:"idle_token_lifetime"`
	InfiniteIdleTokenLifetime *bool   `json:"infinite_idle_token_lifetime"`
}

// apply sets the fields b gives on p.
func (b *refreshTokenBody) apply(p *store.RefreshTokenPolicy) {
	set(&p.RotationType, b.RotationType)
	set(&p.ExpirationType, b.ExpirationType)
	set(&p.Leeway, b.Leeway)
	set(&p.TokenLifetime, b.TokenLifetime)
	set(&p.InfiniteTokenLifetime, b.InfiniteTokenLifetime)
	set(&p.IdleTokenLifetime, b.IdleTokenLifetime)
	set(&p.InfiniteIdleTokenLifetime, b.InfiniteIdleTokenLifetime)
}

// authMethodsBody is client_authentication_methods. On create, private_key_jwt credentials
// carry their public keys (pem); on update they name existing credentials by id.
type authMethodsBody struct {
	PrivateKeyJWT *struct {
		Credentials []credentialBody `json:"credentials"`
	} `json:"private_key_jwt"`
}

// credentialBody is a client credential as POST /clients/{id}/credentials (and a create's
// private_key_jwt list) takes it.
type credentialBody struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	CredentialType string `json:"credential_type"`
	PEM            string `json:"pem"`
}

// set copies *v into *dst when v is given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// createClient is POST /clients: 201 with the client and, for a confidential client, its
// secret (shown only here and by rotate-secret).
func (a *API) createClient(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b clientBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	in := admin.ClientInput{}
	set(&in.Name, b.Name)
	set(&in.Description, b.Description)
	set(&in.AppType, b.AppType)
	set(&in.GrantTypes, b.GrantTypes)
	set(&in.TokenEndpointAuthMethod, b.TokenEndpointAuthMethod)
	set(&in.Secret, b.ClientSecret)
	set(&in.IsTokenEndpointIPHeaderTrusted, b.IsTokenEndpointIPHeaderTrusted)
	set(&in.Metadata, b.ClientMetadata)
	set(&in.WebOrigins, b.WebOrigins)
	if j := b.JWTConfiguration; j != nil {
		set(&in.IDTokenAlg, j.Alg)
		set(&in.IDTokenLifetime, j.LifetimeInSeconds)
	}
	if b.RefreshToken != nil {
		p := admin.DefaultRefreshPolicy(in.AppType)
		b.RefreshToken.apply(&p)
		in.RefreshToken = &p
	}
	if m := b.ClientAuthenticationMethods; m != nil && m.PrivateKeyJWT != nil {
		for _, cr := range m.PrivateKeyJWT.Credentials {
			in.Credentials = append(in.Credentials, store.ClientCredential{Name: cr.Name, PEM: cr.PEM})
		}
		if in.TokenEndpointAuthMethod == "" {
			in.TokenEndpointAuthMethod = admin.AuthPrivateKey
		}
	}
	cl, secret, err := a.cfg.Admin.CreateClient(r.Context(), in)
	if err != nil {
		return err
	}
	v := newClientView(cl, a.tenantName(r))
	v.ClientSecret = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

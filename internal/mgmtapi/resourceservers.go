package mgmtapi

import (
	"net/http"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// resourceServerView is Auth0's resource server object.
type resourceServerView struct {
	ID                 string      `json:"id"`
	Name               string      `json:"name"`
	Identifier         string      `json:"identifier"`
	IsSystem           bool        `json:"is_system"`
	Scopes             []scopeView `json:"scopes"`
	SigningAlg         string      `json:"signing_alg"`
	AllowOfflineAccess bool        `json:"allow_offline_access"`
	// SkipConsentForVerifiableFirstPartyClients is always true: Sesame has no consent screen.
	SkipConsentForVerifiableFirstPartyClients bool   `json:"skip_consent_for_verifiable_first_party_clients"`
	TokenLifetime                             int    `json:"token_lifetime"`
	TokenLifetimeForWeb                       int    `json:"token_lifetime_for_web"`
	TokenDialect                              string `json:"token_dialect,omitempty"`
	EnforcePolicies                           bool   `json:"enforce_policies"`
}

type scopeView struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

func (a *API) newResourceServerView(rs store.ResourceServer) resourceServerView {
	v := resourceServerView{
		ID: rs.ID, Name: rs.Name, Identifier: rs.Identifier, IsSystem: a.cfg.Admin.IsManagementAPI(rs),
		Scopes: make([]scopeView, len(rs.Scopes)), SigningAlg: rs.SigningAlg, AllowOfflineAccess: rs.AllowOfflineAccess,
		SkipConsentForVerifiableFirstPartyClients: true, TokenLifetime: rs.TokenLifetime,
		TokenLifetimeForWeb: min(rs.TokenLifetime, 7200), TokenDialect: rs.TokenDialect, EnforcePolicies: rs.EnforcePolicies,
	}
	if v.IsSystem {
		// Auth0 does not report the system API's token settings as editable fields.
		v.TokenDialect = ""
	}
	for i, sc := range rs.Scopes {
		v.Scopes[i] = scopeView{Value: sc.Value, Description: sc.Description}
	}
	return v
}

// resourceServerBody is the body of POST and PATCH /resource-servers.
type resourceServerBody struct {
	Name               *string      `json:"name"`
	Identifier         *string      `json:"identifier"`
	Scopes             *[]scopeView `json:"scopes"`
	SigningAlg         *string      `json:"signing_alg"`
	AllowOfflineAccess *bool        `json:"allow_offline_access"`
	TokenLifetime      *int         `json:"token_lifetime"`
	TokenDialect       *string      `json:"token_dialect"`
	EnforcePolicies    *bool        `json:"enforce_policies"`
}

func (b resourceServerBody) scopes() *[]store.Scope {
	if b.Scopes == nil {
		return nil
	}
	out := make([]store.Scope, len(*b.Scopes))
	for i, sc := range *b.Scopes {
		out[i] = store.Scope{Value: sc.Value, Description: sc.Description}
	}
	return &out
}

// listResourceServers is GET /resource-servers: offset paging, the Management API listed
// first among them as Auth0 lists it (is_system: true).
func (a *API) listResourceServers(w http.ResponseWriter, r *http.Request, c *Caller) error {
	all, err := a.cfg.Admin.ListAPIs(r.Context())
	if err != nil {
		return err
	}
	views := make([]resourceServerView, len(all))
	for i, rs := range all {
		views[i] = a.newResourceServerView(rs)
	}
	return writeList(w, r, "resource_servers", views, nil)
}

// getResourceServer is GET /resource-servers/{id} (id or identifier, as at Auth0).
func (a *API) getResourceServer(w http.ResponseWriter, r *http.Request, c *Caller) error {
	rs, err := a.cfg.Admin.GetAPI(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.newResourceServerView(rs))
	return nil
}

// createResourceServer is POST /resource-servers: 201.
func (a *API) createResourceServer(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b resourceServerBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	in := admin.APIInput{}
	set(&in.Identifier, b.Identifier)
	set(&in.Name, b.Name)
	if sc := b.scopes(); sc != nil {
		in.Scopes = *sc
	}
	set(&in.SigningAlg, b.SigningAlg)
	set(&in.AllowOfflineAccess, b.AllowOfflineAccess)
	set(&in.TokenLifetime, b.TokenLifetime)
	set(&in.TokenDialect, b.TokenDialect)
	set(&in.EnforcePolicies, b.EnforcePolicies)
	rs, err := a.cfg.Admin.CreateAPI(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.newResourceServerView(rs))
	return nil
}

// patchResourceServer is PATCH /resource-servers/{id}: only the fields given change (scopes,
// given, replace the list, as at Auth0); the identifier cannot change.
func (a *API) patchResourceServer(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b resourceServerBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	rs, err := a.cfg.Admin.UpdateAPI(r.Context(), r.PathValue("id"), admin.APIPatch{
		Name: b.Name, Scopes: b.scopes(), SigningAlg: b.SigningAlg, AllowOfflineAccess: b.AllowOfflineAccess,
		TokenLifetime: b.TokenLifetime, TokenDialect: b.TokenDialect, EnforcePolicies: b.EnforcePolicies,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.newResourceServerView(rs))
	return nil
}

package mgmtapi

import (
	"net/http"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// tenantSettingsView is Auth0's tenant settings object, with the settings Sesame has.
type tenantSettingsView struct {
	FriendlyName     string          `json:"friendly_name"`
	DefaultDirectory string          `json:"default_directory"`
	DefaultAudience  string          `json:"default_audience"`
	Flags            tenantFlagsView `json:"flags"`
	EnabledLocales   []string        `json:"enabled_locales"`
}

type tenantFlagsView struct {
	RevokeRefreshTokenGrant bool `json:"revoke_refresh_token_grant"`
}

func newTenantSettingsView(t store.Tenant) tenantSettingsView {
	return tenantSettingsView{FriendlyName: t.FriendlyName, DefaultDirectory: t.DefaultDirectory,
		DefaultAudience: t.DefaultAudience, Flags: tenantFlagsView{RevokeRefreshTokenGrant: t.RevokeDeletesGrant},
		EnabledLocales: []string{"en"}}
}

// tenantSettingsBody is the body of PATCH /tenants/settings; Auth0's settings Sesame has no
// use for (support_email, session_lifetime, other flags...) are ignored.
type tenantSettingsBody struct {
	FriendlyName     *string `json:"friendly_name"`
	DefaultDirectory *string `json:"default_directory"`
	DefaultAudience  *string `json:"default_audience"`
	Flags            *struct {
		RevokeRefreshTokenGrant *bool `json:"revoke_refresh_token_grant"`
	} `json:"flags"`
}

// getTenantSettings is GET /tenants/settings.
func (a *API) getTenantSettings(w http.ResponseWriter, r *http.Request, c *Caller) error {
	t, err := a.cfg.Admin.GetTenant(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTenantSettingsView(t))
	return nil
}

// patchTenantSettings is PATCH /tenants/settings: only the settings given change.
func (a *API) patchTenantSettings(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b tenantSettingsBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	p := admin.TenantPatch{FriendlyName: b.FriendlyName, DefaultDirectory: b.DefaultDirectory, DefaultAudience: b.DefaultAudience}
	if b.Flags != nil {
		p.RevokeDeletesGrant = b.Flags.RevokeRefreshTokenGrant
	}
	t, err := a.cfg.Admin.UpdateTenant(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTenantSettingsView(t))
	return nil
}

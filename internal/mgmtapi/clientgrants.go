package mgmtapi

import (
	"net/http"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// clientGrantView is Auth0's client grant object.
type clientGrantView struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`
}

func newClientGrantView(g store.ClientGrant) clientGrantView {
	return clientGrantView{ID: g.ID, ClientID: g.ClientID, Audience: g.Audience, Scope: nonNil(g.Scope)}
}

// clientGrantBody is the body of POST and PATCH /client-grants.
type clientGrantBody struct {
	ClientID string    `json:"client_id"`
	Audience string    `json:"audience"`
	Scope    *[]string `json:"scope"`
}

// listClientGrants is GET /client-grants, filtered by audience and client_id; offset paging,
// or checkpoint paging (from/take) in id order.
func (a *API) listClientGrants(w http.ResponseWriter, r *http.Request, c *Caller) error {
	q := r.URL.Query()
	all, err := a.cfg.Admin.ListClientGrants(r.Context(), store.ClientGrantFilter{ClientID: q.Get("client_id"), Audience: q.Get("audience")})
	if err != nil {
		return err
	}
	views := make([]clientGrantView, len(all))
	for i, g := range all {
		views[i] = newClientGrantView(g)
	}
	return writeList(w, r, "client_grants", views, func(v clientGrantView) string { return v.ID })
}

// getClientGrant is GET /client-grants/{id}.
func (a *API) getClientGrant(w http.ResponseWriter, r *http.Request, c *Caller) error {
	g, err := a.cfg.Admin.GetClientGrant(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newClientGrantView(g))
	return nil
}

// createClientGrant is POST /client-grants: 201; an audience https://<any host>/api/v2/ is
// this server's Management API.
func (a *API) createClientGrant(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b clientGrantBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	in := admin.ClientGrantInput{ClientID: b.ClientID, Audience: b.Audience}
	if b.Scope != nil {
		in.Scope = *b.Scope
	}
	g, err := a.cfg.Admin.CreateClientGrant(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newClientGrantView(g))
	return nil
}

// patchClientGrant is PATCH /client-grants/{id} {scope}: the scopes are replaced.
func (a *API) patchClientGrant(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b clientGrantBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	id := r.PathValue("id")
	if b.Scope == nil {
		g, err := a.cfg.Admin.GetClientGrant(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newClientGrantView(g))
		return nil
	}
	g, err := a.cfg.Admin.UpdateClientGrant(r.Context(), id, *b.Scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newClientGrantView(g))
	return nil
}

package mgmtapi

import (
	"net/http"
	"slices"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// connectionView is Auth0's connection object.
type connectionView struct {
	ID                 string         `json:"id"`
	Name               string         `json:"name"`
	DisplayName        string         `json:"display_name"`
	Strategy           string         `json:"strategy"`
	Options            map[string]any `json:"options"`
	EnabledClients     []string       `json:"enabled_clients"`
	Realms             []string       `json:"realms"`
	IsDomainConnection bool           `json:"is_domain_connection"`
}

func newConnectionView(c store.Connection) connectionView {
	opts := c.Options
	if opts == nil {
		opts = map[string]any{}
	}
	// Sealed secrets (LDAP bind credentials) are never returned; a PATCH without them keeps them.
	opts = admin.PublicConnectionOptions(c.Strategy, opts)
	return connectionView{ID: c.ID, Name: c.Name, DisplayName: c.Name, Strategy: c.Strategy, Options: opts,
		EnabledClients: nonNil(c.EnabledClients), Realms: []string{c.Name}}
}

// connectionBody is the body of POST and PATCH /connections.
type connectionBody struct {
	Name           string          `json:"name"`
	Strategy       string          `json:"strategy"`
	Options        *map[string]any `json:"options"`
	EnabledClients *[]string       `json:"enabled_clients"`
}

// listConnections is GET /connections, filtered by strategy (repeated or comma-separated)
// and name; offset paging, or checkpoint paging (from/take, what the Deploy CLI uses) in
// name order.
func (a *API) listConnections(w http.ResponseWriter, r *http.Request, c *Caller) error {
	q := r.URL.Query()
	all, err := a.cfg.Admin.ListConnections(r.Context())
	if err != nil {
		return err
	}
	var strategies []string
	for _, s := range q["strategy"] {
		strategies = append(strategies, splitComma(s)...)
	}
	name := q.Get("name")
	all = slices.DeleteFunc(all, func(c store.Connection) bool {
		return (len(strategies) > 0 && !slices.Contains(strategies, c.Strategy)) || (name != "" && c.Name != name)
	})
	views := make([]connectionView, len(all))
	for i, cn := range all {
		views[i] = newConnectionView(cn)
	}
	return writeList(w, r, "connections", views, func(v connectionView) string { return v.Name })
}

// getConnection is GET /connections/{id}.
func (a *API) getConnection(w http.ResponseWriter, r *http.Request, c *Caller) error {
	cn, err := a.cfg.Admin.GetConnectionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newConnectionView(cn))
	return nil
}

// createConnection is POST /connections: 201.
func (a *API) createConnection(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b connectionBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	in := admin.ConnectionInput{Name: b.Name, Strategy: b.Strategy}
	set(&in.Options, b.Options)
	set(&in.EnabledClients, b.EnabledClients)
	cn, err := a.cfg.Admin.CreateConnectionFrom(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newConnectionView(cn))
	return nil
}

// patchConnection is PATCH /connections/{id}: options, given, replace the stored ones
// (Auth0's rule); enabled_clients, given, replace the list.
func (a *API) patchConnection(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b connectionBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	cn, err := a.cfg.Admin.UpdateConnection(r.Context(), r.PathValue("id"),
		admin.ConnectionPatch{Options: b.Options, EnabledClients: b.EnabledClients})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newConnectionView(cn))
	return nil
}

type connectionClientView struct {
	ClientID string `json:"client_id"`
}

// listConnectionClients is GET /connections/{id}/clients: checkpoint paging
// ({"clients":[{"client_id"}], "next"}) in client id order.
func (a *API) listConnectionClients(w http.ResponseWriter, r *http.Request, c *Caller) error {
	cn, err := a.cfg.Admin.GetConnectionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ids := slices.Sorted(slices.Values(cn.EnabledClients))
	cp, err := ParseCheckpoint(r.URL.Query())
	if err != nil {
		return err
	}
	views := make([]connectionClientView, len(ids))
	for i, id := range ids {
		views[i] = connectionClientView{ClientID: id}
	}
	items, next := checkpointOf(views, cp, func(v connectionClientView) string { return v.ClientID })
	WriteCheckpoint(w, "clients", items, next)
	return nil
}

// patchConnectionClients is PATCH /connections/{id}/clients [{client_id, status}]: 204.
func (a *API) patchConnectionClients(w http.ResponseWriter, r *http.Request, c *Caller) error {
	var b []struct {
		ClientID string `json:"client_id"`
		Status   *bool  `json:"status"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	changes := make([]admin.ClientStatus, 0, len(b))
	for _, ch := range b {
		if ch.ClientID == "" || ch.Status == nil {
			return badBody("'Missing required property: client_id, status'.")
		}
		changes = append(changes, admin.ClientStatus{ClientID: ch.ClientID, Status: *ch.Status})
	}
	return noContent(w, a.cfg.Admin.SetConnectionClients(r.Context(), r.PathValue("id"), changes))
}

// testConnection is a Sesame extension (Auth0 has no such endpoint): POST
// /connections/{id}/test with {"username","password"} tries a login against an ad/ldap
// connection's directory as the token endpoint does and answers each step (connect, service
// bind, search, entry, user bind, groups) with what the directory said, as `sesame connections
// test` prints them. A refused login is a 200 with "succeeded": false and an explanation; the
// password is never logged. It needs update:connections, not read: it makes the server bind
// with the credentials given, and tells whether a username exists in the directory.
func (a *API) testConnection(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	res, err := a.cfg.Admin.TestDirectoryLoginByID(r.Context(), r.PathValue("id"), b.Username, b.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

package mgmtapi

import (
	"cmp"
	"net/http"
	"net/url"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// logView is Auth0's log event object.
func logView(e store.LogEvent) map[string]any {
	v := map[string]any{"log_id": e.ID, "_id": e.ID, "date": admin.FormatTime(e.Date), "type": e.Type, "isMobile": false}
	for k, s := range map[string]string{"description": e.Description, "client_id": e.ClientID, "client_name": e.ClientName,
		"connection": e.Connection, "connection_id": e.ConnectionID, "ip": e.IP, "user_agent": e.UserAgent,
		"user_id": e.UserID, "user_name": e.UserName, "audience": e.Audience, "scope": e.Scope} {
		if s != "" {
			v[k] = s
		}
	}
	if e.Details != nil {
		v["details"] = e.Details
	}
	return v
}

func logViews(q url.Values, es []store.LogEvent) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(es))
	for _, e := range es {
		v, err := selectFields(q, logView(e))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// listLogs serves GET /logs. Checkpoint paging takes Auth0's from (a plain log_id, not a
// cursor of ours) and answers a bare array, as Auth0 does.
func (a *API) listLogs(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	q := r.URL.Query()
	// go-auth0 v3 sends the query as search; Auth0 documents q as well.
	lp := admin.ListParams{Q: cmp.Or(q.Get("q"), q.Get("search")), Sort: q.Get("sort")}
	var p Page
	if IsCheckpoint(q) {
		take, err := intParam(q, "take", defaultPerPage, 1, maxPerPage)
		if err != nil {
			return err
		}
		lp.Checkpoint, lp.From, lp.Take = true, q.Get("from"), take
	} else {
		var err error
		if p, err = ParsePage(q); err != nil {
			return err
		}
		lp.Page, lp.PerPage, lp.IncludeTotals = p.Page, p.PerPage, p.IncludeTotals
	}
	page, err := a.cfg.Admin.SearchLogs(r.Context(), lp)
	if err != nil {
		return err
	}
	views, err := logViews(q, page.Logs)
	if err != nil {
		return err
	}
	if lp.Checkpoint {
		writeJSON(w, http.StatusOK, views)
		return nil
	}
	WritePage(w, "logs", views, p, page.Total)
	return nil
}

func (a *API) getLog(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	e, err := a.cfg.Admin.GetLog(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, logView(e))
	return nil
}

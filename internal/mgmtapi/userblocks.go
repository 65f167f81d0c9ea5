package mgmtapi

import (
	"net/http"

	"github.com/sesameauth/sesame/internal/admin"
)

// blockedFor renders Auth0's user-blocks answer: {"blocked_for": [{identifier, ip,
// connection}]}.
func blockedFor(bs []admin.UserBlock) map[string]any {
	out := make([]map[string]any, 0, len(bs))
	for _, b := range bs {
		out = append(out, map[string]any{"identifier": b.Identifier, "ip": b.IP, "connection": b.Connection})
	}
	return map[string]any{"blocked_for": out}
}

func (a *API) listUserBlocksByIdentifier(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	bs, err := a.cfg.Admin.IdentifierBlocks(r.Context(), r.URL.Query().Get("identifier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, blockedFor(bs))
	return nil
}

func (a *API) deleteUserBlocksByIdentifier(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	if _, err := a.cfg.Admin.UnblockIdentifier(r.Context(), r.URL.Query().Get("identifier")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listUserBlocks(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	bs, err := a.cfg.Admin.UserBlocks(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, blockedFor(bs))
	return nil
}

func (a *API) deleteUserBlocks(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	if err := a.cfg.Admin.UnblockUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package mgmtapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// jobView is Auth0's job object; an export that has completed carries the location its file
// is downloaded from: this API, with the same token (GET /jobs/{id}/result).
func (a *API) jobView(j store.Job) map[string]any {
	v := map[string]any{"id": j.ID, "type": j.Type, "status": j.Status, "created_at": admin.FormatTime(j.CreatedAt)}
	if j.ConnectionID != "" {
		v["connection_id"], v["connection"] = j.ConnectionID, j.Connection
	}
	for k, x := range j.Params {
		v[k] = x
	}
	if j.Summary != nil {
		v["summary"] = j.Summary
	}
	if j.Type == store.JobUsersExport && j.Status == store.JobCompleted {
		v["location"] = a.cfg.Issuer + "api/v2/jobs/" + j.ID + "/result"
	}
	return v
}

// maxImportForm bounds the multipart body of a users-imports request: the file plus its
// few small fields.
const maxImportForm = admin.MaxImportBytes + 1<<20

func formBool(r *http.Request, name string) (bool, error) {
	v := r.FormValue(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badBody("%s must be true or false", name)
	}
	return b, nil
}

func (a *API) importUsers(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxImportForm)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "The users file is too large."}
		}
		return badBody("a multipart/form-data body with a users file is required")
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("users")
	if err != nil {
		return badBody("users: a file is required")
	}
	defer f.Close()
	upsert, err := formBool(r, "upsert")
	if err != nil {
		return err
	}
	notify, err := formBool(r, "send_completion_email")
	if err != nil {
		return err
	}
	j, err := a.cfg.Admin.StartUsersImport(r.Context(), f, admin.UsersImportOptions{ConnectionID: r.FormValue("connection_id"),
		Upsert: upsert, ExternalID: r.FormValue("external_id"), SendCompletionEmail: notify})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.jobView(j))
	return nil
}

func (a *API) exportUsers(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b struct {
		ConnectionID string              `json:"connection_id"`
		Format       string              `json:"format"`
		Limit        int                 `json:"limit"`
		Fields       []admin.ExportField `json:"fields"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	j, err := a.cfg.Admin.StartUsersExport(r.Context(), admin.UsersExportOptions{ConnectionID: b.ConnectionID,
		Format: b.Format, Limit: b.Limit, Fields: b.Fields})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.jobView(j))
	return nil
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	j, err := a.cfg.Admin.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.jobView(j))
	return nil
}

func (a *API) getJobErrors(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	errs, err := a.cfg.Admin.JobErrors(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, errs)
	return nil
}

func (a *API) getJobResult(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	data, name, err := a.cfg.Admin.JobResult(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}

package mgmtapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// selectFields applies Auth0's fields and include_fields parameters to a rendered object:
// fields=a,b keeps those (include_fields=false drops them instead).
func selectFields(q url.Values, obj map[string]any) (map[string]any, error) {
	fields := q.Get("fields")
	if fields == "" {
		return obj, nil
	}
	include := true
	if q.Has("include_fields") {
		v, err := boolParam(q, "include_fields")
		if err != nil {
			return nil, err
		}
		include = v
	}
	want := map[string]bool{}
	for _, f := range strings.Split(fields, ",") {
		want[strings.TrimSpace(f)] = true
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if want[k] == include {
			out[k] = v
		}
	}
	return out, nil
}

// userViews renders users as Auth0's user objects, narrowed by fields/include_fields.
func userViews(q url.Values, us []store.User) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(us))
	for _, u := range us {
		v, err := selectFields(q, admin.UserProfile(u))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	q := r.URL.Query()
	lp := admin.ListParams{Q: q.Get("q"), Sort: q.Get("sort"), SearchEngine: q.Get("search_engine")}
	var p Page
	if IsCheckpoint(q) {
		cp, err := ParseCheckpoint(q)
		if err != nil {
			return err
		}
		lp.Checkpoint, lp.From, lp.Take = true, cp.From, cp.Take
	} else {
		var err error
		if p, err = ParsePage(q); err != nil {
			return err
		}
		lp.Page, lp.PerPage, lp.IncludeTotals = p.Page, p.PerPage, p.IncludeTotals
	}
	page, err := a.cfg.Admin.SearchUsers(r.Context(), lp)
	if err != nil {
		return err
	}
	views, err := userViews(q, page.Users)
	if err != nil {
		return err
	}
	if lp.Checkpoint {
		next := ""
		if page.Next != "" {
			next = NextCursor(page.Next)
		}
		WriteCheckpoint(w, "users", views, next)
		return nil
	}
	WritePage(w, "users", views, p, page.Total)
	return nil
}

func (a *API) usersByEmail(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	q := r.URL.Query()
	us, err := a.cfg.Admin.UsersByEmail(r.Context(), q.Get("email"))
	if err != nil {
		return err
	}
	views, err := userViews(q, us)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	u, err := a.cfg.Admin.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := selectFields(r.URL.Query(), admin.UserProfile(u))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// userBody is the body of POST and PATCH /users: Auth0's field names; absent fields are nil.
type userBody struct {
	Connection    *string        `json:"connection"`
	Email         *string        `json:"email"`
	Username      *string        `json:"username"`
	Password      *string        `json:"password"`
	EmailVerified *bool          `json:"email_verified"`
	Blocked       *bool          `json:"blocked"`
	Name          *string        `json:"name"`
	Nickname      *string        `json:"nickname"`
	Picture       *string        `json:"picture"`
	GivenName     *string        `json:"given_name"`
	FamilyName    *string        `json:"family_name"`
	UserMetadata  map[string]any `json:"user_metadata"`
	AppMetadata   map[string]any `json:"app_metadata"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b userBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	u, err := a.cfg.Admin.CreateUser(r.Context(), admin.UserInput{
		Connection: deref(b.Connection), Email: deref(b.Email), Username: deref(b.Username), Password: deref(b.Password),
		EmailVerified: deref(b.EmailVerified), Blocked: deref(b.Blocked), Name: deref(b.Name), Nickname: deref(b.Nickname),
		Picture: deref(b.Picture), GivenName: deref(b.GivenName), FamilyName: deref(b.FamilyName),
		UserMetadata: b.UserMetadata, AppMetadata: b.AppMetadata,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, admin.UserProfile(u))
	return nil
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b userBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	u, err := a.cfg.Admin.UpdateUser(r.Context(), r.PathValue("id"), admin.UserPatch{
		Connection: b.Connection, Email: b.Email, Username: b.Username, Password: b.Password,
		EmailVerified: b.EmailVerified, Blocked: b.Blocked, Name: b.Name, Nickname: b.Nickname, Picture: b.Picture,
		GivenName: b.GivenName, FamilyName: b.FamilyName, UserMetadata: b.UserMetadata, AppMetadata: b.AppMetadata,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, admin.UserProfile(u))
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	if err := a.cfg.Admin.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type permissionView struct {
	PermissionName           string `json:"permission_name"`
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	ResourceServerName       string `json:"resource_server_name"`
	Description              string `json:"description"`
	Sources                  []any  `json:"sources"`
}

func (a *API) listUserPermissions(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	ps, err := a.cfg.Admin.UserPermissions(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	views := make([]permissionView, 0, len(ps))
	for _, p := range ps {
		views = append(views, permissionView{PermissionName: p.PermissionName, ResourceServerIdentifier: p.ResourceServerIdentifier,
			ResourceServerName: p.ResourceServerName, Description: p.Description,
			Sources: []any{map[string]any{"source_id": "", "source_name": "", "source_type": "DIRECT"}}})
	}
	return writeList(w, r, "permissions", views, nil)
}

type permissionsBody struct {
	Permissions []struct {
		ResourceServerIdentifier string `json:"resource_server_identifier"`
		PermissionName           string `json:"permission_name"`
	} `json:"permissions"`
}

func (b permissionsBody) list() []store.Permission {
	out := make([]store.Permission, 0, len(b.Permissions))
	for _, p := range b.Permissions {
		out = append(out, store.Permission{ResourceServerIdentifier: p.ResourceServerIdentifier, PermissionName: p.PermissionName})
	}
	return out
}

func (a *API) addUserPermissions(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b permissionsBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if err := a.cfg.Admin.AddUserPermissions(r.Context(), r.PathValue("id"), b.list()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (a *API) removeUserPermissions(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b permissionsBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if err := a.cfg.Admin.RemoveUserPermissions(r.Context(), r.PathValue("id"), b.list()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// enrollmentTypes names Sesame's authenticator kinds as Auth0's enrollments do.
var enrollmentTypes = map[string]string{store.AuthenticatorTOTP: "authenticator", store.AuthenticatorEmail: "email",
	store.AuthenticatorSMS: "sms", store.AuthenticatorRecoveryCode: "recovery-code"}

func (a *API) listEnrollments(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	as, err := a.cfg.Admin.ListMFAAuthenticators(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(as))
	for _, x := range as {
		status := "pending"
		if x.Confirmed {
			status = "confirmed"
		}
		v := map[string]any{"id": x.ID, "status": status, "type": enrollmentTypes[x.Kind], "enrolled_at": admin.FormatTime(x.CreatedAt)}
		if x.Name != "" {
			v["name"] = x.Name
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteAuthenticators(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	if _, err := a.cfg.Admin.ResetMFA(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteMultifactorProvider(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	if _, err := a.cfg.Admin.DeleteMultifactorProvider(r.Context(), r.PathValue("id"), r.PathValue("provider")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userRefreshToken is Auth0's refresh token object; Sesame's ID is the login's token family.
func userRefreshToken(f store.RefreshFamily) map[string]any {
	v := map[string]any{"id": f.ID, "user_id": f.UserID, "client_id": f.ClientID, "created_at": admin.FormatTime(f.CreatedAt),
		"session_id": nil, "rotating": true,
		"resource_servers": []any{map[string]any{"audience": f.Audience, "scopes": f.Scope}}}
	if !f.ExpiresAt.IsZero() {
		v["expires_at"] = admin.FormatTime(f.ExpiresAt)
	}
	return v
}

func (a *API) listUserRefreshTokens(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	cp, err := ParseCheckpoint(r.URL.Query())
	if err != nil {
		return err
	}
	fs, next, err := a.cfg.Admin.UserRefreshTokens(r.Context(), r.PathValue("id"), admin.ListParams{From: cp.From, Take: cp.Take})
	if err != nil {
		return err
	}
	views := make([]map[string]any, 0, len(fs))
	for _, f := range fs {
		views = append(views, userRefreshToken(f))
	}
	if next != "" {
		next = NextCursor(next)
	}
	WriteCheckpoint(w, "tokens", views, next)
	return nil
}

func (a *API) deleteUserRefreshTokens(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	if _, err := a.cfg.Admin.RevokeRefreshTokens(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getRefreshToken(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	f, err := a.cfg.Admin.GetRefreshToken(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userRefreshToken(f))
	return nil
}

func (a *API) deleteRefreshToken(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	if err := a.cfg.Admin.RevokeRefreshToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

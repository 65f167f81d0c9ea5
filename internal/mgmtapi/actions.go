package mgmtapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// Actions: /actions/actions, versions, triggers and bindings, with Auth0's field names.
// Sesame compiles an action when it is written (code that does not compile is refused then,
// with its line and column), so every stored action and version is "built" at once; clients
// that poll for status "built" (Terraform, the Deploy CLI) go on at their first read.

// actionStatusBuilt is the build status of every action and version Sesame stores.
const actionStatusBuilt = "built"

type triggerRef struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
}

type secretView struct {
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updated_at"`
}

// actionVersionView is Auth0's action version object.
type actionVersionView struct {
	ID                string                   `json:"id"`
	ActionID          string                   `json:"action_id"`
	Code              string                   `json:"code"`
	Dependencies      []store.ActionDependency `json:"dependencies"`
	Deployed          bool                     `json:"deployed"`
	Runtime           string                   `json:"runtime"`
	Secrets           []secretView             `json:"secrets"`
	Status            string                   `json:"status"`
	Number            int                      `json:"number"`
	Errors            []any                    `json:"errors"`
	Action            *actionBaseView          `json:"action,omitempty"`
	BuiltAt           time.Time                `json:"built_at"`
	CreatedAt         time.Time                `json:"created_at"`
	UpdatedAt         time.Time                `json:"updated_at"`
	SupportedTriggers []triggerRef             `json:"supported_triggers"`
}

// actionBaseView is the action a version belongs to.
type actionBaseView struct {
	ID                 string       `json:"id"`
	Name               string       `json:"name"`
	SupportedTriggers  []triggerRef `json:"supported_triggers"`
	AllChangesDeployed bool         `json:"all_changes_deployed"`
	CreatedAt          time.Time    `json:"created_at"`
	UpdatedAt          time.Time    `json:"updated_at"`
}

// actionView is Auth0's action object: the draft, and the deployed version when there is one.
type actionView struct {
	actionBaseView
	Code            string                   `json:"code"`
	Dependencies    []store.ActionDependency `json:"dependencies"`
	Runtime         string                   `json:"runtime"`
	Secrets         []secretView             `json:"secrets"`
	DeployedVersion *actionVersionView       `json:"deployed_version,omitempty"`
	Status          string                   `json:"status"`
	BuiltAt         time.Time                `json:"built_at"`
}

func triggerRefs(ids []string) []triggerRef {
	out := make([]triggerRef, 0, len(ids))
	for _, id := range ids {
		t, _ := admin.Trigger(id)
		out = append(out, triggerRef{ID: id, Version: t.Version})
	}
	return out
}

func secretViews(a store.Action) []secretView {
	out := make([]secretView, 0, len(a.Secrets))
	for _, s := range a.Secrets {
		out = append(out, secretView{Name: s.Name, UpdatedAt: a.UpdatedAt})
	}
	return out
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func newActionBaseView(a store.Action, allDeployed bool) *actionBaseView {
	return &actionBaseView{ID: a.ID, Name: a.Name, SupportedTriggers: triggerRefs(a.SupportedTriggers),
		AllChangesDeployed: allDeployed, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func newActionVersionView(a store.Action, v store.ActionVersion, withAction bool) *actionVersionView {
	out := &actionVersionView{ID: v.ID, ActionID: v.ActionID, Code: v.Code, Dependencies: orEmpty(v.Dependencies),
		Deployed: a.Deployed && a.DeployedVersion == v.ID, Runtime: v.Runtime, Secrets: secretViews(a),
		Status: actionStatusBuilt, Number: v.Number, Errors: []any{}, BuiltAt: v.CreatedAt, CreatedAt: v.CreatedAt,
		UpdatedAt: v.CreatedAt, SupportedTriggers: triggerRefs(v.SupportedTriggers)}
	if withAction {
		out.Action = newActionBaseView(a, false)
	}
	return out
}

func newActionView(d admin.ActionDetails) actionView {
	v := actionView{actionBaseView: actionBaseView{ID: d.ID, Name: d.Name, SupportedTriggers: triggerRefs(d.SupportedTriggers),
		AllChangesDeployed: d.AllChangesDeployed, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}, Code: d.Code,
		Dependencies: orEmpty(d.Dependencies), Runtime: d.Runtime, Secrets: secretViews(d.Action),
		Status: actionStatusBuilt, BuiltAt: d.UpdatedAt}
	if d.Version != nil && d.Deployed {
		v.DeployedVersion = newActionVersionView(d.Action, *d.Version, false)
	}
	return v
}

// actionBody is the body of POST /actions/actions and PATCH /actions/actions/{id}.
type actionBody struct {
	Name              *string                   `json:"name"`
	Code              *string                   `json:"code"`
	Runtime           *string                   `json:"runtime"`
	Dependencies      *[]store.ActionDependency `json:"dependencies"`
	SupportedTriggers *[]triggerRef             `json:"supported_triggers"`
	Secrets           *[]struct {
		Name  string  `json:"name"`
		Value *string `json:"value"`
	} `json:"secrets"`
	// Deploy (create only) deploys the new action at once.
	Deploy bool `json:"deploy"`
}

func (b actionBody) change() admin.ActionChange {
	ch := admin.ActionChange{Name: b.Name, Code: b.Code, Runtime: b.Runtime, Dependencies: b.Dependencies}
	if b.SupportedTriggers != nil {
		ids := make([]string, 0, len(*b.SupportedTriggers))
		for _, t := range *b.SupportedTriggers {
			ids = append(ids, t.ID)
		}
		ch.SupportedTriggers = &ids
	}
	if b.Secrets != nil {
		secrets := make([]admin.SecretChange, 0, len(*b.Secrets))
		for _, s := range *b.Secrets {
			secrets = append(secrets, admin.SecretChange{Name: s.Name, Value: s.Value})
		}
		ch.Secrets = &secrets
	}
	return ch
}

// writeActionsPage renders one page of an actions list ({<key>, total, page, per_page}), the
// shape Auth0's actions endpoints answer with or without include_totals: the SDKs read the
// items under key (node-auth0 finds none in a bare array).
func writeActionsPage[T any](w http.ResponseWriter, key string, items []T, p Page, total int) {
	writeJSON(w, http.StatusOK, map[string]any{key: items, "total": total, "page": p.Page, "per_page": p.PerPage})
}

// listActions answers Auth0's actions list: {actions, total, page, per_page} whatever
// include_totals says (Auth0's shape for this endpoint), filtered by triggerId, actionName
// and deployed.
func (a *API) listActions(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	q := r.URL.Query()
	p, err := ParsePage(q)
	if err != nil {
		return err
	}
	f := admin.ActionFilter{TriggerID: q.Get("triggerId"), ActionName: q.Get("actionName")}
	if q.Has("deployed") {
		d, err := boolParam(q, "deployed")
		if err != nil {
			return err
		}
		f.Deployed = &d
	}
	all, err := a.cfg.Admin.ListActions(r.Context(), f)
	if err != nil {
		return err
	}
	items := make([]actionView, 0, p.PerPage)
	for _, d := range pageOf(all, p) {
		items = append(items, newActionView(d))
	}
	writeActionsPage(w, "actions", items, p, len(all))
	return nil
}

func (a *API) getAction(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	d, err := a.cfg.Admin.GetAction(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newActionView(d))
	return nil
}

func (a *API) createAction(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b actionBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	d, err := a.cfg.Admin.CreateAction(r.Context(), b.change(), b.Deploy)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newActionView(d))
	return nil
}

func (a *API) updateAction(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b actionBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	d, err := a.cfg.Admin.UpdateAction(r.Context(), r.PathValue("id"), b.change())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newActionView(d))
	return nil
}

func (a *API) deleteAction(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	force, err := boolParam(r.URL.Query(), "force")
	if err != nil {
		return err
	}
	return noContent(w, a.cfg.Admin.DeleteAction(r.Context(), r.PathValue("id"), force))
}

// deployAction deploys the draft; Auth0 answers 202 with the new version.
func (a *API) deployAction(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	act, v, err := a.cfg.Admin.DeployAction(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	act.Deployed, act.DeployedVersion = true, v.ID
	writeJSON(w, http.StatusAccepted, newActionVersionView(act, v, true))
	return nil
}

// testAction runs the action's draft against a sample post-login event, as Auth0's
// POST /actions/actions/{id}/test: body {"payload": <event>}, answer {"payload": <result>}.
// Auth0 leaves the result's shape open; Sesame's is admin.ActionTestResult (result "allowed"
// or the reason the login would fail, the claims set on each token, scopes, multifactor,
// the new metadata and the execution), the same the CLI's `sesame actions test` prints.
func (a *API) testAction(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if len(b.Payload) == 0 || b.Payload[0] != '{' {
		return badBody("'Expected type object' on property payload (the post-login event to test with).")
	}
	res, err := a.cfg.Admin.TestActionByID(r.Context(), r.PathValue("id"), b.Payload)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"payload": res})
	return nil
}

// listActionVersions answers {versions, total, page, per_page}, newest first.
func (a *API) listActionVersions(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	p, err := ParsePage(r.URL.Query())
	if err != nil {
		return err
	}
	act, all, err := a.cfg.Admin.ActionVersions(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]*actionVersionView, 0, p.PerPage)
	for _, v := range pageOf(all, p) {
		items = append(items, newActionVersionView(act, v, true))
	}
	writeActionsPage(w, "versions", items, p, len(all))
	return nil
}

// versionHandler serves an endpoint that answers one version of an action: reading one
// (200) or rolling back to one (Auth0 answers 202 with the new version it deploys).
func versionHandler(status int, op func(ctx context.Context, id, versionID string) (store.Action, store.ActionVersion, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *Caller) error {
		act, v, err := op(r.Context(), r.PathValue("id"), r.PathValue("versionId"))
		if err != nil {
			return err
		}
		writeJSON(w, status, newActionVersionView(act, v, true))
		return nil
	}
}

type triggerView struct {
	ID             string   `json:"id"`
	Version        string   `json:"version"`
	Status         string   `json:"status"`
	Runtimes       []string `json:"runtimes"`
	DefaultRuntime string   `json:"default_runtime"`
	BindingPolicy  string   `json:"binding_policy"`
}

// listTriggers lists the triggers Sesame runs actions for.
func (a *API) listTriggers(w http.ResponseWriter, _ *http.Request, _ *Caller) error {
	out := make([]triggerView, 0, len(admin.ActionTriggers))
	for _, t := range admin.ActionTriggers {
		out = append(out, triggerView{ID: t.ID, Version: t.Version, Status: "CURRENT", Runtimes: t.Runtimes,
			DefaultRuntime: t.DefaultRuntime, BindingPolicy: "trigger-bound"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"triggers": out})
	return nil
}

type bindingView struct {
	ID          string     `json:"id"`
	TriggerID   string     `json:"trigger_id"`
	DisplayName string     `json:"display_name"`
	Action      actionView `json:"action"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// bindingID names a binding: Sesame stores a flow as an ordered list of action names, so a
// binding is known by its trigger and action.
func bindingID(trigger, actionID string) string { return trigger + ":" + actionID }

func bindingViews(bs []admin.Binding) []bindingView {
	out := make([]bindingView, 0, len(bs))
	for _, b := range bs {
		out = append(out, bindingView{ID: bindingID(b.Trigger, b.Action.ID), TriggerID: b.Trigger, DisplayName: b.DisplayName,
			Action: newActionView(b.Action), CreatedAt: b.Action.CreatedAt, UpdatedAt: b.Action.UpdatedAt})
	}
	return out
}

// listBindings answers {bindings, total, page, per_page} in execution order.
func (a *API) listBindings(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	p, err := ParsePage(r.URL.Query())
	if err != nil {
		return err
	}
	bs, err := a.cfg.Admin.TriggerBindings(r.Context(), r.PathValue("triggerId"))
	if err != nil {
		return err
	}
	writeActionsPage(w, "bindings", bindingViews(pageOf(bs, p)), p, len(bs))
	return nil
}

// updateBindings replaces a trigger's flow: {"bindings":[{"ref":{"type","value"},"display_name"}]}.
func (a *API) updateBindings(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b struct {
		Bindings []struct {
			Ref struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"ref"`
			DisplayName string `json:"display_name"`
		} `json:"bindings"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	refs := make([]admin.BindingRef, 0, len(b.Bindings))
	for _, x := range b.Bindings {
		refs = append(refs, admin.BindingRef{Type: x.Ref.Type, Value: x.Ref.Value, DisplayName: x.DisplayName})
	}
	bs, err := a.cfg.Admin.UpdateTriggerBindings(r.Context(), r.PathValue("triggerId"), refs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"bindings": bindingViews(bs)})
	return nil
}

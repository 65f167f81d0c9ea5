package mgmtapi

import (
	"net/http"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// ruleView is Auth0's rule object.
type ruleView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Script  string `json:"script"`
	Order   int    `json:"order"`
	Enabled bool   `json:"enabled"`
	Stage   string `json:"stage"`
}

func newRuleView(r store.Rule) ruleView {
	return ruleView{ID: r.ID, Name: r.Name, Script: r.Script, Order: r.Order, Enabled: r.Enabled, Stage: admin.RuleStage}
}

// ruleBody is the body of POST /rules and PATCH /rules/{id}.
type ruleBody struct {
	Name    *string `json:"name"`
	Script  *string `json:"script"`
	Order   *int    `json:"order"`
	Enabled *bool   `json:"enabled"`
	Stage   *string `json:"stage"`
}

func (b ruleBody) change() admin.RuleChange {
	return admin.RuleChange{Name: b.Name, Script: b.Script, Order: b.Order, Enabled: b.Enabled, Stage: b.Stage}
}

// listRules answers the rules in execution order, offset-paged, filtered by enabled.
func (a *API) listRules(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	q := r.URL.Query()
	var f admin.RuleFilter
	if q.Has("enabled") {
		e, err := boolParam(q, "enabled")
		if err != nil {
			return err
		}
		f.Enabled = &e
	}
	rules, err := a.cfg.Admin.ListRules(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]ruleView, 0, len(rules))
	for _, x := range rules {
		views = append(views, newRuleView(x))
	}
	return writeList(w, r, "rules", views, nil)
}

func (a *API) getRule(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	x, err := a.cfg.Admin.GetRule(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newRuleView(x))
	return nil
}

func (a *API) createRule(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b ruleBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	x, err := a.cfg.Admin.CreateRule(r.Context(), b.change())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newRuleView(x))
	return nil
}

func (a *API) updateRule(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b ruleBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	x, err := a.cfg.Admin.UpdateRule(r.Context(), r.PathValue("id"), b.change())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newRuleView(x))
	return nil
}

// listRulesConfigs answers the keys only: values are write-only, as in Auth0.
func (a *API) listRulesConfigs(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	keys, err := a.cfg.Admin.RulesConfigKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]string{"key": k})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setRulesConfig sets configuration[key]; Auth0 answers with the key and the value sent.
func (a *API) setRulesConfig(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b struct {
		Value string `json:"value"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	key := r.PathValue("key")
	if err := a.cfg.Admin.SetRulesConfig(r.Context(), key, b.Value); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"key": key, "value": b.Value})
	return nil
}

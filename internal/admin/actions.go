package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
)

// The rules of an action, shared by the tenant file (Apply), the CLI and the Management API
// (/api/v2/actions/*). An action's own record is its draft; deploying snapshots the draft as a
// numbered version, and the deployed version is what runs (Auth0's model: editing an action
// changes nothing at login until it is deployed again).

// ActionRuntimes are the runtimes an action may name. Auth0 offers node22 and node18 today;
// the older names still appear in exports of older tenants. Sesame runs every action in the
// same JavaScript engine, so the runtime is informational.
var ActionRuntimes = []string{"node22", "node18", "node18-actions", "node16", "node12"}

// DefaultActionRuntime is the runtime of an action that names none.
const DefaultActionRuntime = "node18"

// ActionTrigger is a trigger Sesame runs actions for, as GET /actions/triggers lists it.
type ActionTrigger struct {
	ID             string
	Version        string
	Runtimes       []string
	DefaultRuntime string
}

// ActionTriggers are the triggers Sesame runs: post-login (v3, the current version of
// Auth0's post-login API) and credentials-exchange (v2).
var ActionTriggers = []ActionTrigger{
	{ID: store.TriggerPostLogin, Version: "v3", Runtimes: []string{"node18", "node22"}, DefaultRuntime: "node22"},
	{ID: store.TriggerCredentialsExchange, Version: "v2", Runtimes: []string{"node18", "node22"}, DefaultRuntime: "node22"},
}

// Trigger returns the trigger with this id; ok is false for a trigger Sesame does not run.
func Trigger(id string) (ActionTrigger, bool) {
	i := slices.IndexFunc(ActionTriggers, func(t ActionTrigger) bool { return t.ID == id })
	if i < 0 {
		return ActionTrigger{}, false
	}
	return ActionTriggers[i], true
}

// SecretChange sets one of an action's secrets. A nil Value keeps the stored value of that
// name (the Management API never returns values, so a client echoing a list back sends names
// only); a new name without a value gets an empty one, as in the tenant file.
type SecretChange struct {
	Name  string
	Value *string
}

// ActionChange is the body of POST and PATCH /actions/actions/{id} (Auth0's field names):
// nil fields are left as they are. Secrets, when given, is the whole new list.
type ActionChange struct {
	Name              *string
	Code              *string
	Runtime           *string
	Dependencies      *[]store.ActionDependency
	SupportedTriggers *[]string
	Secrets           *[]SecretChange
}

// ActionDetails is an action with its deployment state, what the Management API shows.
type ActionDetails struct {
	store.Action
	// Version is the deployed version (nil when the action was never deployed).
	Version *store.ActionVersion
	// AllChangesDeployed reports that the draft is what runs.
	AllChangesDeployed bool
}

// checkAction validates an action record: a name, a known runtime, named dependencies,
// unique secret names and code that compiles as an Action module. engine compiles (a
// throw-away one is fine: compiled programs are cached by the engine that runs them).
func checkAction(engine *hooks.Engine, a store.Action) error {
	var errs []error
	if strings.TrimSpace(a.Name) == "" {
		errs = append(errs, invalid("name", "is required"))
	} else if len(a.Name) > 255 {
		errs = append(errs, invalid("name", "is longer than 255 characters"))
	}
	if !slices.Contains(ActionRuntimes, a.Runtime) {
		errs = append(errs, invalid("runtime", "%q is not one of %s", a.Runtime, strings.Join(ActionRuntimes, ", ")))
	}
	for i, d := range a.Dependencies {
		if d.Name == "" || d.Version == "" {
			errs = append(errs, invalid(fmt.Sprintf("dependencies[%d]", i), "needs a name and a version"))
		}
	}
	for i, sec := range a.Secrets {
		switch {
		case sec.Name == "":
			errs = append(errs, invalid(fmt.Sprintf("secrets[%d].name", i), "is required"))
		case slices.IndexFunc(a.Secrets, func(o store.ActionSecret) bool { return o.Name == sec.Name }) != i:
			errs = append(errs, invalid(fmt.Sprintf("secrets[%d].name", i), "%q is listed twice", sec.Name))
		}
	}
	if a.Name != "" {
		if err := engine.CompileAction(a.Name, a.Code); err != nil {
			errs = append(errs, compileInvalid("code", err))
		}
	}
	return errors.Join(errs...)
}

// compileInvalid reports code that does not compile at its line and column.
func compileInvalid(field string, err error) error {
	var ce *hooks.CompileError
	if errors.As(err, &ce) {
		return invalid(field, "does not compile: line %d, column %d: %s", ce.Line, ce.Column, ce.Message)
	}
	return invalid(field, "does not compile: %v", err)
}

// sealSecrets turns the wanted secrets into sealed ones bound to the action's name. same
// reports that they equal the stored ones (sealing is randomised, so an unchanged list is
// kept as stored rather than sealed again).
func (s *Service) sealSecrets(action string, stored []store.ActionSecret, want []SecretChange) (out []store.ActionSecret, same bool, err error) {
	same = len(stored) == len(want)
	for i, sec := range want {
		aad := store.ActionSecretAAD(action, sec.Name)
		j := slices.IndexFunc(stored, func(o store.ActionSecret) bool { return o.Name == sec.Name })
		if sec.Value == nil && j >= 0 {
			out = append(out, stored[j])
			same = same && j == i
			continue
		}
		if s.Box == nil {
			return nil, false, invalid(fmt.Sprintf("secrets[%d]", i), "no key-encryption key is configured to seal the secret with")
		}
		v := ""
		if sec.Value != nil {
			v = *sec.Value
		}
		if same && j == i {
			old, err := s.Box.Open(stored[j].ValueSealed, aad)
			if err == nil && string(old) == v {
				out = append(out, stored[j])
				continue
			}
		}
		same = false
		out = append(out, store.ActionSecret{Name: sec.Name, ValueSealed: s.Box.Seal([]byte(v), aad)})
	}
	if same {
		return stored, true, nil
	}
	return out, false, nil
}

// draftDeployed reports whether the action's draft is what its deployed version holds.
func draftDeployed(a store.Action, v *store.ActionVersion) bool {
	return a.Deployed && v != nil && v.Code == a.Code && v.Runtime == a.Runtime &&
		applySame(v.Dependencies, a.Dependencies) && slices.Equal(v.SupportedTriggers, a.SupportedTriggers)
}

// actionDetails adds the deployed version to a stored action.
func (s *Service) actionDetails(ctx context.Context, a store.Action) (ActionDetails, error) {
	d := ActionDetails{Action: a}
	if a.DeployedVersion != "" {
		v, err := s.Store.GetActionVersion(ctx, a.ID, a.DeployedVersion)
		if err != nil {
			return d, fmt.Errorf("reading the deployed version of action %s: %w", a.Name, err)
		}
		d.Version = &v
	}
	d.AllChangesDeployed = draftDeployed(a, d.Version)
	return d, nil
}

// DeployDraft deploys the action's draft: it becomes a new numbered version, which runs from
// the next login on (every node within about a second). The tenant file, the CLI and the
// Management API's deploy all end here.
func (s *Service) DeployDraft(ctx context.Context, name string) (store.ActionVersion, error) {
	a, err := s.Store.GetAction(ctx, name)
	if err != nil {
		return store.ActionVersion{}, storeErr(err, "action", name)
	}
	v, err := s.Store.DeployActionVersion(ctx, name, store.ActionVersion{ID: newActionVersionID(),
		Code: a.Code, Runtime: a.Runtime, Dependencies: a.Dependencies, SupportedTriggers: a.SupportedTriggers,
		CreatedAt: s.now()})
	return v, storeErr(err, "action", name)
}

func newActionVersionID() string { return store.NewID("ver_", 8) }

// ActionFilter narrows ListActions (Auth0's query parameters triggerId, actionName, deployed).
type ActionFilter struct {
	TriggerID  string
	ActionName string
	// Deployed, when set, keeps only deployed (true) or never deployed (false) actions.
	Deployed *bool
}

// ListActions returns the actions matching f, ordered by name.
func (s *Service) ListActions(ctx context.Context, f ActionFilter) ([]ActionDetails, error) {
	acts, err := s.Store.ListActions(ctx)
	if err != nil {
		return nil, err
	}
	out := []ActionDetails{}
	for _, a := range acts {
		if (f.ActionName != "" && a.Name != f.ActionName) ||
			(f.TriggerID != "" && !slices.Contains(a.SupportedTriggers, f.TriggerID)) ||
			(f.Deployed != nil && a.Deployed != *f.Deployed) {
			continue
		}
		d, err := s.actionDetails(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// actionByID finds a stored action by its ID (actions are few; the store keys them by name).
func (s *Service) actionByID(ctx context.Context, id string) (store.Action, error) {
	acts, err := s.Store.ListActions(ctx)
	if err != nil {
		return store.Action{}, err
	}
	return findBy(acts, "action", id, func(a store.Action) bool { return a.ID == id })
}

// GetAction returns the action with this ID.
func (s *Service) GetAction(ctx context.Context, id string) (ActionDetails, error) {
	a, err := s.actionByID(ctx, id)
	if err != nil {
		return ActionDetails{}, err
	}
	return s.actionDetails(ctx, a)
}

// applyActionChange applies ch to a (a copy of the stored action or a new one).
func (s *Service) applyActionChange(a *store.Action, ch ActionChange) error {
	setIf(&a.Name, ch.Name)
	setIf(&a.Code, ch.Code)
	setIf(&a.Runtime, ch.Runtime)
	if ch.Dependencies != nil {
		a.Dependencies = slices.Clone(*ch.Dependencies)
	}
	if ch.SupportedTriggers != nil {
		a.SupportedTriggers = slices.Clone(*ch.SupportedTriggers)
	}
	if ch.Secrets != nil {
		sealed, _, err := s.sealSecrets(a.Name, a.Secrets, *ch.Secrets)
		if err != nil {
			return err
		}
		a.Secrets = sealed
	}
	return nil
}

// CreateAction stores a new action as a draft (Auth0: POST /actions/actions, name and
// supported_triggers required). With deploy it is deployed at once. A taken name is a
// ConflictError; code that does not compile is a ValidationError naming line and column.
func (s *Service) CreateAction(ctx context.Context, ch ActionChange, deploy bool) (ActionDetails, error) {
	now := s.now()
	a := store.Action{ID: store.NewID("act_", 8), Runtime: DefaultActionRuntime, CreatedAt: now, UpdatedAt: now}
	var errs []error
	if ch.SupportedTriggers == nil || len(*ch.SupportedTriggers) == 0 {
		errs = append(errs, invalid("supported_triggers", "is required"))
	}
	if ch.Name == nil {
		errs = append(errs, invalid("name", "is required"))
	}
	if err := s.applyActionChange(&a, ch); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		errs = append(errs, checkAction(hooks.NewEngine(hooks.Options{}), a))
	}
	if err := errors.Join(errs...); err != nil {
		return ActionDetails{}, err
	}
	if err := s.Store.CreateAction(ctx, a); errors.Is(err, store.ErrConflict) {
		return ActionDetails{}, &ConflictError{Kind: "action", ID: a.Name, Message: fmt.Sprintf("an action named %q already exists", a.Name)}
	} else if err != nil {
		return ActionDetails{}, err
	}
	if deploy {
		if _, err := s.DeployDraft(ctx, a.Name); err != nil {
			return ActionDetails{}, err
		}
	}
	return s.GetAction(ctx, a.ID)
}

// UpdateAction changes the action's draft (Auth0: PATCH /actions/actions/{id}); what runs
// changes only at the next deployment. An action keeps its name: its secrets are sealed to it
// and the trigger bindings name it.
func (s *Service) UpdateAction(ctx context.Context, id string, ch ActionChange) (ActionDetails, error) {
	a, err := s.actionByID(ctx, id)
	if err != nil {
		return ActionDetails{}, err
	}
	if ch.Name != nil && *ch.Name != a.Name {
		return ActionDetails{}, invalid("name", "an action cannot be renamed (its secrets and bindings name it): create a new one")
	}
	if err := s.applyActionChange(&a, ch); err != nil {
		return ActionDetails{}, err
	}
	if err := checkAction(hooks.NewEngine(hooks.Options{}), a); err != nil {
		return ActionDetails{}, err
	}
	a.UpdatedAt = s.now()
	if err := s.Store.PutAction(ctx, a); err != nil {
		return ActionDetails{}, storeErr(err, "action", a.Name)
	}
	return s.GetAction(ctx, id)
}

// DeleteAction deletes the action, its versions and its bindings. An action bound to a
// trigger is deleted only with force (Auth0's ?force=true); otherwise it is a ConflictError.
func (s *Service) DeleteAction(ctx context.Context, id string, force bool) error {
	a, err := s.actionByID(ctx, id)
	if err != nil {
		return err
	}
	if !force {
		for _, t := range ActionTriggers {
			bs, err := s.Store.TriggerBindings(ctx, t.ID)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(bs, func(b store.TriggerBinding) bool { return b.ActionName == a.Name }) {
				return &ConflictError{Kind: "action", ID: id,
					Message: fmt.Sprintf("the action is bound to the %s trigger: unbind it first, or delete with force=true", t.ID)}
			}
		}
	}
	return storeErr(s.Store.DeleteAction(ctx, a.Name), "action", id)
}

// DeployAction deploys the action's draft as a new version (Auth0: POST
// /actions/actions/{id}/deploy) and returns that version.
func (s *Service) DeployAction(ctx context.Context, id string) (store.Action, store.ActionVersion, error) {
	a, err := s.actionByID(ctx, id)
	if err != nil {
		return store.Action{}, store.ActionVersion{}, err
	}
	v, err := s.DeployDraft(ctx, a.Name)
	return a, v, err
}

// ActionVersions returns the action and its versions, newest first.
func (s *Service) ActionVersions(ctx context.Context, id string) (store.Action, []store.ActionVersion, error) {
	a, err := s.actionByID(ctx, id)
	if err != nil {
		return a, nil, err
	}
	vs, err := s.Store.ListActionVersions(ctx, id)
	if vs == nil {
		vs = []store.ActionVersion{}
	}
	return a, vs, err
}

// ActionVersion returns the action and one of its versions.
func (s *Service) ActionVersion(ctx context.Context, id, versionID string) (store.Action, store.ActionVersion, error) {
	a, err := s.actionByID(ctx, id)
	if err != nil {
		return a, store.ActionVersion{}, err
	}
	v, err := s.Store.GetActionVersion(ctx, id, versionID)
	return a, v, storeErr(err, "action version", versionID)
}

// RollbackAction deploys an earlier version again (Auth0: POST
// /actions/actions/{id}/versions/{versionId}/deploy): a new version identical to it is made
// and deployed; the draft is left as it is.
func (s *Service) RollbackAction(ctx context.Context, id, versionID string) (store.Action, store.ActionVersion, error) {
	a, old, err := s.ActionVersion(ctx, id, versionID)
	if err != nil {
		return a, old, err
	}
	old.ID, old.CreatedAt = newActionVersionID(), s.now()
	v, err := s.Store.DeployActionVersion(ctx, a.Name, old)
	if err != nil {
		return a, v, storeErr(err, "action", id)
	}
	a, err = s.actionByID(ctx, id)
	return a, v, err
}

// Binding is one action in a trigger's flow, as the Management API shows it.
type Binding struct {
	Trigger     string
	DisplayName string
	Action      ActionDetails
}

// BindingRef names the action of a binding in PATCH /actions/triggers/{id}/bindings:
// Type is action_name or action_id.
type BindingRef struct {
	Type        string
	Value       string
	DisplayName string
}

// bindingProblem says why an action that supports the given triggers cannot be bound to
// trigger ("" when it can). An action that declares no trigger may be bound anywhere (older
// tenant files leave supported_triggers out).
func bindingProblem(trigger string, supported []string) string {
	if len(supported) == 0 || slices.Contains(supported, trigger) {
		return ""
	}
	return fmt.Sprintf("the action supports %s, not %s", strings.Join(supported, ", "), trigger)
}

// TriggerBindings returns the trigger's flow in execution order; an unknown trigger is a
// NotFoundError.
func (s *Service) TriggerBindings(ctx context.Context, trigger string) ([]Binding, error) {
	if _, ok := Trigger(trigger); !ok {
		return nil, &NotFoundError{Kind: "trigger", ID: trigger}
	}
	bs, err := s.Store.TriggerBindings(ctx, trigger)
	if err != nil {
		return nil, err
	}
	out := []Binding{}
	for _, b := range bs {
		a, err := s.Store.GetAction(ctx, b.ActionName)
		if err != nil {
			return nil, err
		}
		d, err := s.actionDetails(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, Binding{Trigger: trigger, DisplayName: b.DisplayName, Action: d})
	}
	return out, nil
}

// UpdateTriggerBindings replaces the trigger's flow (Auth0: PATCH
// /actions/triggers/{triggerId}/bindings). Each ref must name a stored action that supports
// the trigger; the display name defaults to the action's name.
func (s *Service) UpdateTriggerBindings(ctx context.Context, trigger string, refs []BindingRef) ([]Binding, error) {
	if _, ok := Trigger(trigger); !ok {
		return nil, &NotFoundError{Kind: "trigger", ID: trigger}
	}
	acts, err := s.Store.ListActions(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	want := []store.TriggerBinding{}
	for i, r := range refs {
		path := fmt.Sprintf("bindings[%d].ref", i)
		var match func(store.Action) bool
		switch r.Type {
		case "action_name":
			match = func(a store.Action) bool { return a.Name == r.Value }
		case "action_id":
			match = func(a store.Action) bool { return a.ID == r.Value }
		default:
			errs = append(errs, invalid(path+".type", "%q is not action_name or action_id", r.Type))
			continue
		}
		j := slices.IndexFunc(acts, match)
		if j < 0 {
			errs = append(errs, invalid(path+".value", "no action has %s %q", strings.TrimPrefix(r.Type, "action_"), r.Value))
			continue
		}
		if msg := bindingProblem(trigger, acts[j].SupportedTriggers); msg != "" {
			errs = append(errs, invalid(path, "%s", msg))
			continue
		}
		want = append(want, store.TriggerBinding{ActionName: acts[j].Name, DisplayName: cmpOr(r.DisplayName, acts[j].Name)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := s.Store.SetTriggerBindings(ctx, trigger, want); err != nil {
		return nil, storeErr(err, "action", trigger)
	}
	return s.TriggerBindings(ctx, trigger)
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
)

// RuleStage is the only stage Auth0 runs Rules in (and the one Sesame runs them in: before
// tokens are issued to a logged-in user).
const RuleStage = "login_success"

// ruleName is Auth0's pattern for a rule name: letters, digits, spaces and hyphens, starting
// and ending with a letter or digit.
var ruleName = regexp.MustCompile(`^[A-Za-z0-9](?:[ A-Za-z0-9-]*[A-Za-z0-9])?$`)

// RuleChange is the body of POST /rules and PATCH /rules/{id} (Auth0's field names): nil
// fields are left as they are.
type RuleChange struct {
	Name    *string
	Script  *string
	Order   *int
	Enabled *bool
	// Stage must be login_success when given.
	Stage *string
}

// checkRule validates a rule record: Auth0's name pattern and a script that compiles as a
// Rule. The tenant file, the CLI and the Management API all check rules here.
func checkRule(engine *hooks.Engine, r store.Rule) error {
	var errs []error
	switch {
	case r.Name == "":
		errs = append(errs, invalid("name", "is required"))
	case len(r.Name) > 255 || !ruleName.MatchString(r.Name):
		errs = append(errs, invalid("name", "%q must be letters, digits, spaces and hyphens, starting and ending with a letter or digit", r.Name))
	default:
		if err := engine.CompileRule(r.Name, r.Script); err != nil {
			errs = append(errs, compileInvalid("script", err))
		}
	}
	if r.Order < 0 {
		errs = append(errs, invalid("order", "must not be negative"))
	}
	return errors.Join(errs...)
}

// RuleFilter narrows ListRules (Auth0's query parameter enabled).
type RuleFilter struct {
	Enabled *bool
}

// ListRules returns the rules in execution order (order, then name).
func (s *Service) ListRules(ctx context.Context, f RuleFilter) ([]store.Rule, error) {
	rules, err := s.Store.ListRules(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.Rule{}
	for _, r := range rules {
		if f.Enabled == nil || r.Enabled == *f.Enabled {
			out = append(out, r)
		}
	}
	return out, nil
}

// GetRule returns the rule with this ID.
func (s *Service) GetRule(ctx context.Context, id string) (store.Rule, error) {
	rules, err := s.Store.ListRules(ctx)
	if err != nil {
		return store.Rule{}, err
	}
	return findBy(rules, "rule", id, func(r store.Rule) bool { return r.ID == id })
}

func applyRuleChange(r *store.Rule, ch RuleChange) error {
	if ch.Stage != nil && *ch.Stage != RuleStage {
		return invalid("stage", "%q is not %s, the only stage rules run in", *ch.Stage, RuleStage)
	}
	setIf(&r.Name, ch.Name)
	setIf(&r.Script, ch.Script)
	setIf(&r.Order, ch.Order)
	setIf(&r.Enabled, ch.Enabled)
	return nil
}

// CreateRule stores a new rule (Auth0: POST /rules; name and script required). It is enabled
// unless told otherwise and, without an order, runs after every stored rule.
func (s *Service) CreateRule(ctx context.Context, ch RuleChange) (store.Rule, error) {
	rules, err := s.Store.ListRules(ctx)
	if err != nil {
		return store.Rule{}, err
	}
	now := s.now()
	r := store.Rule{ID: store.NewID("rul_", 8), Enabled: true, Order: 1, CreatedAt: now, UpdatedAt: now}
	for _, o := range rules {
		r.Order = max(r.Order, o.Order+1)
	}
	if ch.Script == nil {
		return store.Rule{}, invalid("script", "is required")
	}
	if err := applyRuleChange(&r, ch); err != nil {
		return store.Rule{}, err
	}
	if err := checkRule(hooks.NewEngine(hooks.Options{}), r); err != nil {
		return store.Rule{}, err
	}
	if err := s.Store.CreateRule(ctx, r); errors.Is(err, store.ErrConflict) {
		return store.Rule{}, ruleConflict(r.Name)
	} else if err != nil {
		return store.Rule{}, err
	}
	return s.GetRule(ctx, r.ID)
}

func ruleConflict(name string) error {
	return &ConflictError{Kind: "rule", ID: name, Message: fmt.Sprintf("a rule named %q already exists", name)}
}

// UpdateRule changes a rule (Auth0: PATCH /rules/{id}), renaming it if the name changes.
func (s *Service) UpdateRule(ctx context.Context, id string, ch RuleChange) (store.Rule, error) {
	engine := hooks.NewEngine(hooks.Options{})
	var out store.Rule
	err := s.Store.UpdateRule(ctx, id, func(r *store.Rule) error {
		if err := applyRuleChange(r, ch); err != nil {
			return err
		}
		r.UpdatedAt = s.now()
		out = *r
		return checkRule(engine, *r)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Rule{}, &NotFoundError{Kind: "rule", ID: id}
	case errors.Is(err, store.ErrConflict):
		return store.Rule{}, ruleConflict(out.Name)
	case err != nil:
		return store.Rule{}, err
	}
	return out, nil
}

// DeleteRule deletes the rule with this ID.
func (s *Service) DeleteRule(ctx context.Context, id string) error {
	r, err := s.GetRule(ctx, id)
	if err != nil {
		return err
	}
	return storeErr(s.Store.DeleteRule(ctx, r.Name), "rule", id)
}

// rulesConfigKey is Auth0's pattern for a rules configuration key.
var rulesConfigKey = regexp.MustCompile(`^[A-Za-z0-9_\-@*+:]{1,127}$`)

// RulesConfigKeys lists the keys of the rules configuration values; values are never
// returned (Auth0: GET /rules-configs).
func (s *Service) RulesConfigKeys(ctx context.Context) ([]string, error) {
	cs, err := s.Store.ListRulesConfigs(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		keys = append(keys, c.Key)
	}
	return keys, nil
}

// SetRulesConfig sets a rules configuration value, which every Rule reads as
// configuration[key] (Auth0: PUT /rules-configs/{key}). The value is sealed with the
// key-encryption key.
func (s *Service) SetRulesConfig(ctx context.Context, key, value string) error {
	if !rulesConfigKey.MatchString(key) {
		return invalid("key", "%q must be 1 to 127 letters, digits or _-@*+:", key)
	}
	if value == "" {
		return invalid("value", "is required")
	}
	if s.Box == nil {
		return invalid("value", "no key-encryption key is configured to seal the value with")
	}
	now := s.now()
	return s.Store.PutRulesConfig(ctx, store.RulesConfig{Key: key, ValueSealed: s.Box.Seal([]byte(value), store.RulesConfigAAD(key)),
		CreatedAt: now, UpdatedAt: now})
}

// DeleteRulesConfig deletes a rules configuration value (Auth0: DELETE /rules-configs/{key}).
func (s *Service) DeleteRulesConfig(ctx context.Context, key string) error {
	return storeErr(s.Store.DeleteRulesConfig(ctx, key), "rules config", key)
}

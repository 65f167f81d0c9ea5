package store

import (
	"context"
	"time"
)

// The Actions triggers Sesame runs: post-login after a user logged in, before tokens are
// issued; credentials-exchange (Auth0's machine-to-machine flow) before a client-credentials
// access token is issued.
const (
	TriggerPostLogin           = "post-login"
	TriggerCredentialsExchange = "credentials-exchange"
)

// Action is an Auth0 Action: a JavaScript module exporting onExecutePostLogin or
// onExecuteCredentialsExchange. Its secrets are stored sealed with the key-encryption key;
// see ActionSecretAAD.
type Action struct {
	ID   string
	Name string
	// Code is the module's JavaScript source.
	Code string
	// Runtime names the Node.js runtime the action was written for (node18); informational.
	Runtime string
	// Dependencies are the npm packages the action declares. Sesame cannot install them: an
	// action that requires one fails at run time with a clear error.
	Dependencies []ActionDependency
	// SupportedTriggers are the trigger ids the action was written for (post-login).
	SupportedTriggers []string
	Secrets           []ActionSecret
	// Deployed actions are the ones that run; a draft is stored but never executed.
	Deployed  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ActionDependency is one npm package an action declares.
type ActionDependency struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ActionSecret is one of an action's secrets (event.secrets.NAME). The value is sealed with
// ActionSecretAAD(action name, secret name); it is never stored in clear.
type ActionSecret struct {
	Name        string `json:"name"`
	ValueSealed []byte `json:"value_sealed"`
}

// TriggerBinding places an action in a trigger's flow; a flow runs its bindings in order.
type TriggerBinding struct {
	ActionName  string
	DisplayName string
}

// Rule is a legacy Auth0 Rule: function (user, context, callback). Enabled rules run before
// Actions, ordered by Order then Name.
type Rule struct {
	ID        string
	Name      string
	Script    string
	Order     int
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Hooks stores Actions, Rules and the trigger bindings that order actions. Every write bumps
// a version number so that nodes can cache the whole set and re-read it only when it changed.
type Hooks interface {
	// ListActions returns every action ordered by name.
	ListActions(ctx context.Context) ([]Action, error)
	GetAction(ctx context.Context, name string) (Action, error)
	// PutAction creates the action, or replaces the one with the same name (keeping its ID and
	// CreatedAt).
	PutAction(ctx context.Context, a Action) error
	// DeleteAction deletes the action and removes it from every trigger.
	DeleteAction(ctx context.Context, name string) error
	// TriggerBindings returns the trigger's bindings in execution order.
	TriggerBindings(ctx context.Context, trigger string) ([]TriggerBinding, error)
	// SetTriggerBindings replaces the trigger's bindings; each must name a stored action
	// (ErrNotFound otherwise).
	SetTriggerBindings(ctx context.Context, trigger string, b []TriggerBinding) error
	// ListRules returns every rule ordered by Order, then name.
	ListRules(ctx context.Context) ([]Rule, error)
	// PutRule creates the rule, or replaces the one with the same name (keeping ID and
	// CreatedAt).
	PutRule(ctx context.Context, r Rule) error
	DeleteRule(ctx context.Context, name string) error
	// HooksVersion returns a number that changes whenever an action, rule or binding is
	// written or deleted (0 when none ever was).
	HooksVersion(ctx context.Context) (int64, error)
}

// ActionSecretAAD is the additional data that binds a sealed action secret to its action and
// name, so that a sealed value cannot be moved to another action or secret.
func ActionSecretAAD(action, secret string) []byte {
	return []byte("action-secret:" + action + "\x00" + secret)
}

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
	Deployed bool
	// DeployedVersion is the ID of the ActionVersion that runs (what the last deployment
	// snapshotted): Code and the rest above are the draft, which an update changes without
	// changing what runs until the next deployment, as in Auth0. Only DeployActionVersion
	// sets it; PutAction keeps the stored one.
	DeployedVersion string
	CreatedAt       time.Time
	UpdatedAt       time.Time
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

// ActionVersion is an immutable snapshot of an action's code taken when it was deployed
// (Auth0's action versions, numbered from 1 per action).
type ActionVersion struct {
	ID       string
	ActionID string
	Number   int
	Code     string
	Runtime  string
	// Dependencies and SupportedTriggers are as they were in the draft deployed.
	Dependencies      []ActionDependency
	SupportedTriggers []string
	CreatedAt         time.Time
}

// RulesConfig is one of the tenant's rules configuration values (Auth0's rules-configs), the
// `configuration` object every Rule reads. The value is sealed with RulesConfigAAD(key).
type RulesConfig struct {
	Key         string
	ValueSealed []byte
	CreatedAt   time.Time
	UpdatedAt   time.Time
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
	// CreateAction stores a new action; ErrConflict when its name or ID is taken.
	CreateAction(ctx context.Context, a Action) error
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
	// CreateRule stores a new rule; ErrConflict when its name or ID is taken.
	CreateRule(ctx context.Context, r Rule) error
	// UpdateRule runs fn on the rule with this ID inside a transaction and stores the result,
	// which may rename it (ErrConflict when the new name is taken).
	UpdateRule(ctx context.Context, id string, fn func(*Rule) error) error
	DeleteRule(ctx context.Context, name string) error
	// DeployActionVersion stores v as the action's next version (Number is assigned: one more
	// than the action's highest, from 1) and makes it the action's DeployedVersion, with
	// Deployed set, in one transaction. It returns the stored version; ErrNotFound when no
	// action has the name.
	DeployActionVersion(ctx context.Context, actionName string, v ActionVersion) (ActionVersion, error)
	// ListActionVersions returns the versions of the action with this ID, newest first.
	ListActionVersions(ctx context.Context, actionID string) ([]ActionVersion, error)
	// GetActionVersion returns one version of the action with this ID.
	GetActionVersion(ctx context.Context, actionID, versionID string) (ActionVersion, error)
	// ListRulesConfigs returns every rules configuration value ordered by key.
	ListRulesConfigs(ctx context.Context) ([]RulesConfig, error)
	// PutRulesConfig creates or replaces the value of c.Key (keeping CreatedAt).
	PutRulesConfig(ctx context.Context, c RulesConfig) error
	// DeleteRulesConfig deletes the value of key; ErrNotFound when there is none.
	DeleteRulesConfig(ctx context.Context, key string) error
	// HooksVersion returns a number that changes whenever an action, version, rule, rules
	// configuration value or binding is written or deleted (0 when none ever was).
	HooksVersion(ctx context.Context) (int64, error)
}

// ActionSecretAAD is the additional data that binds a sealed action secret to its action and
// name, so that a sealed value cannot be moved to another action or secret.
func ActionSecretAAD(action, secret string) []byte {
	return []byte("action-secret:" + action + "\x00" + secret)
}

// RulesConfigAAD binds a sealed rules configuration value to its key.
func RulesConfigAAD(key string) []byte { return []byte("rules-config:" + key) }

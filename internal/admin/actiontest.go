package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
)

// ActionTestResult is what one run of an action against a sample event asked of the login:
// the token changes, the new metadata, and whether it let the login through. The CLI's
// `actions test` prints it and the Management API's test endpoint answers it as its payload.
type ActionTestResult struct {
	Result            string            `json:"result"`
	AccessTokenClaims map[string]any    `json:"access_token_claims"`
	IDTokenClaims     map[string]any    `json:"id_token_claims"`
	Scopes            []string          `json:"scopes,omitempty"`
	MFA               bool              `json:"multifactor"`
	AppMetadata       map[string]any    `json:"app_metadata,omitempty"`
	UserMetadata      map[string]any    `json:"user_metadata,omitempty"`
	Executions        []hooks.Execution `json:"executions"`
}

// TestActionByID runs the draft code of the action with this ID against a sample post-login
// event in Auth0's JSON shape (event), as Auth0's Test button does. Nothing is stored: the
// result says what a login would have got.
func (s *Service) TestActionByID(ctx context.Context, id string, event []byte) (ActionTestResult, error) {
	a, err := s.actionByID(ctx, id)
	if err != nil {
		return ActionTestResult{}, err
	}
	return s.TestAction(ctx, a, event)
}

// TestAction runs a's code against the sample event with the engine logins use
// (Service.Actions), the action's secrets opened, and any secrets in the sample overriding
// them. The action's own failure (a deny, a thrown error, a timeout) is the Result, not an
// error: only a bad event or an unreadable secret is.
func (s *Service) TestAction(ctx context.Context, a store.Action, event []byte) (ActionTestResult, error) {
	if len(event) == 0 {
		event = []byte("{}")
	}
	ev, sampleSecrets, err := hooks.ParseEvent(event)
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return ActionTestResult{}, invalid("payload."+te.Field, "expected %s, found %s", te.Type.Kind(), te.Value)
		}
		return ActionTestResult{}, invalid("payload", "is not a post-login event: %s", strings.TrimPrefix(err.Error(), "hooks: "))
	}
	ha := hooks.Action{Name: a.Name, Code: a.Code, Secrets: map[string]string{}}
	for _, sec := range a.Secrets {
		if s.Box == nil {
			break
		}
		v, err := s.Box.Open(sec.ValueSealed, store.ActionSecretAAD(a.Name, sec.Name))
		if err != nil {
			return ActionTestResult{}, fmt.Errorf("opening secret %s of action %s: %w", sec.Name, a.Name, err)
		}
		ha.Secrets[sec.Name] = string(v)
	}
	for k, v := range sampleSecrets {
		ha.Secrets[k] = v
	}
	engine := s.Actions
	if engine == nil {
		engine = hooks.NewEngine(hooks.Options{})
	}
	flow, err := engine.Flow(nil, []hooks.Action{ha})
	if err != nil {
		return ActionTestResult{}, compileInvalid("code", err)
	}
	out, runErr := flow.PostLogin(ctx, ev)
	res := ActionTestResult{AccessTokenClaims: orEmptyMap(out.AccessClaims), IDTokenClaims: orEmptyMap(out.IDClaims),
		MFA: out.MFA, AppMetadata: out.AppMetadata, UserMetadata: out.UserMetadata, Result: "allowed",
		Executions: out.Executions}
	if res.Executions == nil {
		res.Executions = []hooks.Execution{}
	}
	if out.ScopesChanged {
		res.Scopes = out.Scopes
	}
	if runErr != nil {
		res.Result = runErr.Error()
	}
	return res, nil
}

func orEmptyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

package hooks

import (
	"context"
	"slices"

	"github.com/dop251/goja"
)

// CredentialsEvent is what a client-credentials exchange gives Actions (Auth0's
// credentials-exchange event object: accessToken, client, request, resource_server, tenant,
// transaction, secrets). There is no user.
type CredentialsEvent struct {
	Client Client
	// ResourceServer is the audience's identifier.
	ResourceServer string
	// RequestedScopes is the scope parameter as sent (event.transaction.requested_scopes).
	RequestedScopes []string
	// Scopes are the scopes the token will carry (event.accessToken.scope).
	Scopes   []string
	Request  Request
	TenantID string
}

// CredentialsExchange runs the flow's Actions for a client-credentials exchange, in order;
// Rules never run there (Auth0 runs them for user logins only). It stops at the first Action
// that denies or fails. Only Outcome.AccessClaims and Executions are meaningful.
func (f *Flow) CredentialsExchange(ctx context.Context, ev CredentialsEvent) (Outcome, error) {
	st := &state{cc: &ev, access: map[string]any{}, id: map[string]any{}, scopes: slices.Clone(ev.Scopes)}
	if f == nil {
		return st.outcome(), nil
	}
	for _, a := range f.actions {
		if err := f.run(ctx, st, a.Name, "action", func(rt *jsRuntime) error { return rt.runAction(st, a.Action, a.prog) }); err != nil {
			return st.outcome(), err
		}
	}
	return st.outcome(), nil
}

// credentialsObject is the credentials-exchange event as Auth0 shapes it, JSON-ready.
func (s *state) credentialsObject(secrets map[string]string) map[string]any {
	ev := s.cc
	return map[string]any{
		"accessToken": map[string]any{"customClaims": s.access, "scope": nonNilL(ev.Scopes)},
		"client":      map[string]any{"client_id": ev.Client.ClientID, "name": ev.Client.Name, "metadata": nonNilS(ev.Client.Metadata)},
		"request": map[string]any{"ip": ev.Request.IP, "hostname": ev.Request.Hostname, "method": ev.Request.Method,
			"user_agent": ev.Request.UserAgent, "body": nonNilS(ev.Request.Body), "geoip": map[string]any{}},
		"resource_server": map[string]any{"identifier": ev.ResourceServer},
		"tenant":          map[string]any{"id": ev.TenantID},
		"transaction":     map[string]any{"requested_scopes": nonNilL(ev.RequestedScopes)},
		"secrets":         nonNilS(secrets),
	}
}

// credentialsAPI is the api object of the credentials-exchange trigger: api.access.deny(code,
// reason) and api.accessToken.setCustomClaim(name, value). Like actionAPI, it is not frozen:
// it ends with the execution's runtime.
func (rt *jsRuntime) credentialsAPI() *goja.Object {
	api := rt.vm.NewObject()
	_ = api.Set("access", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"deny": func(c goja.FunctionCall) goja.Value {
			// Auth0's signature is deny(code, reason); a post-login habit of deny(reason)
			// still denies, as invalid_request.
			d := &DeniedError{Code: "invalid_request", Reason: c.Argument(0).String()}
			if len(c.Arguments) > 1 {
				d.Code, d.Reason = c.Argument(0).String(), c.Argument(1).String()
			}
			rt.st.denied = d
			return api
		},
	}))
	_ = api.Set("accessToken", rt.obj(map[string]func(goja.FunctionCall) goja.Value{
		"setCustomClaim": func(c goja.FunctionCall) goja.Value {
			rt.st.access[c.Argument(0).String()] = export(c.Argument(1))
			return api
		},
	}))
	return api
}

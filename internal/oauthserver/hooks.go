package oauthserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// hooksRecheck is how long a node trusts its copy of the Rules and Actions before asking the
// store whether they changed (one indexed single-row read). A change made by `sesame apply`
// or the management API on any node therefore takes effect on every node within
// hooksRecheck plus one store round trip: under 2 s.
const hooksRecheck = time.Second

// hookCache is this node's compiled flow of one trigger, keyed by the store's hooks version.
type hookCache struct {
	mu      sync.RWMutex
	checked time.Time
	version int64
	loaded  bool
	flow    *hooks.Flow
}

// Wire errors of WIRE.md §1 and §6 for Rules and Actions.
var (
	errHookRedirect = oauthErr(http.StatusBadRequest, "interaction_required", "Redirects are not supported in this flow.")
	// Decision: an Action or Rule that throws or times out denies the login with a fixed text;
	// the cause goes to the server log and the tenant log's details, never to the client.
	errHookFailed = oauthErr(http.StatusForbidden, "access_denied", "The login was denied because a Rule or Action failed.")
)

// flow returns the current flow of a trigger (c is that trigger's cache), re-reading the
// store at most every hooksRecheck of the server's clock (so that a test steps past it
// instead of sleeping).
func (s *Server) flow(ctx context.Context, c *hookCache, trigger string) (*hooks.Flow, error) {
	c.mu.RLock()
	if c.loaded && s.now().Sub(c.checked) < hooksRecheck {
		f := c.flow
		c.mu.RUnlock()
		return f, nil
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && s.now().Sub(c.checked) < hooksRecheck {
		return c.flow, nil
	}
	v, err := s.store.HooksVersion(ctx)
	if err != nil {
		return nil, err
	}
	if !c.loaded || v != c.version {
		f, err := s.loadFlow(ctx, trigger)
		if err != nil {
			return nil, err
		}
		c.flow, c.version, c.loaded = f, v, true
	}
	c.checked = s.now()
	return c.flow, nil
}

// loadFlow reads the deployed Actions bound to the trigger (and, for post-login, the enabled
// Rules: Auth0 runs Rules for user logins only), opens the Actions' secrets and compiles
// everything (compiled programs are cached by the engine, so an unchanged action is not
// compiled again).
func (s *Server) loadFlow(ctx context.Context, trigger string) (*hooks.Flow, error) {
	var rules []hooks.Rule
	if trigger == store.TriggerPostLogin {
		storedRules, err := s.store.ListRules(ctx)
		if err != nil {
			return nil, err
		}
		configs, err := s.store.ListRulesConfigs(ctx)
		if err != nil {
			return nil, err
		}
		conf := make(map[string]string, len(configs))
		for _, c := range configs {
			v, err := s.box.Open(c.ValueSealed, store.RulesConfigAAD(c.Key))
			if err != nil {
				return nil, fmt.Errorf("opening rules configuration %s: %w", c.Key, err)
			}
			conf[c.Key] = string(v)
		}
		for _, r := range storedRules {
			if r.Enabled {
				rules = append(rules, hooks.Rule{Name: r.Name, Script: r.Script, Configuration: conf})
			}
		}
	}
	bindings, err := s.store.TriggerBindings(ctx, trigger)
	if err != nil {
		return nil, err
	}
	var actions []hooks.Action
	for _, b := range bindings {
		a, err := s.store.GetAction(ctx, b.ActionName)
		if err != nil {
			return nil, err
		}
		if !a.Deployed {
			continue
		}
		// What runs is the deployed version; the action's own code is the draft.
		code := a.Code
		if a.DeployedVersion != "" {
			v, err := s.store.GetActionVersion(ctx, a.ID, a.DeployedVersion)
			if err != nil {
				return nil, fmt.Errorf("reading the deployed version of action %s: %w", a.Name, err)
			}
			code = v.Code
		}
		ha := hooks.Action{Name: a.Name, Code: code, Secrets: map[string]string{}}
		for _, sec := range a.Secrets {
			v, err := s.box.Open(sec.ValueSealed, store.ActionSecretAAD(a.Name, sec.Name))
			if err != nil {
				return nil, fmt.Errorf("opening secret %s of action %s: %w", sec.Name, a.Name, err)
			}
			ha.Secrets[sec.Name] = string(v)
		}
		actions = append(actions, ha)
	}
	return s.hooks.Flow(rules, actions)
}

// runHooks runs Rules, then Actions, for the exchange and applies their outcome
// (WIRE.md §6): custom claims, scope changes, the MFA flag, metadata, denials. A client
// credentials exchange runs the credentials-exchange Actions instead, which can only set
// access-token claims or deny.
func (s *Server) runHooks(ctx context.Context, ex *exchange) error {
	machine := ex.grantType == grantClientCredentials
	cache, trigger := &s.hookCache, store.TriggerPostLogin
	if machine {
		cache, trigger = &s.ccHookCache, store.TriggerCredentialsExchange
	}
	f, err := s.flow(ctx, cache, trigger)
	if err != nil {
		return errHookFailed.withCause(err)
	}
	if f.Empty() {
		return nil
	}
	var out hooks.Outcome
	if machine {
		out, err = f.CredentialsExchange(ctx, credentialsEvent(ex))
	} else {
		out, err = f.PostLogin(ctx, s.hookEvent(ex))
	}
	ex.hookRuns = out.Executions
	if err != nil {
		return s.hookErr(ctx, ex, err)
	}
	access, err := token.FilterCustomClaims(out.AccessClaims)
	if err != nil {
		return errHookFailed.withCause(err)
	}
	id, err := token.FilterCustomClaims(out.IDClaims)
	if err != nil {
		return errHookFailed.withCause(err)
	}
	ex.accessClaims, ex.idClaims = merge(ex.accessClaims, access), merge(ex.idClaims, id)
	if out.ScopesChanged {
		// Auth0 lets an Action add any scope string, defined by the API or not, except that
		// offline_access obeys the same rule as a requested one: silently dropped unless the
		// API allows offline access and the client has the refresh_token grant.
		ex.scopes = out.Scopes
		if !offlineAllowed(ex.api, ex.client.Client) {
			ex.scopes = slices.DeleteFunc(ex.scopes, func(sc string) bool { return sc == "offline_access" })
		}
	}
	if out.MFA {
		ex.mfaRequired = true
	}
	if out.AppMetadata != nil || out.UserMetadata != nil {
		now := s.now()
		err := s.store.UpdateUser(ctx, ex.user.UserID, func(u *store.User) error {
			if out.AppMetadata != nil {
				u.AppMetadata = out.AppMetadata
			}
			if out.UserMetadata != nil {
				u.UserMetadata = out.UserMetadata
			}
			u.UpdatedAt = now
			return nil
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			// A user of an external directory (LDAP) has no record here to keep metadata in.
			s.log.Warn("hooks: metadata of a user outside the store not persisted", "user_id", ex.user.UserID)
		case err != nil:
			return err
		}
	}
	return nil
}

// hookErr maps the flow's refusals to wire errors (WIRE.md §1 table).
func (s *Server) hookErr(ctx context.Context, ex *exchange, err error) error {
	var (
		denied *hooks.DeniedError
		unauth *hooks.UnauthorizedError
		redir  *hooks.RedirectError
		revoke *hooks.RefreshRevokedError
	)
	switch {
	case errors.As(err, &denied) && denied.Code != "":
		return deniedExchange(denied).withCause(err)
	case errors.As(err, &denied):
		return oauthErr(http.StatusForbidden, "access_denied", denied.Reason).withCause(err)
	case errors.As(err, &unauth):
		return oauthErr(http.StatusUnauthorized, "unauthorized", unauth.Message).withCause(err)
	case errors.As(err, &redir):
		return errHookRedirect.withCause(err)
	case errors.As(err, &revoke):
		if hash, ok := token.HashRefreshToken(ex.p.get("refresh_token")); ok {
			if _, rerr := s.store.RevokeRefreshFamily(ctx, hash, s.now()); rerr != nil && !errors.Is(rerr, store.ErrNotFound) {
				return rerr
			}
		}
		return oauthErr(http.StatusForbidden, "access_denied", revoke.Reason).withCause(err)
	}
	return errHookFailed.withCause(err)
}

// merge adds b's claims to a (b wins); either may be nil.
func merge(a, b map[string]any) map[string]any {
	if len(a) == 0 {
		return b
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

// secretParams never reach Rules and Actions (event.request.body).
var secretParams = []string{"password", "client_secret", "client_assertion", "refresh_token", "otp",
	"oob_code", "binding_code", "recovery_code", "mfa_token"}

// hookEvent builds the post-login event from the exchange.
func (s *Server) hookEvent(ex *exchange) hooks.Event {
	u := ex.user
	protocol := hooks.ProtocolPassword
	if ex.grantType == grantRefreshToken {
		protocol = hooks.ProtocolRefresh
	}
	ev := hooks.Event{
		Protocol:        protocol,
		RequestedScopes: splitScope(ex.requestedScope),
		Scopes:          slices.Clone(ex.scopes),
		Roles:           []string{},
		User: hooks.User{UserID: u.UserID, Email: u.Email, EmailVerified: u.EmailVerified, Username: u.Username,
			Name: u.Name, Nickname: u.Nickname, Picture: u.Picture, GivenName: u.GivenName, FamilyName: u.FamilyName,
			AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata, LoginsCount: u.LoginsCount,
			LastLogin: u.LastLogin, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Groups: u.Groups,
			Identities: []hooks.Identity{{Connection: ex.connection.Name, Provider: ex.connection.Strategy,
				UserID: userIDWithoutProvider(u.UserID)}}},
		Client: hooks.Client{ClientID: ex.client.ClientID, Name: ex.client.Name, Metadata: ex.client.Metadata},
		Connection: hooks.Connection{ID: ex.connection.ID, Name: ex.connection.Name, Strategy: ex.connection.Strategy,
			Metadata: stringOptions(ex.connection.Options)},
		Request:     hookRequest(ex),
		TenantID:    ex.tenant.FriendlyName,
		AuthMethods: []hooks.AuthMethod{{Name: "pwd", Timestamp: ex.authTime}},
	}
	if slices.Contains(ex.amr, "mfa") {
		ev.AuthMethods = append(ev.AuthMethods, hooks.AuthMethod{Name: "mfa", Timestamp: ex.authTime})
	}
	if ex.api != nil {
		ev.ResourceServer = ex.api.Identifier
	}
	if f := ex.family; f != nil && protocol == hooks.ProtocolRefresh {
		ev.RefreshToken = &hooks.RefreshToken{ID: f.ID, ClientID: f.ClientID, UserID: f.UserID,
			CreatedAt: f.CreatedAt, ExpiresAt: f.ExpiresAt}
	}
	return ev
}

// hookRequest is event.request: the body without secretParams.
func hookRequest(ex *exchange) hooks.Request {
	body := map[string]string{}
	for k, v := range ex.p {
		if !slices.Contains(secretParams, k) {
			body[k] = v
		}
	}
	return hooks.Request{IP: ex.ip, Hostname: ex.r.Host, Method: ex.r.Method, UserAgent: ex.r.UserAgent(), Body: body}
}

// userIDWithoutProvider is the id inside the directory (auth0|abc → abc).
func userIDWithoutProvider(id string) string {
	if _, rest, ok := strings.Cut(id, "|"); ok {
		return rest
	}
	return id
}

// stringOptions is a connection's metadata option (Auth0 keeps string pairs there).
func stringOptions(opts map[string]any) map[string]string {
	md, _ := opts["metadata"].(map[string]any)
	out := map[string]string{}
	for k, v := range md {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// hookDetails is details.actions of the tenant log event.
func hookDetails(runs []hooks.Execution) map[string]any {
	execs := make([]map[string]any, 0, len(runs))
	for _, r := range runs {
		e := map[string]any{"name": r.Name, "kind": r.Kind, "duration_ms": float64(r.Duration.Microseconds()) / 1000}
		if r.Error != "" {
			e["error"] = r.Error
		}
		execs = append(execs, e)
	}
	return map[string]any{"executions": execs}
}

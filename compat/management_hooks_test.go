package compat_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/authentication/oauth"
	"github.com/auth0/go-auth0/v3/management"
	mgmtclient "github.com/auth0/go-auth0/v3/management/client"
	"github.com/auth0/go-auth0/v3/management/option"
)

// The client the actions/rules/attack-protection/keys test manages the tenant with, and the
// user whose logins it watches (the Action and the Rule it writes act on this user only, so
// that the other tests' tokens stay as they expect).
const (
	hooksMgmtClientID     = "compat-hooks-mgmt-00000000000008"
	hooksMgmtClientSecret = "compat-hooks-mgmt-secret-0123456789abcdef012345"
	hooksUser             = "peggy@example.com"
)

// hooksMgmtScopes are the Management API scopes the test's client is granted.
var hooksMgmtScopes = []string{"read:actions", "create:actions", "update:actions", "delete:actions",
	"read:rules", "create:rules", "update:rules", "delete:rules", "read:rules_configs", "update:rules_configs",
	"delete:rules_configs", "read:attack_protection", "update:attack_protection",
	"read:signing_keys", "create:signing_keys", "update:signing_keys"}

// newHooksManagement applies a tenant file with the test's management client (a client grant
// for this server's Management API, named by its https://host/api/v2/ audience as an Auth0
// export names it) and user, and returns go-auth0's management client for it.
func newHooksManagement(t *testing.T) *mgmtclient.Management {
	t.Helper()
	yaml := fmt.Sprintf(`clients:
  - name: Compat Hooks Admin
    client_id: %s
    client_secret: %s
    app_type: non_interactive
    grant_types: [client_credentials]
clientGrants:
  - client_id: Compat Hooks Admin
    audience: %sapi/v2/
    scope: [%s]
users:
  - connection: %s
    email: %s
    password: %q
    email_verified: true
`, hooksMgmtClientID, hooksMgmtClientSecret, srv.issuer, strings.Join(hooksMgmtScopes, ", "), realm, hooksUser, password)
	file := filepath.Join(t.TempDir(), "hooks-tenant.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// The CLI learns the issuer (hence which audience is this server's Management API) from
	// the server config, here SESAME_ISSUER.
	apply := srv.command(t.Context(), "apply", "-f", file)
	apply.Env = append(apply.Env, "SESAME_ISSUER="+srv.issuer)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("sesame apply: %v\n%s", err, out)
	}
	m, err := mgmtclient.New(srv.hostPort,
		option.WithClientCredentials(oauth2Context(t), hooksMgmtClientID, hooksMgmtClientSecret),
		option.WithHTTPClient(srv.httpClient()), option.WithMaxAttempts(1))
	if err != nil {
		t.Fatalf("management client: %v", err)
	}
	return m
}

// hooksLoginToken logs the test's user in with the password grant and returns the access
// token (go-auth0's authentication client verifies the ID token).
func hooksLoginToken(t *testing.T) string {
	t.Helper()
	tok, err := newAuth0Secret(t).OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{
		Username: hooksUser, Password: password, Scope: "openid", Audience: apiID, Realm: realm,
	}, oauth.IDTokenValidationOptions{})
	if err != nil {
		t.Fatalf("LoginWithPassword: %v", err)
	}
	return tok.AccessToken
}

// hooksLogin returns the claims of a fresh access token of the test's user.
func hooksLogin(t *testing.T) map[string]any {
	t.Helper()
	_, claims := decodeJWT(t, hooksLoginToken(t))
	return claims
}

// hooksLoginUntil logs the test's user in until the access token's claims satisfy ok, and
// returns the last claims. A node re-reads Rules and Actions at most once a second (the
// server's documented bound for a change to take effect is 2 s), so a change made just after
// a login shows from a later one; the wait ends at the first login that shows it.
func hooksLoginUntil(t *testing.T, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		claims := hooksLogin(t)
		if ok(claims) || time.Now().After(deadline) {
			return claims
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestGoAuth0ManagementActionsAndRules creates an Action with go-auth0's management client,
// deploys it, binds it to post-login and sees its claim in a password login; then a Rule that
// reads a rules-config value does the same.
func TestGoAuth0ManagementActionsAndRules(t *testing.T) {
	m := newHooksManagement(t)
	ctx := t.Context()
	code := fmt.Sprintf(`exports.onExecutePostLogin = async (event, api) => {
  if (event.user.email === %q) api.accessToken.setCustomClaim('https://compat.test/action', 'v' + event.secrets.VERSION);
};`, hooksUser)
	postLogin := management.ActionTriggerTypeEnum("post-login")
	created, err := m.Actions.Create(ctx, &management.CreateActionRequestContent{
		Name: "compat-claims", Code: &code, Runtime: management.String("node22"),
		SupportedTriggers: []*management.ActionTrigger{{ID: postLogin, Version: management.String("v3")}},
		Secrets:           []*management.ActionSecretRequest{{Name: management.String("VERSION"), Value: management.String("1")}},
	})
	if err != nil {
		t.Fatalf("Actions.Create: %v", err)
	}
	id := created.GetID()
	// The tenant's own post-login bindings (the Node.js MFA test's Action) stay bound during
	// the test and are all that is bound after it: later tests log in through them.
	before, err := m.Actions.Triggers.Bindings.List(ctx, &postLogin, &management.ListActionTriggerBindingsRequestParameters{})
	if err != nil {
		t.Fatalf("Bindings.List: %v", err)
	}
	var kept []*management.ActionBindingWithRef
	for _, b := range before.Results {
		kept = append(kept, &management.ActionBindingWithRef{
			Ref:         &management.ActionBindingRef{Type: management.ActionBindingRefTypeEnum("action_name").Ptr(), Value: management.String(b.Action.GetName())},
			DisplayName: management.String(b.GetDisplayName()),
		})
	}
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		if _, err := m.Actions.Triggers.Bindings.UpdateMany(ctx, &postLogin, &management.UpdateActionBindingsRequestContent{Bindings: append([]*management.ActionBindingWithRef{}, kept...)}); err != nil {
			t.Errorf("restoring the post-login bindings: %v", err)
		}
		_ = m.Actions.Delete(ctx, id, &management.DeleteActionRequestParameters{Force: management.Bool(true)})
	})
	got, err := m.Actions.Get(ctx, id)
	if err != nil || string(got.GetStatus()) != "built" {
		t.Fatalf("Actions.Get: status %q, %v, want built", got.GetStatus(), err)
	}
	// Auth0's Test runs the draft against a sample event: the claim it would set, with the
	// action's secret.
	tested, err := m.Actions.Test(ctx, id, &management.TestActionRequestContent{
		Payload: management.TestActionPayload{"user": map[string]any{"email": hooksUser}}})
	if err != nil {
		t.Fatalf("Actions.Test: %v", err)
	}
	p := tested.GetPayload()
	if at, _ := p["access_token_claims"].(map[string]any); p["result"] != "allowed" || at["https://compat.test/action"] != "v1" {
		t.Errorf("Actions.Test: payload %v, want allowed with the claim v1", p)
	}
	v, err := m.Actions.Deploy(ctx, id)
	if err != nil || v.GetNumber() != 1 || !v.GetDeployed() {
		t.Fatalf("Actions.Deploy: %+v, %v, want version 1 deployed", v, err)
	}
	_, err = m.Actions.Triggers.Bindings.UpdateMany(ctx, &postLogin, &management.UpdateActionBindingsRequestContent{
		Bindings: append(append([]*management.ActionBindingWithRef{}, kept...), &management.ActionBindingWithRef{
			Ref:         &management.ActionBindingRef{Type: management.ActionBindingRefTypeEnum("action_name").Ptr(), Value: management.String("compat-claims")},
			DisplayName: management.String("Compat claims"),
		})})
	if err != nil {
		t.Fatalf("Bindings.UpdateMany: %v", err)
	}
	page, err := m.Actions.Triggers.Bindings.List(ctx, &postLogin, &management.ListActionTriggerBindingsRequestParameters{})
	if err != nil || len(page.Results) != len(kept)+1 || page.Results[len(kept)].Action.GetName() != "compat-claims" {
		t.Fatalf("Bindings.List: %+v, %v", page, err)
	}
	if c := hooksLoginUntil(t, func(c map[string]any) bool { return c["https://compat.test/action"] != nil })["https://compat.test/action"]; c != "v1" {
		t.Errorf("action claim after deploy: %v, want v1", c)
	}
	list, err := m.Actions.List(ctx, &management.ListActionsRequestParameters{ActionName: management.String("compat-claims")})
	if err != nil || len(list.Results) != 1 || !list.Results[0].GetAllChangesDeployed() {
		t.Errorf("Actions.List: %+v, %v", list, err)
	}

	// Rules run before Actions and read rules-configs values through configuration.
	if _, err := m.RulesConfigs.Set(ctx, "COMPAT_GREETING", &management.SetRulesConfigRequestContent{Value: "hello"}); err != nil {
		t.Fatalf("RulesConfigs.Set: %v", err)
	}
	t.Cleanup(func() { _ = m.RulesConfigs.Delete(context.WithoutCancel(ctx), "COMPAT_GREETING") })
	rule, err := m.Rules.Create(ctx, &management.CreateRuleRequestContent{Name: "compat greeting",
		Script: fmt.Sprintf(`function (user, context, callback) {
  if (user.email === %q) context.accessToken['https://compat.test/rule'] = configuration.COMPAT_GREETING;
  callback(null, user, context);
}`, hooksUser)})
	if err != nil {
		t.Fatalf("Rules.Create: %v", err)
	}
	t.Cleanup(func() { _ = m.Rules.Delete(context.WithoutCancel(ctx), rule.GetID()) })
	keys, err := m.RulesConfigs.List(ctx)
	if err != nil || !slices.ContainsFunc(keys, func(k *management.RulesConfig) bool { return k.GetKey() == "COMPAT_GREETING" }) {
		t.Errorf("RulesConfigs.List: %v, %v", keys, err)
	}
	claims := hooksLoginUntil(t, func(c map[string]any) bool { return c["https://compat.test/rule"] != nil })
	if claims["https://compat.test/rule"] != "hello" || claims["https://compat.test/action"] != "v1" {
		t.Errorf("claims with the rule: %v, want the rule's hello and the action's v1", claims)
	}
	if _, err := m.Rules.Update(ctx, rule.GetID(), &management.UpdateRuleRequestContent{Enabled: management.Bool(false)}); err != nil {
		t.Fatalf("Rules.Update: %v", err)
	}
	rules, err := m.Rules.List(ctx, &management.ListRulesRequestParameters{})
	if err != nil || len(rules.Results) != 1 || rules.Results[0].GetEnabled() {
		t.Errorf("Rules.List: %+v, %v, want the rule disabled", rules, err)
	}
}

// TestGoAuth0ManagementAttackProtectionAndKeys changes brute-force protection and rotates and
// revokes signing keys with go-auth0's management client.
func TestGoAuth0ManagementAttackProtectionAndKeys(t *testing.T) {
	m := newHooksManagement(t)
	ctx := t.Context()
	bf, err := m.AttackProtection.BruteForceProtection.Get(ctx)
	if err != nil || !bf.GetEnabled() {
		t.Fatalf("BruteForceProtection.Get: %+v, %v", bf, err)
	}
	orig := bf.GetMaxAttempts()
	t.Cleanup(func() {
		_, _ = m.AttackProtection.BruteForceProtection.Update(context.WithoutCancel(ctx),
			&management.UpdateBruteForceSettingsRequestContent{MaxAttempts: &orig, Allowlist: []string{}})
	})
	upd, err := m.AttackProtection.BruteForceProtection.Update(ctx, &management.UpdateBruteForceSettingsRequestContent{
		MaxAttempts: management.Int(orig + 5), Allowlist: []string{"192.0.2.0/24"}})
	if err != nil || upd.GetMaxAttempts() != orig+5 || !slices.Equal(upd.GetAllowlist(), []string{"192.0.2.0/24"}) || !upd.GetEnabled() {
		t.Errorf("BruteForceProtection.Update: %+v, %v", upd, err)
	}
	if _, err := m.AttackProtection.BruteForceProtection.Update(ctx, &management.UpdateBruteForceSettingsRequestContent{MaxAttempts: management.Int(0)}); err == nil {
		t.Errorf("max_attempts 0: got no error, want a 400")
	}

	before, err := m.Keys.Signing.List(ctx)
	if err != nil || len(before) < 2 {
		t.Fatalf("Signing.List: %d keys, %v", len(before), err)
	}
	var current, next string
	for _, k := range before {
		if k.GetCurrent() && current == "" {
			current = k.Kid
		}
		if k.GetNext() && next == "" {
			next = k.Kid
		}
		if !strings.HasPrefix(k.Cert, "-----BEGIN CERTIFICATE-----") {
			t.Errorf("key %s: cert %.30q, want PEM", k.Kid, k.Cert)
		}
	}
	rot, err := m.Keys.Signing.Rotate(ctx)
	if err != nil || rot.Kid != next {
		t.Fatalf("Signing.Rotate: %+v, %v, want the next key %s to sign", rot, err, next)
	}
	// The client's token was signed by the key rotated out, which stays valid until revoked.
	rev, err := m.Keys.Signing.Revoke(ctx, current)
	if err != nil || rev.Kid != current {
		t.Fatalf("Signing.Revoke: %+v, %v", rev, err)
	}
	// That token is now refused; a new client gets a token signed by the new current key.
	m = newHooksManagement(t)
	k, err := m.Keys.Signing.Get(ctx, current)
	if err != nil || !k.GetRevoked() {
		t.Fatalf("Signing.Get revoked key: %+v, %v", k, err)
	}
	res, err := srv.httpClient().Get(srv.url("/.well-known/jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || strings.Contains(string(jwks), current) {
		t.Errorf("the JWKS still publishes the revoked key %s (%v)", current, err)
	}
	// A password login still works, signed by the new key.
	if h, _ := decodeJWT(t, hooksLoginToken(t)); h["kid"] != next {
		t.Errorf("login after rotation: kid %v, want %s", h["kid"], next)
	}
}

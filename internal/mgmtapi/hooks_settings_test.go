package mgmtapi_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/store"
)

const ruleScript = "function (user, context, callback) { context.accessToken['https://x/r'] = configuration.K; callback(null, user, context); }"

func TestRulesAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:rules", "create:rules", "update:rules", "delete:rules")
	r := e.do(t, "POST", "/rules", tok, map[string]any{"name": "add claim", "script": ruleScript, "stage": "login_success", "enabled": true, "order": 3})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["id"].(string)
	want := map[string]any{"id": id, "name": "add claim", "script": ruleScript, "stage": "login_success", "enabled": true, "order": float64(3)}
	if diff := cmp.Diff(want, r.obj(t)); diff != "" {
		t.Errorf("created rule (-want +got):\n%s", diff)
	}
	if evs := e.events.All(); len(evs) != 1 || evs[0].Type != "sapi" || evs[0].Description != "Create a rule" || evs[0].ClientID != "m2m" {
		t.Errorf("tenant log after the create: %+v, want one sapi \"Create a rule\" by m2m", evs)
	}
	r = e.do(t, "GET", "/rules?page=0&per_page=100&include_totals=true", tok, nil)
	if got := r.obj(t); got["total"] != float64(1) || len(got["rules"].([]any)) != 1 {
		t.Errorf("list: %s", r.raw)
	}
	// The Deploy CLI's re-import PATCHes with every field but stage.
	r = e.do(t, "PATCH", "/rules/"+id, tok, map[string]any{"name": "add claim", "script": ruleScript, "enabled": false, "order": 4})
	if got := r.obj(t); r.status != 200 || got["enabled"] != false || got["order"] != float64(4) {
		t.Errorf("patch: %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "POST", "/rules", tok, map[string]any{"name": "add claim", "script": ruleScript}),
		409, "rule_conflict", `a rule named "add claim" already exists`)
	wantError(t, e.do(t, "PATCH", "/rules/"+id, tok, map[string]any{"stage": "pre_authorize"}),
		400, "invalid_body", `Payload validation error: stage: "pre_authorize" is not login_success, the only stage rules run in`)
	wantError(t, e.do(t, "GET", "/rules", e.token(t, "read:actions"), nil), 403, "insufficient_scope", "Insufficient scope, expected any of: read:rules")
	if r := e.do(t, "DELETE", "/rules/"+id, tok, nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "GET", "/rules/"+id, tok, nil), 404, "inexistent_rule", "The rule does not exist.")
}

func TestRulesConfigsAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:rules_configs", "update:rules_configs", "delete:rules_configs")
	r := e.do(t, "PUT", "/rules-configs/API_KEY", tok, map[string]string{"value": "s3cret"})
	if r.status != 200 || r.obj(t)["key"] != "API_KEY" {
		t.Fatalf("put: %d %s", r.status, r.raw)
	}
	r = e.do(t, "GET", "/rules-configs", tok, nil)
	if r.status != 200 || r.raw != "[{\"key\":\"API_KEY\"}]\n" {
		t.Errorf("list: %d %q, want the key only", r.status, r.raw)
	}
	wantError(t, e.do(t, "PUT", "/rules-configs/bad%20key", tok, map[string]string{"value": "v"}),
		400, "invalid_body", `Payload validation error: key: "bad key" must be 1 to 127 letters, digits or _-@*+:`)
	wantError(t, e.do(t, "DELETE", "/rules-configs/API_KEY", e.token(t, "read:rules_configs"), nil),
		403, "insufficient_scope", "Insufficient scope, expected any of: delete:rules_configs")
	if r := e.do(t, "DELETE", "/rules-configs/API_KEY", tok, nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "DELETE", "/rules-configs/API_KEY", tok, nil), 404, "inexistent_rules_config", "The rules config does not exist.")
}

func TestAttackProtectionAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:attack_protection", "update:attack_protection")
	r := e.do(t, "GET", "/attack-protection/brute-force-protection", tok, nil)
	want := map[string]any{"enabled": true, "shields": []any{"block", "user_notification"}, "mode": "count_per_identifier_and_ip",
		"allowlist": []any{}, "max_attempts": float64(10)}
	if diff := cmp.Diff(want, r.obj(t)); diff != "" {
		t.Errorf("brute force defaults (-want +got):\n%s", diff)
	}
	r = e.do(t, "PATCH", "/attack-protection/brute-force-protection", tok, map[string]any{"max_attempts": 5, "allowlist": []string{"10.0.0.1"}})
	want["max_attempts"], want["allowlist"] = float64(5), []any{"10.0.0.1"}
	if diff := cmp.Diff(want, r.obj(t)); r.status != 200 || diff != "" {
		t.Errorf("patched (-want +got, status %d):\n%s", r.status, diff)
	}
	r = e.do(t, "PATCH", "/attack-protection/suspicious-ip-throttling", tok, map[string]any{"stage": map[string]any{"pre-login": map[string]any{"max_attempts": 7}}})
	stage := r.obj(t)["stage"].(map[string]any)
	if pl := stage["pre-login"].(map[string]any); pl["max_attempts"] != float64(7) || pl["rate"] != float64(864000) {
		t.Errorf("stage merge: %s, want max_attempts 7 with the rate kept", r.raw)
	}
	// The Deploy CLI sends Auth0's fields Sesame does not hold; they are ignored.
	r = e.do(t, "PATCH", "/attack-protection/breached-password-detection", tok, map[string]any{"enabled": true,
		"shields": []string{"block"}, "admin_notification_frequency": []string{"daily"}, "method": "standard",
		"stage": map[string]any{"pre-user-registration": map[string]any{"shields": []string{}}}})
	if got := r.obj(t); r.status != 200 || got["enabled"] != true || got["method"] != "standard" {
		t.Errorf("breached: %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "PATCH", "/attack-protection/brute-force-protection", tok, map[string]any{"max_attempts": 0, "mode": "sometimes"}),
		400, "invalid_body", `Payload validation error: bruteForceProtection.max_attempts: 0 is not between 1 and 100; bruteForceProtection.mode: "sometimes" is neither count_per_identifier_and_ip nor count_per_identifier`)
	wantError(t, e.do(t, "PATCH", "/attack-protection/brute-force-protection", tok, map[string]any{"max_attempts": "many"}),
		400, "invalid_body", "Payload validation error: 'Expected type integer but found type string' on property max_attempts.")
	if got := e.do(t, "GET", "/attack-protection/brute-force-protection", tok, nil).obj(t); got["max_attempts"] != float64(5) {
		t.Errorf("a refused PATCH changed the settings: %v", got)
	}
	wantError(t, e.do(t, "PATCH", "/attack-protection/brute-force-protection", e.token(t, "read:attack_protection"), map[string]any{}),
		403, "insufficient_scope", "Insufficient scope, expected any of: update:attack_protection")
}

func TestGuardianAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:guardian_factors", "update:guardian_factors", "read:mfa_policies", "update:mfa_policies")
	r := e.do(t, "GET", "/guardian/factors", tok, nil)
	fs := r.arr(t)
	if len(fs) != 8 {
		t.Fatalf("factors: %s", r.raw)
	}
	// Every factor listed can be PUT back as it is (the Deploy CLI's re-import does so).
	for _, f := range fs {
		f := f.(map[string]any)
		if r := e.do(t, "PUT", "/guardian/factors/"+f["name"].(string), tok, map[string]any{"enabled": f["enabled"]}); r.status != 200 {
			t.Errorf("PUT %v back: %d %s", f, r.status, r.raw)
		}
	}
	if r := e.do(t, "PUT", "/guardian/factors/email", tok, map[string]any{"enabled": true}); r.status != 200 || r.obj(t)["enabled"] != true {
		t.Errorf("enable email: %d %s", r.status, r.raw)
	}
	if tn, _ := e.st.GetTenant(t.Context()); !tn.MFAFactors.Email || !tn.MFAFactors.OTP {
		t.Errorf("stored factors: %+v, want email and otp", tn.MFAFactors)
	}
	wantError(t, e.do(t, "PUT", "/guardian/factors/duo", tok, map[string]any{"enabled": true}),
		400, "invalid_body", "Payload validation error: enabled: the duo factor is not supported by this server")
	wantError(t, e.do(t, "PUT", "/guardian/factors/email", tok, map[string]any{}), 400, "invalid_body", "Payload validation error: Missing required property: enabled")
	if r := e.do(t, "PUT", "/guardian/policies", tok, []string{"all-applications"}); r.status != 200 || r.raw != "[\"all-applications\"]\n" {
		t.Errorf("set policies: %d %s", r.status, r.raw)
	}
	if tn, _ := e.st.GetTenant(t.Context()); tn.MFAPolicy != store.MFAAlways {
		t.Errorf("policy: %q, want always", tn.MFAPolicy)
	}
	if r := e.do(t, "GET", "/guardian/policies", tok, nil); r.raw != "[\"all-applications\"]\n" {
		t.Errorf("get policies: %s", r.raw)
	}
	if r := e.do(t, "PUT", "/guardian/policies", tok, []string{}); r.raw != "[]\n" {
		t.Errorf("clear policies: %s", r.raw)
	}
	if r := e.do(t, "GET", "/guardian/factors/phone/message-types", tok, nil); r.raw != "{\"message_types\":[\"sms\"]}\n" {
		t.Errorf("message types: %s", r.raw)
	}
	wantError(t, e.do(t, "PUT", "/guardian/factors/phone/message-types", tok, map[string]any{"message_types": []string{"voice"}}),
		400, "invalid_body", `Payload validation error: message_types[0]: "voice" is not supported (only sms)`)
	// An Auth0 export of a tenant without a phone factor holds an empty list: accepted, no change.
	if r := e.do(t, "PUT", "/guardian/factors/phone/message-types", tok, map[string]any{"message_types": []string{}}); r.status != 200 || r.raw != "{\"message_types\":[\"sms\"]}\n" {
		t.Errorf("empty message types: %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "PUT", "/guardian/factors/phone/message-types", tok, map[string]any{}),
		400, "invalid_body", "Payload validation error: message_types: is required")
	wantError(t, e.do(t, "GET", "/guardian/policies", e.token(t, "read:guardian_factors"), nil),
		403, "insufficient_scope", "Insufficient scope, expected any of: read:mfa_policies")
}

func TestSigningKeysAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:signing_keys", "create:signing_keys", "update:signing_keys")
	r := e.do(t, "GET", "/keys/signing", tok, nil)
	ks := r.arr(t)
	if len(ks) != 2 {
		t.Fatalf("keys: %s", r.raw)
	}
	var current, next string
	for _, k := range ks {
		k := k.(map[string]any)
		block, _ := pem.Decode([]byte(k["cert"].(string)))
		if block == nil {
			t.Fatalf("cert of %v is not PEM", k["kid"])
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			t.Errorf("cert of %v: %v", k["kid"], err)
		}
		if fp := k["fingerprint"].(string); len(fp) != 59 || strings.ReplaceAll(fp, ":", "") != k["thumbprint"] {
			t.Errorf("fingerprint %q / thumbprint %q, want SHA-1 pairs and the same hex", fp, k["thumbprint"])
		}
		switch {
		case k["current"] == true:
			current = k["kid"].(string)
		case k["next"] == true:
			next = k["kid"].(string)
		}
	}
	if current == "" || next == "" {
		t.Fatalf("keys: %s, want a current and a next key", r.raw)
	}
	r = e.do(t, "POST", "/keys/signing/rotate", tok, nil)
	if r.status != http.StatusCreated || r.obj(t)["kid"] != next || !strings.HasPrefix(r.obj(t)["cert"].(string), "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("rotate: %d %s, want %s now current", r.status, r.raw, next)
	}
	if got := e.do(t, "GET", "/keys/signing/"+current, tok, nil).obj(t); got["previous"] != true || got["current"] != false {
		t.Errorf("rotated-out key: %v, want previous", got)
	}
	r = e.do(t, "PUT", "/keys/signing/"+current+"/revoke", tok, nil)
	if r.status != 200 || r.obj(t)["kid"] != current {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	// The token in use was signed by the key just revoked: it no longer verifies.
	wantError(t, e.do(t, "GET", "/keys/signing", tok, nil), 401, "invalid_token", "Invalid token")
	tok = e.token(t, "read:signing_keys", "create:signing_keys", "update:signing_keys")
	if got := e.do(t, "GET", "/keys/signing/"+current, tok, nil).obj(t); got["revoked"] != true || got["revoked_at"] == nil {
		t.Errorf("revoked key: %v", got)
	}
	jwks, err := e.keys.JWKS(t.Context())
	if err != nil || strings.Contains(string(jwks), current) {
		t.Errorf("JWKS after revoke still holds %s (%v)", current, err)
	}
	wantError(t, e.do(t, "PUT", "/keys/signing/"+current+"/revoke", tok, nil), 409, "signing_key_conflict", "the signing key is already revoked")
	wantError(t, e.do(t, "GET", "/keys/signing/nope", tok, nil), 404, "inexistent_signing_key", "The signing key does not exist.")
	wantError(t, e.do(t, "POST", "/keys/signing/rotate", e.token(t, "read:signing_keys"), nil),
		403, "insufficient_scope", "Insufficient scope, expected any of: create:signing_keys,update:signing_keys")
}

// TestExportReimportRoundTrip sends back what each GET answered, as the Deploy CLI's import
// of its own export does (it PATCHes every matched resource with every exported field): each
// write is accepted and changes nothing.
func TestExportReimportRoundTrip(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:attack_protection", "update:attack_protection", "read:actions", "create:actions", "update:actions")
	for _, path := range []string{"/attack-protection/brute-force-protection", "/attack-protection/suspicious-ip-throttling",
		"/attack-protection/breached-password-detection"} {
		got := e.do(t, "GET", path, tok, nil).obj(t)
		r := e.do(t, "PATCH", path, tok, got)
		if diff := cmp.Diff(got, r.obj(t)); r.status != 200 || diff != "" {
			t.Errorf("PATCH %s with its GET: status %d (-get +patched):\n%s", path, r.status, diff)
		}
	}
	r := e.do(t, "POST", "/actions/actions", tok, map[string]any{"name": "a", "code": actionV1,
		"secrets": []map[string]string{{"name": "K", "value": "v"}}, "supported_triggers": []map[string]string{{"id": "post-login", "version": "v3"}}})
	id := r.obj(t)["id"].(string)
	e.do(t, "POST", "/actions/actions/"+id+"/deploy", tok, nil)
	got := e.do(t, "GET", "/actions/actions/"+id, tok, nil).obj(t)
	body := map[string]any{}
	for _, k := range []string{"name", "code", "dependencies", "runtime", "secrets", "supported_triggers"} {
		body[k] = got[k]
	}
	r = e.do(t, "PATCH", "/actions/actions/"+id, tok, body)
	if p := r.obj(t); r.status != 200 || p["all_changes_deployed"] != true || p["code"] != actionV1 {
		t.Errorf("PATCH with the GET's fields: %d %s, want the action unchanged and still all deployed", r.status, r.raw)
	}
	a, err := e.st.GetAction(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.svc.Box.Open(a.Secrets[0].ValueSealed, store.ActionSecretAAD("a", "K")); err != nil || string(v) != "v" {
		t.Errorf("secret after the round trip: %q, %v, want its value kept", v, err)
	}
}

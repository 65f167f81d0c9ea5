package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Node.js clients live in compat/node (package.json and package-lock.json pin them); .ci/run
// installs them with `npm ci`. Each script drives the real server with one library, prints one
// JSON object mapping step names to what the library returned or threw, and the tests below
// assert on that.
const (
	nodeDir     = "node"
	nodeTimeout = 60 * time.Second
)

// A confidential client whose ID tokens are HS256 (signed with its secret), and a public client
// (token_endpoint_auth_method none), in the tenant for the Node.js clients.
const (
	hs256ClientID     = "compat-hs256-app-000000000000003"
	hs256ClientSecret = "compat-hs256-secret-0123456789abcdef0123456789ab"
	publicClientID    = "compat-public-app-00000000000004"
)

// nodeAPIs are the extra resource servers of the tenant, one per access-token signing
// algorithm and dialect, that express-oauth2-jwt-bearer validates tokens of.
var nodeAPIs = []struct {
	name, identifier, alg, dialect, secret string
	strict                                 bool // RFC 9068 checks in express-oauth2-jwt-bearer
}{
	{name: "ps256", identifier: "https://ps256.compat.test", alg: "PS256"},
	{name: "rs512", identifier: "https://rs512.compat.test", alg: "RS512"},
	{name: "es256", identifier: "https://es256.compat.test", alg: "ES256"},
	{name: "eddsa", identifier: "https://eddsa.compat.test", alg: "EdDSA"},
	{name: "hs256", identifier: "https://hs256.compat.test", alg: "HS256", secret: "compat-api-hs256-secret-0123456789abcdef0123456789"},
	{name: "rfc9068", identifier: "https://rfc9068.compat.test", dialect: "rfc9068_profile", strict: true},
}

// nodeMFAUser is the user an Action sends through MFA, so that the Node.js MFA test needs no
// tenant-wide policy (which would reach every other test's logins).
const nodeMFAUser = "nina@example.com"

// nodeMFAYAML is the tenant file's Action that asks nodeMFAUser for MFA, and the factors.
const nodeMFAYAML = `actions:
  - name: node-mfa
    code: "exports.onExecutePostLogin = async (event, api) => { if (event.user.email === '` + nodeMFAUser + `') api.multifactor.enable('any'); };"
    supported_triggers: [{id: post-login, version: v3}]
triggers:
  post-login: [{action_name: node-mfa, display_name: node-mfa}]
guardianFactors:
  - {name: otp, enabled: true}
  - {name: recovery-code, enabled: true}
`

// nodeAPIsYAML is the resourceServers entries for nodeAPIs, in the tenant file's layout.
func nodeAPIsYAML() string {
	var b strings.Builder
	for _, a := range nodeAPIs {
		fmt.Fprintf(&b, "  - name: Node %s API\n    identifier: %s\n    scopes: [{value: read:data, description: Read}]\n", a.name, a.identifier)
		if a.alg != "" {
			fmt.Fprintf(&b, "    signing_alg: %s\n", a.alg)
		}
		if a.secret != "" {
			fmt.Fprintf(&b, "    signing_secret: %s\n", a.secret)
		}
		if a.dialect != "" {
			fmt.Fprintf(&b, "    token_dialect: %s\n", a.dialect)
		}
	}
	return b.String()
}

// nodeStep is one step of a script's report: ok with the facts the library returned, or the
// error it threw (its name, message and the OAuth fields it parsed).
type nodeStep struct {
	OK    bool           `json:"ok"`
	Error map[string]any `json:"error"`
	raw   json.RawMessage
}

// nodeReport is a script's output, by step name.
type nodeReport map[string]nodeStep

// runNode runs a script from compat/node against the test server as user, with the server's
// URL, the clients and the user passed in the environment, and returns its report. It skips
// the test when node or the installed packages are missing, so that `go test` stays green on a
// machine without Node.js; CI installs both.
func runNode(t *testing.T, script, user string, extraEnv ...string) nodeReport {
	t.Helper()
	// Each script logs in as its own user, so they run side by side, after the sequential tests
	// (key rotation, the MFA policy) are done.
	t.Parallel()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found in PATH: install Node.js 20.19+ to run the Node.js client tests")
	}
	if v, ok := nodeVersionOK(nodeBin); !ok {
		t.Skipf("node %s is too old: the pinned clients (auth0 6.x, jose 6, openid-client 6) need Node.js 20.19+", v)
	}
	dir, err := filepath.Abs(nodeDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Skipf("%s/node_modules is missing: run `npm ci` in compat/node to run the Node.js client tests", nodeDir)
	}
	ctx, cancel := context.WithTimeout(t.Context(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		// Trust exactly the server's self-signed certificate, as Node.js does for a private CA.
		"NODE_EXTRA_CA_CERTS="+filepath.Join(srv.dir, "cert.pem"),
		"SESAME_ISSUER="+srv.issuer,
		"SESAME_CLIENT_ID="+clientID,
		"SESAME_CLIENT_SECRET="+clientSecret,
		"SESAME_HS256_CLIENT_ID="+hs256ClientID,
		"SESAME_HS256_CLIENT_SECRET="+hs256ClientSecret,
		"SESAME_PUBLIC_CLIENT_ID="+publicClientID,
		"SESAME_JWT_CLIENT_ID="+jwtClientID,
		"SESAME_JWT_KEY_PEM="+srv.jwtKeyPEM,
		"SESAME_AUDIENCE="+apiID,
		"SESAME_REALM="+realm,
		"SESAME_USERNAME="+user,
		"SESAME_PASSWORD="+password,
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.String(), stderr.String())
	}
	t.Logf("node %s took %s", script, time.Since(start).Round(time.Millisecond))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatalf("node %s: output is not a JSON object: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.String(), stderr.String())
	}
	report := nodeReport{}
	for name, msg := range raw {
		var s nodeStep
		if err := json.Unmarshal(msg, &s); err != nil {
			t.Fatalf("node %s: step %s: %v", script, name, err)
		}
		s.raw = msg
		report[name] = s
	}
	return report
}

// nodeVersionOK reports the version of the node binary and whether it is 20.19 or later, which
// auth0 6.x declares and jose 6 (global WebCrypto, require of ES modules) needs.
func nodeVersionOK(nodeBin string) (string, bool) {
	out, err := exec.Command(nodeBin, "--version").Output()
	if err != nil {
		return "unknown", false
	}
	v := strings.TrimSpace(string(out))
	var major, minor int
	if _, err := fmt.Sscanf(v, "v%d.%d", &major, &minor); err != nil {
		return v, false
	}
	return v, major > 20 || major == 20 && minor >= 19
}

// ok returns the facts of a step that must have succeeded, decoded into a T.
func ok[T any](t *testing.T, r nodeReport, name string) T {
	t.Helper()
	var v T
	s, found := r[name]
	switch {
	case !found:
		t.Errorf("step %s: missing from the report", name)
	case !s.OK:
		t.Errorf("step %s: the library threw %v, want success", name, s.Error)
	default:
		if err := json.Unmarshal(s.raw, &v); err != nil {
			t.Errorf("step %s: %v", name, err)
		}
	}
	return v
}

// failed returns the error of a step that must have thrown.
func failed(t *testing.T, r nodeReport, name string) map[string]any {
	t.Helper()
	s, found := r[name]
	switch {
	case !found:
		t.Errorf("step %s: missing from the report", name)
	case s.OK:
		t.Errorf("step %s: succeeded with %s, want the library to throw", name, s.raw)
	}
	return s.Error
}

// checkFields fails for every key of want whose value in got differs (numbers as JSON numbers).
func checkFields(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(w) {
			t.Errorf("%s: got %s %v, want %v (all: %v)", what, k, got[k], w, got)
		}
	}
}

// jwtParts is a decoded JWT as the scripts report it.
type jwtParts struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

// checkIDTokenClaims checks the ID token claims a library validated and decoded: the ones
// Auth0 sends for the scopes openid profile email, and never a nonce nobody asked for.
func checkIDTokenClaims(t *testing.T, what string, claims map[string]any, aud, email string) {
	t.Helper()
	checkFields(t, what, claims, map[string]any{"iss": srv.issuer, "aud": aud, "email": email, "email_verified": true})
	for _, k := range []string{"sub", "iat", "exp", "name", "nickname", "updated_at"} {
		if _, found := claims[k]; !found {
			t.Errorf("%s: got claims %v, want %s", what, claims, k)
		}
	}
	if sub, _ := claims["sub"].(string); !strings.HasPrefix(sub, "auth0|") {
		t.Errorf("%s: got sub %q, want auth0|<id>", what, sub)
	}
	if _, found := claims["nonce"]; found {
		t.Errorf("%s: got a nonce %v, want none (none was sent)", what, claims["nonce"])
	}
}

// TestNodeAuth0SDK drives the official Auth0 Node SDK (npm "auth0"), both its current
// AuthenticationClient and the node-auth0 v4 API under auth0/legacy. The SDK validates every ID
// token it receives (signature via the JWKS, iss, aud, azp, exp, iat, nonce) before a grant
// resolves, so a successful step means its validation passed.
func TestNodeAuth0SDK(t *testing.T) {
	const user = "heidi@example.com"
	r := runNode(t, "auth0-sdk.cjs", user)
	type tokens struct {
		TokenType       string   `json:"token_type"`
		Scope           string   `json:"scope"`
		ExpiresIn       int      `json:"expires_in"`
		HasRefreshToken bool     `json:"has_refresh_token"`
		IDToken         jwtParts `json:"id_token"`
		AccessToken     jwtParts `json:"access_token"`
	}
	for _, flavour := range []string{"current", "v4"} {
		t.Run(flavour, func(t *testing.T) {
			for _, tc := range []struct{ step, gty string }{
				{"password", "password"},
				{"password_realm", "password"},
				{"refresh", "refresh_token"},
			} {
				got := ok[tokens](t, r, flavour+"/"+tc.step)
				if got.TokenType != "Bearer" || got.ExpiresIn <= 0 || !got.HasRefreshToken {
					t.Errorf("%s: got token_type %q expires_in %d refresh token %v, want Bearer, > 0, true",
						tc.step, got.TokenType, got.ExpiresIn, got.HasRefreshToken)
				}
				checkScopes(t, tc.step, got.Scope, []string{"openid", "profile", "email", "read:data", "offline_access"}, nil)
				checkIDTokenClaims(t, tc.step+" id_token", got.IDToken.Claims, clientID, user)
				checkFields(t, tc.step+" access_token", got.AccessToken.Claims, map[string]any{"iss": srv.issuer, "azp": clientID, "gty": tc.gty})
			}
			checkFields(t, "wrong password", failed(t, r, flavour+"/wrong_password"), map[string]any{
				"name": "AuthApiError", "error": "invalid_grant", "error_description": wrongDesc, "statusCode": 403,
			})
			info := ok[struct {
				UserInfo map[string]any `json:"userinfo"`
			}](t, r, flavour+"/userinfo")
			checkFields(t, "userinfo", info.UserInfo, map[string]any{"email": user, "email_verified": true})
			if sub, _ := info.UserInfo["sub"].(string); !strings.HasPrefix(sub, "auth0|") {
				t.Errorf("userinfo: got sub %q, want auth0|<id>", sub)
			}
			if got := ok[struct{ Status int }](t, r, flavour+"/revoke"); got.Status != 200 {
				t.Errorf("revokeRefreshToken: got status %d, want 200", got.Status)
			}
			checkFields(t, "refresh after revoke", failed(t, r, flavour+"/refresh_revoked"), map[string]any{
				"name": "AuthApiError", "error": "invalid_grant", "error_description": "Unknown or invalid refresh token.", "statusCode": 403,
			})
			// clientAssertionSigningKey: the SDK signs a private_key_jwt assertion for https://domain/.
			pk := ok[tokens](t, r, flavour+"/private_key_jwt")
			checkIDTokenClaims(t, "private_key_jwt id_token", pk.IDToken.Claims, jwtClientID, user)
			checkFields(t, "wrong client secret", failed(t, r, flavour+"/wrong_client_secret"), map[string]any{
				"name": "AuthApiError", "error": "access_denied", "error_description": "Unauthorized", "statusCode": 401,
			})
			checkFields(t, "unknown audience", failed(t, r, flavour+"/unknown_audience"), map[string]any{
				"name": "AuthApiError", "error": "access_denied", "error_description": "Service not found: https://unknown.example.com", "statusCode": 403,
			})
			// An app configured for HS256 ID tokens (idTokenSigningAlg) validates them with its secret.
			hs := ok[tokens](t, r, flavour+"/hs256_id_token")
			checkFields(t, "HS256 id_token header", hs.IDToken.Header, map[string]any{"alg": "HS256"})
			checkIDTokenClaims(t, "HS256 id_token", hs.IDToken.Claims, hs256ClientID, user)
		})
	}
}

// TestNodeAuth0AuthJS drives @auth0/auth0-auth-js, the authentication SDK node-auth0 v7 points
// to. It discovers the issuer with openid-client and validates ID token claims on every grant.
func TestNodeAuth0AuthJS(t *testing.T) {
	const user = "ivan@example.com"
	r := runNode(t, "auth0-auth-js.mjs", user)
	meta := ok[map[string]any](t, r, "metadata")
	checkFields(t, "metadata", meta, map[string]any{
		"issuer": srv.issuer, "token_endpoint": srv.url("/oauth/token"), "jwks_uri": srv.url("/.well-known/jwks.json"),
	})
	type tokens struct {
		Scope           string         `json:"scope"`
		TokenType       string         `json:"token_type"`
		HasRefreshToken bool           `json:"has_refresh_token"`
		ExpiresLater    bool           `json:"expires_in_positive"`
		Claims          map[string]any `json:"claims"`
		AccessToken     jwtParts       `json:"access_token"`
	}
	for _, tc := range []struct{ step, gty string }{
		{"password", "password"},
		{"password_realm", "password"},
		{"refresh", "refresh_token"},
	} {
		got := ok[tokens](t, r, tc.step)
		if !strings.EqualFold(got.TokenType, "Bearer") || !got.HasRefreshToken || !got.ExpiresLater {
			t.Errorf("%s: got token_type %q refresh token %v expires later %v, want bearer, true, true",
				tc.step, got.TokenType, got.HasRefreshToken, got.ExpiresLater)
		}
		checkScopes(t, tc.step, got.Scope, []string{"openid", "read:data", "offline_access"}, nil)
		checkIDTokenClaims(t, tc.step+" id_token", got.Claims, clientID, user)
		checkFields(t, tc.step+" access_token", got.AccessToken.Claims, map[string]any{"iss": srv.issuer, "gty": tc.gty})
	}
	// The SDK wraps the OAuth error; apps read error and error_description off its cause.
	checkFields(t, "wrong password", failed(t, r, "wrong_password"), map[string]any{
		"name": "TokenByPasswordError", "statusCode": 403, "cause_error": "invalid_grant", "cause_error_description": wrongDesc,
	})
	info := ok[struct {
		UserInfo map[string]any `json:"userinfo"`
	}](t, r, "userinfo")
	checkFields(t, "userinfo", info.UserInfo, map[string]any{"email": user, "email_verified": true})
	ok[map[string]any](t, r, "revoke")
	checkFields(t, "refresh after revoke", failed(t, r, "refresh_revoked"), map[string]any{
		"statusCode": 403, "cause_error": "invalid_grant", "cause_error_description": "Unknown or invalid refresh token.",
	})
}

// TestNodeOpenIDClient drives openid-client v6, a strict certified OpenID Connect relying party,
// with signature checks of every ID token on, and jose's jwtVerify as an API would check the
// access token.
func TestNodeOpenIDClient(t *testing.T) {
	const user = "judy@example.com"
	r := runNode(t, "openid-client.mjs", user)
	disc := ok[struct {
		Metadata map[string]any `json:"metadata"`
	}](t, r, "discovery")
	checkFields(t, "discovery", disc.Metadata, map[string]any{
		"issuer":              srv.issuer,
		"token_endpoint":      srv.url("/oauth/token"),
		"userinfo_endpoint":   srv.url("/userinfo"),
		"jwks_uri":            srv.url("/.well-known/jwks.json"),
		"revocation_endpoint": srv.url("/oauth/revoke"),
	})
	type tokens struct {
		TokenType       string         `json:"token_type"`
		Scope           string         `json:"scope"`
		ExpiresIn       int            `json:"expires_in"`
		HasRefreshToken bool           `json:"has_refresh_token"`
		Claims          map[string]any `json:"claims"`
		IDTokenHeader   map[string]any `json:"id_token_header"`
	}
	for _, tc := range []struct {
		step, aud, alg string
		refresh        bool
	}{
		{"password", clientID, "RS256", true},
		{"password_realm", clientID, "RS256", true},
		{"refresh", clientID, "RS256", true},
		{"client_secret_basic", clientID, "RS256", true},
		{"private_key_jwt", jwtClientID, "RS256", true},
		{"hs256_id_token", hs256ClientID, "HS256", false},
		{"public_client", publicClientID, "RS256", false},
	} {
		got := ok[tokens](t, r, tc.step)
		if !strings.EqualFold(got.TokenType, "Bearer") || got.ExpiresIn <= 0 {
			t.Errorf("%s: got token_type %q expires_in %d, want bearer, > 0", tc.step, got.TokenType, got.ExpiresIn)
		}
		if tc.refresh && !got.HasRefreshToken {
			t.Errorf("%s: got no refresh token, want one (offline_access)", tc.step)
		}
		checkIDTokenClaims(t, tc.step+" id_token", got.Claims, tc.aud, user)
		checkFields(t, tc.step+" id_token header", got.IDTokenHeader, map[string]any{"alg": tc.alg})
	}
	checkFields(t, "wrong password", failed(t, r, "wrong_password"), map[string]any{
		"name": "ResponseBodyError", "status": 403, "error": "invalid_grant", "error_description": wrongDesc,
	})
	checkFields(t, "oauth-authorization-server discovery", ok[map[string]any](t, r, "oauth2_discovery"), map[string]any{
		"issuer": srv.issuer, "token_endpoint": srv.url("/oauth/token"),
	})
	// A refresh asking for fewer scopes gets exactly those.
	if got := ok[tokens](t, r, "refresh_narrower_scope"); got.Scope != "openid read:data" {
		t.Errorf("refresh with scope %q: got scope %q, want it", "openid read:data", got.Scope)
	}
	// RFC 6749 §5.2: a failed HTTP Basic client authentication is a 401 with a Basic challenge,
	// and the OAuth error stays in the body.
	wrong := failed(t, r, "client_secret_basic_wrong")
	checkFields(t, "wrong Basic client secret", wrong, map[string]any{
		"status": 401, "body_error": "access_denied", "body_error_description": "Unauthorized",
	})
	if challenges := fmt.Sprint(wrong["challenges"]); !strings.Contains(challenges, "scheme:basic") {
		t.Errorf("wrong Basic client secret: got challenges %s, want a basic one", challenges)
	}
	at := ok[jwtParts](t, r, "verify_access_token")
	checkFields(t, "jwtVerify(access_token)", at.Claims, map[string]any{"iss": srv.issuer, "azp": clientID, "gty": "password"})
	if !slices.Contains(audiences(at.Claims), apiID) {
		t.Errorf("jwtVerify(access_token): got aud %v, want it to contain %s", at.Claims["aud"], apiID)
	}
	id := ok[jwtParts](t, r, "verify_id_token")
	checkIDTokenClaims(t, "jwtVerify(id_token)", id.Claims, clientID, user)
	info := ok[struct {
		UserInfo map[string]any `json:"userinfo"`
	}](t, r, "userinfo")
	checkFields(t, "userinfo", info.UserInfo, map[string]any{"email": user, "email_verified": true})

	// A bad bearer token: RFC 6750 §3 challenge, which openid-client parses from WWW-Authenticate.
	bad := failed(t, r, "userinfo_bad_token")
	checkFields(t, "userinfo with a bad token", bad, map[string]any{"name": "WWWAuthenticateChallengeError", "status": 401})
	if challenges := fmt.Sprint(bad["challenges"]); !strings.Contains(challenges, "scheme:bearer") || !strings.Contains(challenges, "error:invalid_token") {
		t.Errorf("userinfo with a bad token: got challenges %s, want bearer with error invalid_token", challenges)
	}
	introspect := ok[map[string]any](t, r, "introspect")
	checkFields(t, "introspect", introspect, map[string]any{"active": true, "client_id": clientID})
	ok[map[string]any](t, r, "revoke")
	checkFields(t, "refresh after revoke", failed(t, r, "refresh_revoked"), map[string]any{
		"status": 403, "error": "invalid_grant", "error_description": "Unknown or invalid refresh token.",
	})
}

// TestNodeExpressJWTBearer guards a small API with express-oauth2-jwt-bearer, Auth0's
// middleware for Node.js APIs, once per access-token signing algorithm and dialect: it learns
// the issuer and JWKS by discovery and takes its list of allowed algorithms from there.
func TestNodeExpressJWTBearer(t *testing.T) {
	type api struct {
		Name     string `json:"name"`
		Audience string `json:"audience"`
		Strict   bool   `json:"strict,omitempty"`
		Secret   string `json:"secret,omitempty"`
		Alg      string `json:"alg,omitempty"`
	}
	apis := []api{{Name: "rs256", Audience: apiID}}
	for _, a := range nodeAPIs {
		apis = append(apis, api{Name: a.name, Audience: a.identifier, Strict: a.strict, Secret: a.secret, Alg: a.alg})
	}
	list, err := json.Marshal(apis)
	if err != nil {
		t.Fatal(err)
	}
	r := runNode(t, "api.cjs", "mike@example.com", "SESAME_APIS="+string(list))
	type response struct {
		Status          int            `json:"status"`
		WWWAuthenticate string         `json:"www_authenticate"`
		Body            map[string]any `json:"body"`
	}
	for _, a := range apis {
		t.Run(a.Name, func(t *testing.T) {
			got := ok[response](t, r, a.Name+"/call")
			if got.Status != 200 {
				t.Fatalf("GET with the access token: got %d %v (WWW-Authenticate %q), want 200", got.Status, got.Body, got.WWWAuthenticate)
			}
			claims, _ := got.Body["claims"].(map[string]any)
			checkFields(t, "verified claims", claims, map[string]any{"iss": srv.issuer})
			if !slices.Contains(audiences(claims), a.Audience) {
				t.Errorf("verified claims: got aud %v, want it to contain %s", claims["aud"], a.Audience)
			}
			if got := ok[response](t, r, a.Name+"/insufficient_scope"); got.Status != 403 || !strings.Contains(got.WWWAuthenticate, `error="insufficient_scope"`) {
				t.Errorf("GET needing a scope the token lacks: got %d %q, want 403 insufficient_scope", got.Status, got.WWWAuthenticate)
			}
			if got := ok[response](t, r, a.Name+"/no_token"); got.Status != 401 {
				t.Errorf("GET without a token: got %d, want 401", got.Status)
			}
		})
	}
}

// TestNodeAuth0AuthJSMFA drives MFA inside the password flow with @auth0/auth0-auth-js's mfa
// client: mfa_required, enrolment, the OTP and recovery-code grants.
func TestNodeAuth0AuthJSMFA(t *testing.T) {
	r := runNode(t, "auth0-auth-js-mfa.mjs", nodeMFAUser)
	mfaRequired := map[string]any{
		"name": "TokenByPasswordError", "statusCode": 403, "mfa_token_present": true,
		"cause_error": "mfa_required", "cause_error_description": "Multifactor authentication required",
	}
	checkFields(t, "first login", failed(t, r, "login"), mfaRequired)
	type authenticators struct {
		List []map[string]any `json:"authenticators"`
	}
	if got := ok[authenticators](t, r, "list_before"); len(got.List) != 0 {
		t.Errorf("listAuthenticators before enrolment: got %v, want none", got.List)
	}
	enrol := ok[map[string]any](t, r, "enroll_otp")
	checkFields(t, "enrollAuthenticator(otp)", enrol, map[string]any{"authenticatorType": "otp", "has_secret": true, "recovery_codes": 1})
	if uri, _ := enrol["barcodeUri"].(string); !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Errorf("enrollAuthenticator(otp): got barcodeUri %q, want otpauth://totp/...", uri)
	}
	checkFields(t, "wrong otp", failed(t, r, "wrong_otp"), map[string]any{
		"name": "MfaVerifyError", "statusCode": 403, "cause_error": "invalid_grant", "cause_error_description": "Invalid otp_code.",
	})
	type tokens struct {
		Scope           string         `json:"scope"`
		HasRefreshToken bool           `json:"has_refresh_token"`
		HasRecoveryCode bool           `json:"has_new_recovery_code"`
		Claims          map[string]any `json:"claims"`
	}
	otp := ok[tokens](t, r, "verify_otp")
	checkIDTokenClaims(t, "mfa-otp id_token", otp.Claims, clientID, nodeMFAUser)
	if !otp.HasRefreshToken {
		t.Errorf("mfa-otp grant: got no refresh token, want one (offline_access)")
	}
	checkFields(t, "second login", failed(t, r, "login_again"), mfaRequired)
	var kinds []string
	for _, a := range ok[authenticators](t, r, "list_after").List {
		if a["active"] == true {
			kinds = append(kinds, fmt.Sprint(a["authenticatorType"]))
		}
	}
	if !slices.Contains(kinds, "otp") || !slices.Contains(kinds, "recovery-code") {
		t.Errorf("listAuthenticators after enrolment: got active %v, want otp and recovery-code", kinds)
	}
	checkFields(t, "challengeAuthenticator(otp)", ok[map[string]any](t, r, "challenge_otp"), map[string]any{"challengeType": "otp"})
	rc := ok[tokens](t, r, "verify_recovery_code")
	checkIDTokenClaims(t, "mfa-recovery-code id_token", rc.Claims, clientID, nodeMFAUser)
	if !rc.HasRecoveryCode {
		t.Errorf("mfa-recovery-code grant: got no new recovery code, want one (the used one is spent)")
	}
}

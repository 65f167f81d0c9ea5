package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/management"
	mgmtclient "github.com/auth0/go-auth0/v3/management/client"
	"github.com/auth0/go-auth0/v3/management/option"
	"go.yaml.in/yaml/v3"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Auth0's Deploy CLI (npm auth0-deploy-cli, pinned by deploycli/package-lock.json; .ci/run
// installs it with `npm ci`) manages a Sesame tenant exactly as it manages an Auth0 one.
const (
	deployCLIDir = "deploycli"
	// One import validates the whole tenant against the CLI's JSON schemas (about 20 s of one
	// core here) and sleeps a few seconds by design (a new connection, trigger bindings).
	deployCLITimeout = 5 * time.Minute

	deployClientID     = "deploy-cli-client-00000000000001"
	deployClientSecret = "deploy-cli-secret-0123456789abcdef0123456789abcd"
	deployUserPassword = "Deployed Tenant Password 7"
)

// deployBootstrapYAML is the tenant before the import: the client the Deploy CLI
// authenticates as (its client grant, every management scope, is added with the CLI), and
// more clients, APIs, client grants and databases than one page of each list the CLI reads
// (offset pages of 100 for clients and APIs, checkpoint pages of 50 for client grants and
// connections), so that an export holds them all only if the CLI could page through them.
func deployBootstrapYAML() string {
	var b strings.Builder
	b.WriteString(`clients:
  - name: Deploy CLI
    client_id: ` + deployClientID + `
    client_secret: ` + deployClientSecret + `
    app_type: non_interactive
    grant_types: [client_credentials]
`)
	for i := range deployBulkAPIs {
		fmt.Fprintf(&b, "  - {name: Bulk Client %03d, app_type: non_interactive, grant_types: [client_credentials]}\n", i)
	}
	b.WriteString("resourceServers:\n")
	for i := range deployBulkAPIs {
		fmt.Fprintf(&b, "  - {name: Bulk API %03d, identifier: \"https://bulk-%03d.deploy.test\", scopes: [{value: read:bulk}]}\n", i, i)
	}
	b.WriteString("clientGrants:\n")
	for i := range deployBulkGrants {
		fmt.Fprintf(&b, "  - {client_id: Bulk Client %03d, audience: \"https://bulk-%03d.deploy.test\", scope: [read:bulk]}\n", i, i)
	}
	// The CLI's schema fills in options.disable_self_service_change_password (false) on every
	// database it imports; the bulk ones carry it already, so that the re-import below
	// changes nothing.
	b.WriteString("databases:\n")
	for i := range deployBulkGrants {
		fmt.Fprintf(&b, "  - {name: bulk-%03d, strategy: auth0, enabled_clients: [Bulk Client %03d], options: {disable_self_service_change_password: false}}\n", i, i)
	}
	return b.String()
}

// The bulk records of deployBootstrapYAML: one more than a page of each.
const (
	deployBulkAPIs   = 101 // and as many clients
	deployBulkGrants = 51  // and as many databases
)

// deployTenantYAML is the tenant the CLI imports, in its own YAML layout, as a team exports it
// from an Auth0 tenant: with Auth0's fields that Sesame has no use for (logo_uri, session
// lifetimes, SSO flags…) and the sections of resource types Sesame does not have, empty. Its
// Action and Rule add claims, so a login proves they were deployed and bound; code lives in
// files beside the YAML, as the CLI writes them.
const deployTenantYAML = `tenant:
  friendly_name: Deployed Tenant
  default_directory: deploy-users
  default_audience: https://api.deploy.test
  enabled_locales: [en]
  flags: {enable_sso: true, universal_login: true, disable_impersonation: true, revoke_refresh_token_grant: false}
  picture_url: https://deploy.test/logo.png
  support_email: support@deploy.test
  support_url: https://deploy.test/support
  session_lifetime: 168
  idle_session_lifetime: 72
  sandbox_version: '18'
  default_redirection_uri: https://deploy.test/
  session_cookie: {mode: persistent}
clients:
  - name: Deploy App
    app_type: regular_web
    token_endpoint_auth_method: client_secret_post
    grant_types: [password, "http://auth0.com/oauth/grant-type/password-realm", refresh_token]
    callbacks: [https://deploy.test/callback]
    jwt_configuration: {alg: RS256, lifetime_in_seconds: 3600, secret_encoded: false}
    allowed_clients: []
    allowed_logout_urls: []
    client_aliases: []
    cross_origin_authentication: false
    custom_login_page_on: true
    initiate_login_uri: https://deploy.test/login
    is_first_party: true
    logo_uri: https://deploy.test/logo.png
    native_social_login: {apple: {enabled: false}, facebook: {enabled: false}}
    oidc_conformant: true
    oidc_logout: {backchannel_logout_urls: []}
    organization_require_behavior: no_prompt
    organization_usage: deny
    require_proof_of_possession: false
    sso_disabled: false
  - name: Deploy Worker
    app_type: non_interactive
    grant_types: [client_credentials]
databases:
  - name: deploy-users
    strategy: auth0
    enabled_clients: [Deploy App]
    is_domain_connection: false
    options:
      passwordPolicy: good
      brute_force_protection: true
      mfa: {active: true, return_enroll_settings: true}
      import_mode: false
      disable_signup: false
      password_history: {size: 5, enable: false}
      password_dictionary: {enable: false, dictionary: []}
      password_no_personal_info: {enable: false}
      password_complexity_options: {min_length: 8}
      strategy_version: 2
      requires_username: false
      enabledDatabaseCustomization: false
resourceServers:
  - name: Deploy API
    identifier: https://api.deploy.test
    allow_offline_access: true
    token_lifetime: 7200
    signing_alg: RS256
    scopes:
      - {value: read:things, description: Read things}
      - {value: write:things, description: Write things}
clientGrants:
  - client_id: Deploy Worker
    audience: https://api.deploy.test
    scope: [read:things]
actions:
  - name: stamp
    code: ./actions/stamp/code.js
    runtime: node18
    deployed: true
    dependencies: []
    secrets: []
    supported_triggers: [{id: post-login, version: v3}]
triggers:
  post-login:
    - {action_name: stamp, display_name: stamp}
rules:
  - name: mark
    script: ./rules/mark.js
    stage: login_success
    enabled: true
    order: 1
attackProtection:
  bruteForceProtection:
    enabled: true
    shields: [block]
    mode: count_per_identifier_and_ip
    allowlist: []
    max_attempts: 7
  suspiciousIpThrottling:
    enabled: true
    shields: [block]
    allowlist: []
    stage:
      pre-login: {max_attempts: 90, rate: 960000}
      pre-user-registration: {max_attempts: 40, rate: 2160000}
  breachedPasswordDetection:
    enabled: false
    shields: []
    admin_notification_frequency: []
    method: standard
guardianFactors:
  - {name: otp, enabled: true}
  - {name: recovery-code, enabled: true}
  - {name: sms, enabled: false}
guardianPolicies:
  policies: []
guardianPhoneFactorMessageTypes:
  message_types: []
guardianPhoneFactorSelectedProvider:
  provider: auth0
guardianFactorProviders: []
guardianFactorTemplates: []
rulesConfigs: []
hooks: []
pages: []
emailTemplates: []
branding:
  templates: []
` + deployExcludedYAML

// deployExcludedYAML holds the sections of an Auth0 export whose types Sesame does not have and
// whose empty section the CLI still reads on import (it would stop at Sesame's 403): a
// migration names them in AUTH0_EXCLUDED (deployExcluded), as docs/deploy.md says.
const deployExcludedYAML = `customDomains: []
themes: []
roles: []
organizations: []
logStreams: []
prompts:
  customText: {}
  universal_login_experience: new
  identifier_first: false
`

// deployExcluded is AUTH0_EXCLUDED for deployExcludedYAML's sections.
const deployExcluded = `["customDomains","themes","roles","organizations","logStreams","prompts"]`

const (
	deployActionCode = `exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://deploy.test/action', 'stamp');
};
`
	deployRuleScript = `function mark(user, context, callback) {
  context.accessToken['https://deploy.test/rule'] = 'mark';
  callback(null, user, context);
}
`
)

// TestDeployCLI imports a tenant with the real Deploy CLI (a0deploy) into a fresh server,
// exports it, imports the export again (nothing changes: a second export is identical), and
// then logs in to the imported tenant: a user created with go-auth0 in the imported database
// gets a token for the imported API that the imported Action and Rule have stamped.
//
// It runs its own server: an import replaces tenant-wide settings (trigger bindings, attack
// protection, MFA factors, the default directory) that the shared server's tests rely on.
func TestDeployCLI(t *testing.T) {
	t.Parallel()
	nodeBin, cli := deployCLI(t)
	d := startTenantServer(t, deployBootstrapYAML())
	grantAllManagementScopes(t, d, deployClientID)

	// run runs the CLI with the server's environment, env (KEY=VALUE) and args, and returns
	// its output; it must exit 0.
	run := func(env []string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), deployCLITimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, nodeBin, append([]string{cli}, args...)...)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(),
			// The Deploy CLI always speaks https:// to AUTH0_DOMAIN; Node.js trusts the test
			// server's self-signed certificate through NODE_EXTRA_CA_CERTS.
			"NODE_EXTRA_CA_CERTS="+d.certFile,
			"AUTH0_DOMAIN="+d.hostPort,
			"AUTH0_CLIENT_ID="+deployClientID,
			"AUTH0_CLIENT_SECRET="+deployClientSecret,
			"NO_COLOR=1",
		)
		cmd.Env = append(cmd.Env, env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		t.Logf("a0deploy %s took %s", args[0], time.Since(start).Round(100*time.Millisecond))
		if err != nil {
			t.Fatalf("a0deploy %s: %v, want exit status 0\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}

	src := t.TempDir()
	writeFiles(t, src, map[string]string{
		"tenant.yaml":           deployTenantYAML,
		"actions/stamp/code.js": deployActionCode,
		"rules/mark.js":         deployRuleScript,
	})
	// What a migration from Auth0 sets: no deletes, and the types Sesame lacks excluded.
	migrate := []string{"AUTH0_ALLOW_DELETE=false", "AUTH0_EXCLUDED=" + deployExcluded}
	out := run(migrate, "import", "--input_file", filepath.Join(src, "tenant.yaml"))
	for _, want := range []string{"Created [clients]", "Created [databases]", "Created [resourceServers]",
		"Created [clientGrants]", "Created [actions]", "Deployed [actions]", "Updated [triggers]",
		"Created [rules]", "Updated [attackProtection]", "Updated [guardianFactors]", "Updated [tenant]",
		"Import Successful"} {
		if !strings.Contains(out, want) {
			t.Errorf("first import: output lacks %q:\n%s", want, out)
		}
	}

	first := filepath.Join(t.TempDir(), "first")
	out = run(nil, "export", "--format", "yaml", "--output_folder", first)
	// Types Sesame does not have are skipped cleanly (a warning naming a scope, or nothing),
	// never with an error the CLI prints as such.
	if strings.Contains(out, "ForbiddenError") || strings.Contains(out, "error:") {
		t.Errorf("export: the CLI reported an error:\n%s", out)
	}
	checkDeployExport(t, first)

	// The export imports back unchanged: the CLI PATCHes every matched resource (by client_id,
	// then name), and a second export is byte for byte the first.
	out = run(migrate, "import", "--input_file", filepath.Join(first, "tenant.yaml"))
	if strings.Contains(out, "Created [") || strings.Contains(out, "Deleted [") {
		t.Errorf("re-importing the export created or deleted something:\n%s", out)
	}
	second := filepath.Join(t.TempDir(), "second")
	run(nil, "export", "--format", "yaml", "--output_folder", second)
	if diff := diffTrees(t, first, second); diff != "" {
		t.Errorf("the export changed after re-importing it: %s", diff)
	}

	login := checkDeployedLogin(t, d)

	// A pipeline that deletes: with AUTH0_ALLOW_DELETE on, a file without the Rule and the
	// Action deletes both (the Action's binding with it), and logins lose their claims.
	gone := t.TempDir()
	writeFiles(t, gone, map[string]string{"tenant.yaml": "rules: []\nactions: []\ntriggers: {}\n"})
	out = run([]string{"AUTH0_ALLOW_DELETE=true", `AUTH0_INCLUDED_ONLY=["rules","actions","triggers"]`},
		"import", "--input_file", filepath.Join(gone, "tenant.yaml"))
	for _, want := range []string{"Deleted [rules]", "Deleted [actions]", "Import Successful"} {
		if !strings.Contains(out, want) {
			t.Errorf("deleting import: output lacks %q:\n%s", want, out)
		}
	}
	var claims map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if claims = login(); claims["https://deploy.test/action"] == nil && claims["https://deploy.test/rule"] == nil {
			break
		}
	}
	if claims["https://deploy.test/action"] != nil || claims["https://deploy.test/rule"] != nil {
		t.Errorf("after deleting the Action and the Rule, a login still gets their claims: %v", claims)
	}
}

// deployCLI returns the node binary and the Deploy CLI's entry point, skipping the test when
// either is missing (CI installs both).
func deployCLI(t *testing.T) (nodeBin, cli string) {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found in PATH: install Node.js 20.19+ to run the Deploy CLI test")
	}
	if v, ok := nodeVersionOK(nodeBin); !ok {
		t.Skipf("node %s is too old: auth0-deploy-cli 8 needs Node.js 20.19+", v)
	}
	cli, err = filepath.Abs(filepath.Join(deployCLIDir, "node_modules", "auth0-deploy-cli", "lib", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("%s/node_modules is missing: run `npm ci` in compat/%s to run the Deploy CLI test", deployCLIDir, deployCLIDir)
	}
	return nodeBin, cli
}

// startTenantServer starts a server of its own (the shared binary, a fresh database) with
// tenant applied, stopped when the test ends.
func startTenantServer(t *testing.T, tenant string) *sesameServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "sesame-compat-tenant-")
	if err != nil {
		t.Fatal(err)
	}
	s := &sesameServer{dir: dir, bin: srv.bin, logs: &lockedBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- sesame serve output (%s) ---\n%s", s.hostPort, s.logs.String())
		}
		s.stop()
	})
	if err := s.launch(tenant); err != nil {
		t.Fatalf("starting a second server: %v\n%s", err, s.logs.String())
	}
	return s
}

// grantAllManagementScopes gives clientID a client grant for the Management API with every
// scope it defines, with the CLI, as an operator sets up a deployment pipeline's client.
func grantAllManagementScopes(t *testing.T, s *sesameServer, clientID string) {
	t.Helper()
	out, err := s.command(t.Context(), "apis", "list", "--json").Output()
	if err != nil {
		t.Fatalf("sesame apis list: %v", err)
	}
	var apis []struct {
		Identifier string `json:"identifier"`
		Name       string `json:"name"`
		Scopes     []struct {
			Value string `json:"value"`
		} `json:"scopes"`
	}
	if err := json.Unmarshal(out, &apis); err != nil {
		t.Fatalf("sesame apis list --json: %v\n%s", err, out)
	}
	for _, a := range apis {
		if a.Name != "Auth0 Management API" {
			continue
		}
		var scopes []string
		for _, sc := range a.Scopes {
			scopes = append(scopes, sc.Value)
		}
		if out, err := s.command(t.Context(), "client-grants", "create", "--client-id", clientID,
			"--audience", a.Identifier, "--scope", strings.Join(scopes, ",")).CombinedOutput(); err != nil {
			t.Fatalf("sesame client-grants create: %v\n%s", err, out)
		}
		return
	}
	t.Fatalf("sesame apis list has no Auth0 Management API: %s", out)
}

// deployExport is the part of an exported tenant.yaml the test reads.
type deployExport struct {
	Tenant struct {
		FriendlyName     string `yaml:"friendly_name"`
		DefaultDirectory string `yaml:"default_directory"`
		DefaultAudience  string `yaml:"default_audience"`
	} `yaml:"tenant"`
	Clients []struct {
		Name       string   `yaml:"name"`
		AppType    string   `yaml:"app_type"`
		GrantTypes []string `yaml:"grant_types"`
		Secret     string   `yaml:"client_secret"`
		JWT        struct {
			Lifetime int `yaml:"lifetime_in_seconds"`
		} `yaml:"jwt_configuration"`
	} `yaml:"clients"`
	Databases []struct {
		Name           string         `yaml:"name"`
		Strategy       string         `yaml:"strategy"`
		EnabledClients []string       `yaml:"enabled_clients"`
		Options        map[string]any `yaml:"options"`
	} `yaml:"databases"`
	ResourceServers []struct {
		Name          string `yaml:"name"`
		Identifier    string `yaml:"identifier"`
		TokenLifetime int    `yaml:"token_lifetime"`
		Scopes        []struct {
			Value string `yaml:"value"`
		} `yaml:"scopes"`
	} `yaml:"resourceServers"`
	ClientGrants []struct {
		ClientID string   `yaml:"client_id"`
		Audience string   `yaml:"audience"`
		Scope    []string `yaml:"scope"`
	} `yaml:"clientGrants"`
	Actions []struct {
		Name     string `yaml:"name"`
		Code     string `yaml:"code"`
		Deployed bool   `yaml:"deployed"`
		Status   string `yaml:"status"`
		Triggers []struct {
			ID string `yaml:"id"`
		} `yaml:"supported_triggers"`
	} `yaml:"actions"`
	Triggers map[string][]struct {
		ActionName string `yaml:"action_name"`
	} `yaml:"triggers"`
	Rules []struct {
		Name    string `yaml:"name"`
		Script  string `yaml:"script"`
		Enabled bool   `yaml:"enabled"`
		Order   int    `yaml:"order"`
	} `yaml:"rules"`
	AttackProtection struct {
		BruteForce struct {
			Enabled     bool `yaml:"enabled"`
			MaxAttempts int  `yaml:"max_attempts"`
		} `yaml:"bruteForceProtection"`
		SuspiciousIP struct {
			Stage map[string]struct {
				MaxAttempts int `yaml:"max_attempts"`
			} `yaml:"stage"`
		} `yaml:"suspiciousIpThrottling"`
	} `yaml:"attackProtection"`
	GuardianFactors []struct {
		Name    string `yaml:"name"`
		Enabled bool   `yaml:"enabled"`
	} `yaml:"guardianFactors"`
	GuardianPolicies struct {
		Policies []string `yaml:"policies"`
	} `yaml:"guardianPolicies"`
}

// checkDeployExport reads the exported tenant.yaml and the code files beside it and checks that
// every resource type the import wrote came back as imported.
func checkDeployExport(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "tenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := yaml.Unmarshal(raw, &top); err != nil {
		t.Fatalf("exported tenant.yaml: %v", err)
	}
	for _, key := range []string{"tenant", "clients", "databases", "resourceServers", "clientGrants", "actions",
		"triggers", "rules", "rulesConfigs", "attackProtection", "guardianFactors", "guardianPolicies"} {
		if _, ok := top[key]; !ok {
			t.Errorf("exported tenant.yaml has no %s section", key)
		}
	}
	var e deployExport
	if err := yaml.Unmarshal(raw, &e); err != nil {
		t.Fatalf("exported tenant.yaml: %v", err)
	}
	if e.Tenant.FriendlyName != "Deployed Tenant" || e.Tenant.DefaultDirectory != "deploy-users" || e.Tenant.DefaultAudience != "https://api.deploy.test" {
		t.Errorf("tenant: got %+v", e.Tenant)
	}

	// Every bulk record comes back: the CLI paged through each list.
	clients := map[string]int{}
	for i, c := range e.Clients {
		clients[c.Name] = i
		if c.Secret != "" {
			t.Errorf("client %s: the export carries its secret", c.Name)
		}
	}
	// The web console's own application ("Sesame Console") is a client of the tenant like
	// any other, made at the server's first start, so the export carries it.
	if want := 1 + 1 + deployBulkAPIs + 2; len(e.Clients) != want || len(clients) != want {
		t.Errorf("clients: got %d (%d names), want %d: the Deploy CLI's, the console's, the bulk ones and the two imported",
			len(e.Clients), len(clients), want)
	}
	if i, ok := clients["Deploy App"]; !ok {
		t.Errorf("clients: no Deploy App in %+v", e.Clients)
	} else if c := e.Clients[i]; c.AppType != "regular_web" || !slices.Contains(c.GrantTypes, "password") || c.JWT.Lifetime != 3600 {
		t.Errorf("Deploy App: got %+v", c)
	}
	if i, ok := clients["Deploy Worker"]; !ok || !slices.Equal(e.Clients[i].GrantTypes, []string{"client_credentials"}) {
		t.Errorf("clients: Deploy Worker missing or wrong in %+v", e.Clients)
	}

	dbs := map[string]int{}
	for i, db := range e.Databases {
		dbs[db.Name] = i
	}
	if want := deployBulkGrants + 1; len(e.Databases) != want || len(dbs) != want {
		t.Errorf("databases: got %d (%d names), want %d", len(e.Databases), len(dbs), want)
	}
	if i, ok := dbs["deploy-users"]; !ok {
		t.Errorf("databases: no deploy-users")
	} else if db := e.Databases[i]; db.Strategy != "auth0" || !slices.Equal(db.EnabledClients, []string{"Deploy App"}) || db.Options["passwordPolicy"] != "good" {
		t.Errorf("databases: got %+v, want deploy-users (auth0) enabled for Deploy App with passwordPolicy good", db)
	}
	// The bulk databases existed at the server's first start, which let the console's
	// application use every database there was; the export names it like any client.
	if i, ok := dbs["bulk-050"]; !ok || !slices.Equal(slices.Sorted(slices.Values(e.Databases[i].EnabledClients)), []string{"Bulk Client 050", "Sesame Console"}) {
		t.Errorf("databases: bulk-050 missing or not enabled for Bulk Client 050 and the console")
	} else {
		t.Logf("bulk-050 enabled for %v", e.Databases[i].EnabledClients)
	}

	// The Management API is Auth0's own resource server; the CLI leaves it out.
	apis := map[string]int{}
	for i, rs := range e.ResourceServers {
		apis[rs.Identifier] = i
	}
	if want := deployBulkAPIs + 1; len(e.ResourceServers) != want || len(apis) != want {
		t.Errorf("resourceServers: got %d (%d identifiers), want %d (the Management API left out)", len(e.ResourceServers), len(apis), want)
	}
	if i, ok := apis["https://api.deploy.test"]; !ok {
		t.Errorf("resourceServers: no Deploy API")
	} else if rs := e.ResourceServers[i]; rs.Name != "Deploy API" || rs.TokenLifetime != 7200 || len(rs.Scopes) != 2 {
		t.Errorf("resourceServers: got %+v, want Deploy API with two scopes and token_lifetime 7200", rs)
	}
	// Client grants name their client by name, as the CLI writes them; the Deploy CLI's own
	// grant for the Management API is left out.
	grants := map[string]int{}
	for i, g := range e.ClientGrants {
		grants[g.ClientID] = i
	}
	if want := deployBulkGrants + 1; len(e.ClientGrants) != want || len(grants) != want {
		t.Errorf("clientGrants: got %d (%d clients), want %d", len(e.ClientGrants), len(grants), want)
	}
	if i, ok := grants["Deploy Worker"]; !ok {
		t.Errorf("clientGrants: none for Deploy Worker")
	} else if g := e.ClientGrants[i]; g.Audience != "https://api.deploy.test" || !slices.Equal(g.Scope, []string{"read:things"}) {
		t.Errorf("clientGrants: got %+v for Deploy Worker", g)
	}

	if len(e.Actions) != 1 || e.Actions[0].Name != "stamp" || !e.Actions[0].Deployed || e.Actions[0].Status != "built" ||
		len(e.Actions[0].Triggers) != 1 || e.Actions[0].Triggers[0].ID != "post-login" {
		t.Errorf("actions: got %+v", e.Actions)
	} else {
		checkFile(t, dir, e.Actions[0].Code, deployActionCode)
	}
	if b := e.Triggers["post-login"]; len(b) != 1 || b[0].ActionName != "stamp" {
		t.Errorf("triggers: got %+v, want post-login bound to stamp", e.Triggers)
	}
	if len(e.Rules) != 1 || e.Rules[0].Name != "mark" || !e.Rules[0].Enabled || e.Rules[0].Order != 1 {
		t.Errorf("rules: got %+v", e.Rules)
	} else {
		checkFile(t, dir, e.Rules[0].Script, deployRuleScript)
	}

	if bf := e.AttackProtection.BruteForce; !bf.Enabled || bf.MaxAttempts != 7 {
		t.Errorf("attackProtection.bruteForceProtection: got %+v, want enabled with max_attempts 7", bf)
	}
	if st := e.AttackProtection.SuspiciousIP.Stage; st["pre-login"].MaxAttempts != 90 || st["pre-user-registration"].MaxAttempts != 40 {
		t.Errorf("attackProtection.suspiciousIpThrottling.stage: got %+v", st)
	}
	factors := map[string]bool{}
	for _, f := range e.GuardianFactors {
		factors[f.Name] = f.Enabled
	}
	if !factors["otp"] || !factors["recovery-code"] || factors["sms"] {
		t.Errorf("guardianFactors: got %+v, want otp and recovery-code on, sms off", e.GuardianFactors)
	}
	if e.GuardianPolicies.Policies == nil || len(e.GuardianPolicies.Policies) != 0 {
		t.Errorf("guardianPolicies: got %+v, want an empty list", e.GuardianPolicies)
	}
}

// checkDeployedLogin logs in to the imported tenant: a user created with go-auth0 in the
// imported database gets, through the imported client, a token for the tenant's default
// audience (the imported API) that the imported Action and Rule stamped; the imported client
// grant gives the worker a machine token. It returns a function that logs in again and
// returns the access token's claims.
func checkDeployedLogin(t *testing.T, d *sesameServer) (login func() map[string]any) {
	t.Helper()
	ctx := t.Context()
	m, err := mgmtclient.New(d.hostPort, option.WithHTTPClient(d.httpClient()),
		option.WithClientCredentials(context.WithValue(ctx, oauth2.HTTPClient, d.httpClient()), deployClientID, deployClientSecret),
		option.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	if _, err := m.Users.Create(ctx, &management.CreateUserRequestContent{Connection: "deploy-users",
		Email: str("deployed@example.com"), Password: str(deployUserPassword)}); err != nil {
		t.Fatalf("Users.Create in the imported database: %v", err)
	}
	// The server made the imported clients' secrets and keeps only their hashes; the CLI does
	// not export them. An operator rotates a secret to hand it to the app.
	ids := map[string]string{}
	page, err := m.Clients.List(ctx, &management.ListClientsRequestParameters{})
	if err != nil {
		t.Fatalf("Clients.List: %v", err)
	}
	for it := page.Iterator(); it.Next(ctx); {
		ids[it.Current().GetName()] = it.Current().GetClientID()
	}
	secret := func(name string) [2]string {
		rotated, err := m.Clients.RotateSecret(ctx, ids[name])
		if err != nil || rotated.GetClientSecret() == "" {
			t.Fatalf("Clients.RotateSecret(%s %q): %v", name, ids[name], err)
		}
		return [2]string{ids[name], rotated.GetClientSecret()}
	}
	app, worker := secret("Deploy App"), secret("Deploy Worker")

	httpCtx := context.WithValue(ctx, oauth2.HTTPClient, d.httpClient())
	conf := &oauth2.Config{ClientID: app[0], ClientSecret: app[1],
		Endpoint: oauth2.Endpoint{TokenURL: d.url("/oauth/token"), AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := conf.PasswordCredentialsToken(httpCtx, "deployed@example.com", deployUserPassword)
	if err != nil {
		t.Fatalf("password grant against the imported tenant: %v", err)
	}
	login = func() map[string]any {
		t.Helper()
		tok, err := conf.PasswordCredentialsToken(httpCtx, "deployed@example.com", deployUserPassword)
		if err != nil {
			t.Fatalf("password grant against the imported tenant: %v", err)
		}
		_, claims := decodeJWT(t, tok.AccessToken)
		return claims
	}
	_, claims := decodeJWT(t, tok.AccessToken)
	want := map[string]any{"iss": d.issuer, "aud": "https://api.deploy.test", "azp": app[0], "gty": "password",
		"https://deploy.test/action": "stamp", "https://deploy.test/rule": "mark"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("access token claim %s: got %v, want %v (claims %v)", k, claims[k], v, claims)
		}
	}
	if until := time.Until(tok.Expiry); until < 7100*time.Second || until > 7300*time.Second {
		t.Errorf("access token expires in %s, want the imported API's token_lifetime (7200 s)", until)
	}

	cc := clientcredentials.Config{ClientID: worker[0], ClientSecret: worker[1], TokenURL: d.url("/oauth/token"),
		EndpointParams: map[string][]string{"audience": {"https://api.deploy.test"}}}
	mt, err := cc.Token(httpCtx)
	if err != nil {
		t.Fatalf("client credentials for the imported worker: %v", err)
	}
	if mt.Extra("scope") != "read:things" {
		t.Errorf("worker token scope: got %v, want the imported grant's read:things", mt.Extra("scope"))
	}
	return login
}

// writeFiles writes files (relative path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkFile checks that the file rel (as the export names it, "./rules/x.js") under dir holds want.
func checkFile(t *testing.T, dir, rel, want string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Errorf("exported file %s: %v", rel, err)
		return
	}
	if string(got) != want {
		t.Errorf("exported file %s:\ngot  %q\nwant %q", rel, got, want)
	}
}

// diffTrees describes how the files under a and b differ ("" when they are the same).
func diffTrees(t *testing.T, a, b string) string {
	t.Helper()
	read := func(root string) map[string]string {
		files := map[string]string{}
		err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			body, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files[rel] = string(body)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	fa, fb := read(a), read(b)
	var diffs []string
	for name, body := range fa {
		if other, ok := fb[name]; !ok {
			diffs = append(diffs, name+" is gone")
		} else if other != body {
			diffs = append(diffs, name+": "+firstDifference(body, other))
		}
	}
	for name := range fb {
		if _, ok := fa[name]; !ok {
			diffs = append(diffs, name+" is new")
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "\n")
}

// firstDifference shows where two texts first differ, with a few lines around it.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(la) && i < len(lb) && la[i] == lb[i] {
		i++
	}
	window := func(lines []string) string {
		from, to := max(0, i-3), min(len(lines), i+4)
		return strings.Join(lines[from:to], "\n")
	}
	return fmt.Sprintf("line %d\n--- before\n%s\n--- after\n%s", i+1, window(la), window(lb))
}

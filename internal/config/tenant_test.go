package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var updateTenantGolden = flag.Bool("update-tenant", false, "rewrite the tenant file golden files")

func ptr[T any](v T) *T { return &v }

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var te *TenantFileError
	if !errors.As(err, &te) {
		t.Fatalf("got error %T %v, want *TenantFileError", err, err)
	}
	out := make([]string, len(te.Problems))
	for i, p := range te.Problems {
		out[i] = p.String()
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateTenantGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-tenant to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestParseTenantFileExport(t *testing.T) {
	tf, err := LoadTenantFile(filepath.Join("testdata", "tenant_export.yaml"), TenantOptions{})
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if tf.BaseDir != "testdata" {
		t.Errorf("got BaseDir %q, want testdata", tf.BaseDir)
	}
	wantTenant := &TenantSettings{
		FriendlyName:            ptr("Acme"),
		DefaultDirectory:        ptr("Username-Password-Authentication"),
		DefaultAudience:         ptr("https://api.acme.test/orders"),
		RevokeRefreshTokenGrant: ptr(false),
	}
	if diff := cmp.Diff(wantTenant, tf.Tenant); diff != "" {
		t.Errorf("tenant (-want +got):\n%s", diff)
	}
	wantSPA := Client{
		Path: "clients[0]", Name: "Acme SPA", AppType: ptr("spa"),
		GrantTypes:                     []string{"authorization_code", "implicit", "refresh_token"},
		TokenEndpointAuthMethod:        ptr("none"),
		JWTConfiguration:               &JWTConfiguration{Alg: ptr("RS256"), LifetimeInSeconds: ptr(36000)},
		IsTokenEndpointIPHeaderTrusted: ptr(false),
		WebOrigins:                     []string{"http://localhost:3000"},
		RefreshToken: &RefreshTokenSettings{
			RotationType: ptr("rotating"), ExpirationType: ptr("expiring"), TokenLifetime: ptr(2592000),
			IdleTokenLifetime: ptr(1296000), InfiniteTokenLifetime: ptr(false),
			InfiniteIdleTokenLifetime: ptr(false), Leeway: ptr(0),
		},
	}
	if len(tf.Clients) != 3 {
		t.Fatalf("got %d clients, want 3", len(tf.Clients))
	}
	if diff := cmp.Diff(wantSPA, tf.Clients[0]); diff != "" {
		t.Errorf("clients[0] (-want +got):\n%s", diff)
	}
	if got := tf.Clients[1].ClientMetadata; !cmp.Equal(got, map[string]string{"team": "shop"}) {
		t.Errorf("got clients[1].client_metadata %v, want team=shop", got)
	}
	if got := tf.Clients[2].Credentials; len(got) != 1 || got[0].Name != "ci key" || !strings.HasPrefix(got[0].PEM, "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("got clients[2] credentials %+v, want the ci key", got)
	}
	if len(tf.Databases) != 1 || tf.Databases[0].Strategy != "auth0" ||
		!cmp.Equal(tf.Databases[0].EnabledClients, []string{"Acme SPA", "Acme Web"}) {
		t.Errorf("got databases %+v, want Username-Password-Authentication enabled for 2 clients", tf.Databases)
	}
	if got := tf.Databases[0].Options["password_complexity_options"]; !cmp.Equal(got, map[string]any{"min_length": int64(8)}) {
		t.Errorf("got options.password_complexity_options %#v, want min_length 8", got)
	}
	if len(tf.Connections) != 0 {
		t.Errorf("got %d auth0 connections from the connections section, want 0 (google-oauth2 is ignored)", len(tf.Connections))
	}
	wantAPI := ResourceServer{
		Path: "resourceServers[0]", Name: "Orders API", Identifier: "https://api.acme.test/orders",
		Scopes:     []Scope{{"read:orders", "Read orders"}, {"write:orders", "Create and change orders"}},
		SigningAlg: ptr("RS256"), AllowOfflineAccess: ptr(true), TokenLifetime: ptr(86400),
		TokenDialect: ptr("access_token_authz"), EnforcePolicies: ptr(true),
	}
	if diff := cmp.Diff([]ResourceServer{wantAPI}, tf.ResourceServers); diff != "" {
		t.Errorf("resourceServers (-want +got):\n%s", diff)
	}
	wantGrants := []ClientGrant{{Path: "clientGrants[0]", ClientID: "Acme M2M", Audience: "https://api.acme.test/orders", Scope: []string{"read:orders"}}}
	if diff := cmp.Diff(wantGrants, tf.ClientGrants); diff != "" {
		t.Errorf("clientGrants (-want +got):\n%s", diff)
	}
	if len(tf.Users) != 2 || tf.Users[0].Password != "correct horse battery staple" || tf.Users[1].Username != "bob" {
		t.Errorf("got users %+v, want alice and bob", tf.Users)
	}
	wantRules := []Rule{{Name: "Add country to the token", Script: "./rules/Add country to the token.js", Stage: "login_success", Order: ptr(1), Enabled: ptr(true)}}
	if diff := cmp.Diff(wantRules, tf.Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if len(tf.Unknown) != 0 {
		t.Errorf("got unknown keys %q, want none", tf.Unknown)
	}
	golden(t, "tenant_export.ignored.golden", strings.Join(tf.Ignored, "\n")+"\n")
}

func TestParseTenantFileProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "wrong types",
			yaml: `
tenant: [a]
clients:
  - name: [x]
    grant_types: password
    is_token_endpoint_ip_header_trusted: "yes"
    jwt_configuration: {lifetime_in_seconds: soon}
    client_metadata: {a: {b: c}}
resourceServers: {identifier: x}
users:
  - {connection: db, email: a@x.test, blocked: 1, app_metadata: [1]}`,
			want: []string{
				"tenant: must be a mapping, got a list",
				"clients[0].name: must be a string, got a list",
				`clients[0].grant_types: must be a list of strings, got "password"`,
				`clients[0].is_token_endpoint_ip_header_trusted: must be true or false, got "yes"`,
				`clients[0].jwt_configuration.lifetime_in_seconds: must be an integer, got "soon"`,
				"clients[0].client_metadata.a: must be a string, got a mapping",
				"resourceServers: must be a list, got a mapping",
				"users[0].blocked: must be true or false, got a number",
				"users[0].app_metadata: must be a mapping, got a list",
			},
		},
		{
			name: "duplicate keys",
			yaml: `
clients:
  - {name: a, name: b}`,
			want: []string{"clients[0].name: duplicate key"},
		},
		{
			name: "not yaml",
			yaml: "clients: [",
			want: []string{"line 1: did not find expected node content"},
		},
		{
			name: "top level is a list",
			yaml: "- a",
			want: []string{"must be a mapping, got a list"},
		},
		{
			name: "empty file is fine",
			yaml: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTenantFile([]byte(tt.yaml), TenantOptions{})
			if diff := cmp.Diff(tt.want, problemsOf(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseClientGrantsSubjectType(t *testing.T) {
	tf, err := ParseTenantFile([]byte(`
clientGrants:
  - {client_id: a, audience: "https://api", subject_type: client, scope: [read]}
  - {client_id: a, audience: "https://other", subject_type: user, organization_usage: allow}`), TenantOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ClientGrant{{Path: "clientGrants[0]", ClientID: "a", Audience: "https://api", Scope: []string{"read"}}}
	if diff := cmp.Diff(want, tf.ClientGrants); diff != "" {
		t.Errorf("client grants (-want +got):\n%s", diff)
	}
	// A grant for user flows (subject_type user) is no client-credentials grant: ignored whole.
	if diff := cmp.Diff([]string{`clientGrants[1]: subject_type "user" is not a client-credentials grant`}, tf.Ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
}

func TestTenantFileErrorText(t *testing.T) {
	yaml := `
clients:
  - {name: [a]}
resourceServers: {identifier: x}`
	_, err := LoadTenantFileFromBytesForTest(t, yaml)
	want := "tenant.yaml: clients[0].name: must be a string, got a list\n" +
		"tenant.yaml: resourceServers: must be a list, got a mapping"
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want\n%s", err, want)
	}
}

// LoadTenantFileFromBytesForTest writes yaml to a temp tenant.yaml, loads it, and trims the
// directory from the error's file name so that messages are stable.
func LoadTenantFileFromBytesForTest(t *testing.T, yaml string) (*TenantFile, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := LoadTenantFile(path, TenantOptions{})
	var te *TenantFileError
	if errors.As(err, &te) {
		if te.File != path {
			t.Errorf("got File %q, want %q", te.File, path)
		}
		te.File = "tenant.yaml"
	}
	if tf != nil && tf.BaseDir != dir {
		t.Errorf("got BaseDir %q, want %q", tf.BaseDir, dir)
	}
	return tf, err
}

func TestLoadTenantFileMissing(t *testing.T) {
	_, err := LoadTenantFile(filepath.Join(t.TempDir(), "nope.yaml"), TenantOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestParseTenantFileIgnoredAndUnknown(t *testing.T) {
	const file = `
pages: [{name: login, html: pages/login.html}]
emailTemplates: []
clientz: []
tenant:
  friendly_name: Acme
  support_url: https://acme.test/help
  flags: {revoke_refresh_token_grant: true, enable_pipeline2: true}
clients:
  - name: a
    callbacks: [https://a.test/cb]
    grant_type: [password]
    grant_types: [password, urn:ietf:params:oauth:grant-type:device_code]
    jwt_configuration: {alg: RS256, secret_encoded: false, lifetimeinseconds: 5}
connections:
  - {name: ad, strategy: waad}
resourceServers:
  - {identifier: https://a, signing_alg: RS256, signing_secret: abc, token_lifetime_for_web: 7200}
users:
  - {connection: db, email: a@x.test, pasword: x}`
	wantIgnored := []string{
		"pages",
		"tenant.support_url",
		"tenant.flags.enable_pipeline2",
		"clients[0].callbacks",
		`clients[0].grant_types[1]: grant type "urn:ietf:params:oauth:grant-type:device_code" is not served by Sesame`,
		"clients[0].jwt_configuration.secret_encoded",
		`connections[0]: strategy "waad" is not supported`,
		"resourceServers[0].token_lifetime_for_web",
		"resourceServers[0].signing_secret: only used with signing_alg HS256",
	}
	wantUnknown := []string{
		"clientz: unknown key (did you mean clients?)",
		"clients[0].grant_type: unknown key (did you mean grant_types?)",
		"clients[0].jwt_configuration.lifetimeinseconds: unknown key (did you mean lifetime_in_seconds?)",
		"users[0].pasword: unknown key (did you mean password?)",
	}
	tests := []struct {
		name     string
		strict   bool
		wantErrs []string
	}{
		{name: "lenient: warnings only"},
		{
			name:   "strict: every ignored or unknown key is an error",
			strict: true,
			wantErrs: []string{
				"pages: not applied by Sesame (strict mode)",
				"tenant.support_url: not applied by Sesame (strict mode)",
				"tenant.flags.enable_pipeline2: not applied by Sesame (strict mode)",
				"clients[0].callbacks: not applied by Sesame (strict mode)",
				`clients[0].grant_types[1]: grant type "urn:ietf:params:oauth:grant-type:device_code" is not served by Sesame, not applied by Sesame (strict mode)`,
				"clients[0].jwt_configuration.secret_encoded: not applied by Sesame (strict mode)",
				`connections[0]: strategy "waad" is not supported, not applied by Sesame (strict mode)`,
				"resourceServers[0].token_lifetime_for_web: not applied by Sesame (strict mode)",
				"resourceServers[0].signing_secret: only used with signing_alg HS256, not applied by Sesame (strict mode)",
				"clientz: unknown key (did you mean clients?)",
				"clients[0].grant_type: unknown key (did you mean grant_types?)",
				"clients[0].jwt_configuration.lifetimeinseconds: unknown key (did you mean lifetime_in_seconds?)",
				"users[0].pasword: unknown key (did you mean password?)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf, err := ParseTenantFile([]byte(file), TenantOptions{Strict: tt.strict})
			if diff := cmp.Diff(tt.wantErrs, problemsOf(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantIgnored, tf.Ignored); diff != "" {
				t.Errorf("Ignored (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantUnknown, tf.Unknown); diff != "" {
				t.Errorf("Unknown (-want +got):\n%s", diff)
			}
			if got := tf.Clients[0].GrantTypes; !cmp.Equal(got, []string{"password", "urn:ietf:params:oauth:grant-type:device_code"}) {
				t.Errorf("got grant types %q, want both kept (Apply drops the unserved one)", got)
			}
			if tf.ResourceServers[0].SigningSecret != "" {
				t.Errorf("got signing secret %q for an RS256 API, want it dropped", tf.ResourceServers[0].SigningSecret)
			}
			if got := tf.Tenant.RevokeRefreshTokenGrant; got == nil || !*got {
				t.Errorf("got revoke_refresh_token_grant %v, want true", got)
			}
		})
	}
}

func TestParseTenantFileKeywords(t *testing.T) {
	const file = `
tenant:
  friendly_name: "##COMPANY## Inc"
clients:
  - name: "##APP##"
    client_secret: @@SECRET@@
    description: "##UNSET##"`
	tests := []struct {
		name     string
		vars     map[string]string
		wantName string
		wantDesc string
		wantErr  bool
	}{
		{
			name:     "replaced",
			vars:     map[string]string{"COMPANY": "Acme", "APP": "Shop", "SECRET": `abc"def:#0123456789012345678901234567`},
			wantName: "Shop", wantDesc: "##UNSET##",
		},
		{
			name:    "no vars: markers stay and @@ is not YAML-safe",
			vars:    nil,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf, err := ParseTenantFile([]byte(file), TenantOptions{Vars: tt.vars})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got := *tf.Tenant.FriendlyName; got != "Acme Inc" {
				t.Errorf("got friendly_name %q, want %q", got, "Acme Inc")
			}
			c := tf.Clients[0]
			if c.Name != tt.wantName || *c.Description != tt.wantDesc || c.ClientSecret != tt.vars["SECRET"] {
				t.Errorf("got name %q description %q secret %q, want %q %q %q", c.Name, *c.Description, c.ClientSecret, tt.wantName, tt.wantDesc, tt.vars["SECRET"])
			}
		})
	}
}

func TestParseTenantFileAnchorsAndMerge(t *testing.T) {
	const file = `
x-base: &base
  app_type: regular_web
  grant_types: [password, refresh_token]
clients:
  - <<: *base
    name: a
  - <<: *base
    name: b
    app_type: non_interactive`
	tf, err := ParseTenantFile([]byte(file), TenantOptions{})
	// x-base is not a Deploy CLI key: it is reported, the anchors still work.
	if err != nil {
		t.Fatalf("got error %v", err)
	}
	if !cmp.Equal(tf.Unknown, []string{"x-base: unknown key"}) {
		t.Errorf("got unknown %q, want x-base", tf.Unknown)
	}
	if got := []string{*tf.Clients[0].AppType, *tf.Clients[1].AppType}; !cmp.Equal(got, []string{"regular_web", "non_interactive"}) {
		t.Errorf("got app types %q, want regular_web then the override", got)
	}
	if got := tf.Clients[1].GrantTypes; !cmp.Equal(got, []string{"password", "refresh_token"}) {
		t.Errorf("got grant types %q, want the merged ones", got)
	}
}

func TestParseTenantFileAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("databases:\n  - name: db\n    options: {bomb: *a8}\n")
	_, err := ParseTenantFile([]byte(b.String()), TenantOptions{})
	if got := problemsOf(t, err); !cmp.Equal(got, []string{"document too large or too deeply aliased"}) {
		t.Errorf("got %q, want the budget error", got)
	}
}

func TestParseTenantFileSelfReference(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "options containing themselves", yaml: "databases: [{name: x, options: &o {k: *o}}]",
			want: []string{"databases[0].options" + strings.Repeat(".k", 64) + ": nested more than 64 levels deep"}},
		{name: "merge of itself", yaml: "clients: [&c {name: a, <<: *c}]",
			want: []string{"clients[0]" + ": nested more than 64 levels deep"}},
		{name: "list containing itself", yaml: "clients: &c [*c]",
			want: []string{"clients[0]: must be a mapping, got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTenantFile([]byte(tt.yaml), TenantOptions{})
			if diff := cmp.Diff(tt.want, problemsOf(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseTenantFile(f *testing.F) {
	// A compact seed with every section: the full export in testdata works too, but the
	// fuzzer spends its time minimizing inputs that large.
	f.Add([]byte(`
tenant: {friendly_name: A, default_directory: db, default_audience: https://api, flags: {revoke_refresh_token_grant: true}}
clients:
  - {name: spa, app_type: spa, callbacks: [https://x], grant_types: [password, refresh_token],
     jwt_configuration: {alg: RS256, lifetime_in_seconds: 60},
     refresh_token: {rotation_type: rotating, expiration_type: expiring, token_lifetime: 100, idle_token_lifetime: 50, leeway: 0}}
  - {name: m2m, client_id: abc, client_secret: '##S##', app_type: non_interactive, grant_types: [client_credentials],
     client_authentication_methods: {private_key_jwt: {credentials: [{name: k, credential_type: public_key, pem: x}]}},
     client_metadata: {a: b}}
databases: [{name: db, enabled_clients: [spa], options: {mfa: {active: true}, n: 1.5}}]
connections: [{name: g, strategy: google-oauth2}]
resourceServers: [{identifier: https://api, scopes: [{value: read, description: R}], signing_alg: HS256, token_lifetime: 60}]
rules: [{name: r, script: ./r.js, enabled: true, order: 1}]
actions: [{name: a, code: ./a.js, supported_triggers: [{id: post-login, version: v3}]}]
triggers: {post-login: [{action_name: a, display_name: a}]}
pages: []
users: [{connection: db, email: a@x.test, password: pw, permissions: [{resource_server_identifier: https://api, permission_name: read}]}]
`), false)
	f.Add([]byte("clients:\n  - {name: a, grant_types: [pasword]}\n"), true)
	f.Add([]byte("a: &a [1]\nb: {<<: *a}\n"), false)
	f.Add([]byte("databases: [{name: x, options: &o {k: [*o]}}]"), false)
	f.Add([]byte("users: [{connection: db, email: a@b, password: '@@PW@@'}]"), false)
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		start := time.Now()
		tf, err := ParseTenantFile(data, TenantOptions{Strict: strict, Vars: map[string]string{"PW": "x"}})
		if el := time.Since(start); el > time.Second {
			t.Fatalf("took %v", el)
		}
		if tf == nil {
			t.Fatal("got a nil TenantFile")
		}
		if err != nil {
			var te *TenantFileError
			if !errors.As(err, &te) || len(te.Problems) == 0 {
				t.Fatalf("got %T %v, want a *TenantFileError with problems", err, err)
			}
		}
	})
}

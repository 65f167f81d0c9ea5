package admin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

var updateApplyGolden = flag.Bool("update-apply", false, "rewrite the apply golden files")

// applyService returns a Service over a fresh SQLite database, with cheap password hashing and
// a fixed clock.
func applyService(t *testing.T) *admin.Service {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return &admin.Service{
		Store:  st,
		Hasher: password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 2),
		Box:    box,
		Now:    func() time.Time { return now },
	}
}

func applyParse(t *testing.T, yaml string) *config.TenantFile {
	t.Helper()
	tf, err := config.ParseTenantFile([]byte(yaml), config.TenantOptions{})
	if err != nil {
		t.Fatalf("ParseTenantFile: %v", err)
	}
	return tf
}

func applyOK(t *testing.T, s *admin.Service, tf *config.TenantFile) *admin.ApplyReport {
	t.Helper()
	r, err := s.Apply(t.Context(), tf)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return r
}

func applyProblems(t *testing.T, err error) []string {
	t.Helper()
	var te *config.TenantFileError
	if !errors.As(err, &te) {
		t.Fatalf("got error %T %v, want *config.TenantFileError", err, err)
	}
	var out []string
	for _, p := range te.Problems {
		out = append(out, p.String())
	}
	return out
}

func clientByName(t *testing.T, s *admin.Service, name string) store.Client {
	t.Helper()
	cs, err := s.Store.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no stored client named %q", name)
	return store.Client{}
}

func TestApplyExport(t *testing.T) {
	s := applyService(t)
	tf, err := config.LoadTenantFile(filepath.Join("testdata", "apply_export.yaml"), config.TenantOptions{})
	if err != nil {
		t.Fatalf("LoadTenantFile: %v", err)
	}
	r := applyOK(t, s, tf)
	ctx := t.Context()

	spa, web, m2m := clientByName(t, s, "Acme SPA"), clientByName(t, s, "Acme Web"), clientByName(t, s, "Acme M2M")
	wantCreated := []string{
		`api "https://api.acme.test/orders"`,
		`client "Acme SPA" (` + spa.ClientID + `)`,
		`client "Acme Web" (` + web.ClientID + `)`,
		`client "Acme M2M" (` + m2m.ClientID + `)`,
		`connection "Username-Password-Authentication"`,
		`client grant "Acme M2M" for "https://api.acme.test/orders"`,
		`user "alice@acme.test" in Username-Password-Authentication`,
		`user "bob@acme.test" in Username-Password-Authentication`,
		`rule Add country to the token`,
	}
	if diff := cmp.Diff(wantCreated, r.Created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tenant settings", "MFA policy and factors"}, r.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tf.Ignored, r.Ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
	if slices.Contains(r.Ignored, "rules") {
		t.Errorf("got rules in ignored %q, want them applied", r.Ignored)
	}
	for _, want := range []string{"clients[0].callbacks", `connections[0]: strategy "google-oauth2" is not supported`, "pages"} {
		if want == "pages" { // empty sections are not worth reporting
			if slices.Contains(r.Ignored, want) {
				t.Errorf("got %q in ignored, want empty sections left out", want)
			}
			continue
		}
		if !slices.Contains(r.Ignored, want) {
			t.Errorf("got ignored %q, want it to hold %q", r.Ignored, want)
		}
	}
	// The two confidential clients without a secret in the file got generated ones.
	if len(r.GeneratedSecrets) != 2 {
		t.Fatalf("got %d generated secrets, want 2 (Acme Web, Acme M2M)", len(r.GeneratedSecrets))
	}
	for i, c := range []store.Client{web, m2m} {
		g := r.GeneratedSecrets[i]
		if g.Kind != "client" || g.ClientID != c.ClientID || g.Name != c.Name {
			t.Errorf("got generated secret %+v, want one for %s", g, c.Name)
		}
		if !password.VerifySecret(c.SecretHash, g.Secret) || strings.Contains(c.SecretHash, g.Secret) || c.SecretSealed != nil {
			t.Errorf("client %s: stored hash %q does not verify the reported secret, or the secret is stored", c.Name, c.SecretHash)
		}
	}
	if spa.SecretHash != "" || spa.TokenEndpointAuthMethod != "none" {
		t.Errorf("got SPA secret hash %q, auth method %q; want none", spa.SecretHash, spa.TokenEndpointAuthMethod)
	}
	if len(spa.ClientID) != 32 || !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(spa.ClientID) {
		t.Errorf("got client id %q, want 32 alphanumerics", spa.ClientID)
	}
	wantSPARefresh := store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring", TokenLifetime: 2592000, IdleTokenLifetime: 1296000}
	if diff := cmp.Diff(wantSPARefresh, spa.RefreshToken); diff != "" {
		t.Errorf("SPA refresh policy (-want +got):\n%s", diff)
	}
	if !slices.Equal(web.GrantTypes, []string{"password", "http://auth0.com/oauth/grant-type/password-realm", "refresh_token", "http://auth0.com/oauth/grant-type/mfa-otp"}) ||
		web.TokenEndpointAuthMethod != "client_secret_basic" || !web.IsTokenEndpointIPHeaderTrusted || web.IDTokenLifetime != 3600 ||
		web.Metadata["team"] != "shop" || web.Description != "The shop's server-side app" {
		t.Errorf("got web client %+v, want the file's settings", web)
	}
	if len(m2m.Credentials) != 1 || m2m.Credentials[0].Name != "ci key" || !strings.HasPrefix(m2m.Credentials[0].PEM, "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("got M2M credentials %+v, want the ci key", m2m.Credentials)
	}

	conn, err := s.Store.GetConnection(ctx, "Username-Password-Authentication")
	if err != nil {
		t.Fatal(err)
	}
	wantEnabled := []string{spa.ClientID, web.ClientID}
	slices.Sort(wantEnabled)
	if !slices.Equal(conn.EnabledClients, wantEnabled) || conn.Strategy != "auth0" || conn.Options["passwordPolicy"] != "good" {
		t.Errorf("got connection %+v, want auth0 enabled for the SPA and web clients by id", conn)
	}
	if _, err := s.Store.GetConnection(ctx, "google-oauth2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("got %v for the google-oauth2 connection, want ErrNotFound (it is ignored)", err)
	}
	api, err := s.Store.GetResourceServer(ctx, "https://api.acme.test/orders")
	if err != nil {
		t.Fatal(err)
	}
	if api.Name != "Orders API" || len(api.Scopes) != 2 || !api.AllowOfflineAccess || !api.EnforcePolicies || api.TokenDialect != "access_token_authz" || api.TokenLifetime != 86400 {
		t.Errorf("got API %+v, want the file's settings", api)
	}
	// The Deploy CLI names the client of a grant by its name; it is stored by id.
	grant, err := s.Store.FindClientGrant(ctx, m2m.ClientID, "https://api.acme.test/orders")
	if err != nil || !slices.Equal(grant.Scope, []string{"read:orders"}) {
		t.Errorf("got the M2M client's grant %+v (%v), want read:orders", grant, err)
	}
	alice, err := s.Store.FindUser(ctx, "Username-Password-Authentication", "alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := s.Hasher.(*password.Hasher).Verify(ctx, alice.PasswordHash, "Correct horse battery staple 1")
	if err != nil || !ok || !strings.HasPrefix(alice.PasswordHash, "$argon2id$") {
		t.Errorf("got alice's hash %q (verify %v, %v), want an argon2id hash of the file's password", alice.PasswordHash, ok, err)
	}
	if !regexp.MustCompile(`^auth0\|[0-9a-f]{24}$`).MatchString(alice.ID) || !alice.EmailVerified || alice.Name != "Alice Doe" ||
		alice.AppMetadata["plan"] != "gold" || !slices.Equal(alice.Permissions, []store.Permission{{ResourceServerIdentifier: "https://api.acme.test/orders", PermissionName: "read:orders"}}) {
		t.Errorf("got alice %+v, want the file's profile", alice)
	}
	bob, err := s.Store.FindUser(ctx, "Username-Password-Authentication", "bob")
	if err != nil || bob.PasswordHash != "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy" || bob.Nickname != "bob" {
		t.Errorf("got bob %+v (%v), want the imported bcrypt hash and Auth0's default nickname", bob, err)
	}
	tenant, err := s.Store.GetTenant(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tenant.FriendlyName != "Acme" || tenant.DefaultDirectory != "Username-Password-Authentication" || tenant.DefaultAudience != "https://api.acme.test/orders" || tenant.RevokeDeletesGrant {
		t.Errorf("got tenant %+v, want the file's settings", tenant)
	}

	// The report as printed, with the random ids and secrets normalised.
	var buf bytes.Buffer
	r.Write(&buf)
	text := buf.String()
	for i, c := range []store.Client{spa, web, m2m} {
		text = strings.ReplaceAll(text, c.ClientID, "<client_id "+string(rune('A'+i))+">")
	}
	for i, g := range r.GeneratedSecrets {
		text = strings.ReplaceAll(text, g.Secret, "<secret "+string(rune('A'+i))+">")
	}
	applyGolden(t, "apply_export.report.golden", text)

	// Applying the same file again changes nothing.
	again := applyOK(t, s, tf)
	if len(again.Created)+len(again.Changed) != 0 || len(again.GeneratedSecrets) != 0 || len(again.Unchanged) != 12 {
		t.Errorf("second apply: got created %q changed %q unchanged %d secrets %d, want 12 unchanged only",
			again.Created, again.Changed, len(again.Unchanged), len(again.GeneratedSecrets))
	}
}

func applyGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateApplyGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-apply to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// applyBase is a tenant file using every supported field; the change-detection cases edit it.
const applyBase = `
tenant:
  friendly_name: Acme
  default_directory: db
  default_audience: https://api
  flags: {revoke_refresh_token_grant: true}
resourceServers:
  - name: API
    identifier: https://api
    scopes: [{value: read, description: Read}, {value: write, description: Write}]
    signing_alg: RS256
    allow_offline_access: true
    token_lifetime: 3600
    token_dialect: rfc9068_profile
    enforce_policies: true
  - name: HS API
    identifier: https://hs
    signing_alg: HS256
    signing_secret: hs-secret-0123456789-0123456789-0123456789
  - name: HS API generated
    identifier: https://hs2
    signing_alg: HS256
clients:
  - name: App
    client_id: app0123456789
    client_secret: app-secret-0123456789-0123456789-0123456789
    description: The app
    app_type: regular_web
    grant_types: [password, refresh_token]
    token_endpoint_auth_method: client_secret_post
    jwt_configuration: {alg: HS256, lifetime_in_seconds: 600}
    refresh_token: {rotation_type: rotating, expiration_type: expiring, token_lifetime: 86400, idle_token_lifetime: 3600, leeway: 5}
    is_token_endpoint_ip_header_trusted: true
    client_metadata: {tier: gold}
  - name: Mobile
    app_type: native
    grant_types: [password, refresh_token]
databases:
  - name: db
    enabled_clients: [App, Mobile]
    options: {passwordPolicy: fair, password_complexity_options: {min_length: 10}, ratio: 1.5}
users:
  - connection: db
    email: alice@acme.test
    username: alice
    password: Secret-Passw0rd
    email_verified: true
    name: Alice
    nickname: al
    picture: https://acme.test/a.png
    given_name: Alice
    family_name: Doe
    app_metadata: {roles: [admin], level: 3}
    user_metadata: {lang: fr}
    blocked: false
    permissions: [{resource_server_identifier: https://api, permission_name: read}]
`

func TestApplyChangeDetection(t *testing.T) {
	allLabels := func(appID, mobileID string) []string {
		return []string{`api "https://api"`, `api "https://hs"`, `api "https://hs2"`,
			`client "App" (app0123456789)`, `client "Mobile" (` + mobileID + `)`,
			`connection "db"`, `user "alice@acme.test" in db`, "tenant settings"}
	}
	tests := []struct {
		name        string
		old, new    string // a line of applyBase and its replacement
		wantChanged string // label index in allLabels; "" = nothing
	}{
		{name: "same file", wantChanged: ""},
		{name: "api scope description", old: "description: Write}", new: "description: Write all}", wantChanged: `api "https://api"`},
		{name: "api signing secret", old: "signing_secret: hs-secret-0123456789-0123456789-0123456789", new: "signing_secret: hs-secret-9876543210-9876543210-9876543210", wantChanged: `api "https://hs"`},
		{name: "client secret", old: "client_secret: app-secret-0123456789-0123456789-0123456789", new: "client_secret: app-secret-9876543210-9876543210-9876543210", wantChanged: `client "App" (app0123456789)`},
		{name: "client refresh leeway", old: "leeway: 5}", new: "leeway: 6}", wantChanged: `client "App" (app0123456789)`},
		{name: "client metadata", old: "client_metadata: {tier: gold}", new: "client_metadata: {tier: silver}", wantChanged: `client "App" (app0123456789)`},
		{name: "connection options number", old: "ratio: 1.5}", new: "ratio: 2}", wantChanged: `connection "db"`},
		{name: "enabled clients order does not matter", old: "enabled_clients: [App, Mobile]", new: "enabled_clients: [Mobile, App]", wantChanged: ""},
		{name: "enabled clients", old: "enabled_clients: [App, Mobile]", new: "enabled_clients: [App]", wantChanged: `connection "db"`},
		{name: "user password", old: "password: Secret-Passw0rd", new: "password: Other-Passw0rd", wantChanged: `user "alice@acme.test" in db`},
		{name: "user metadata", old: "user_metadata: {lang: fr}", new: "user_metadata: {lang: de}", wantChanged: `user "alice@acme.test" in db`},
		{name: "user blocked", old: "blocked: false", new: "blocked: true", wantChanged: `user "alice@acme.test" in db`},
		{name: "tenant flag", old: "revoke_refresh_token_grant: true", new: "revoke_refresh_token_grant: false", wantChanged: "tenant settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := applyService(t)
			first := applyOK(t, s, applyParse(t, applyBase))
			mobile := clientByName(t, s, "Mobile")
			if len(first.GeneratedSecrets) != 1 || first.GeneratedSecrets[0].Identifier != "https://hs2" {
				t.Fatalf("got generated secrets %+v, want one for https://hs2", first.GeneratedSecrets)
			}
			edited := strings.Replace(applyBase, tt.old, tt.new, 1)
			if tt.old != "" && edited == applyBase {
				t.Fatalf("test bug: %q is not in the base file", tt.old)
			}
			r := applyOK(t, s, applyParse(t, edited))
			var wantChanged, wantUnchanged []string
			for _, l := range allLabels("app0123456789", mobile.ClientID) {
				if l == tt.wantChanged {
					wantChanged = append(wantChanged, l)
				} else {
					wantUnchanged = append(wantUnchanged, l)
				}
			}
			if diff := cmp.Diff(wantChanged, r.Changed); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantUnchanged, r.Unchanged); diff != "" {
				t.Errorf("unchanged (-want +got):\n%s", diff)
			}
			if len(r.Created) != 0 || len(r.GeneratedSecrets) != 0 {
				t.Errorf("got created %q, secrets %d; want none", r.Created, len(r.GeneratedSecrets))
			}
			// And the change is stable: a third apply changes nothing.
			if third := applyOK(t, s, applyParse(t, edited)); len(third.Changed) != 0 {
				t.Errorf("third apply: got changed %q, want none", third.Changed)
			}
		})
	}
}

func TestApplySecretsAtRest(t *testing.T) {
	s := applyService(t)
	r := applyOK(t, s, applyParse(t, applyBase))
	ctx := t.Context()
	const clientSecret = "app-secret-0123456789-0123456789-0123456789"
	app, err := s.Store.GetClient(ctx, "app0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if !password.VerifySecret(app.SecretHash, clientSecret) || strings.Contains(app.SecretHash, clientSecret) {
		t.Errorf("got client secret hash %q, want a hash that verifies the secret", app.SecretHash)
	}
	if bytes.Contains(app.SecretSealed, []byte(clientSecret)) {
		t.Errorf("the sealed client secret holds the plaintext")
	}
	if got, err := s.Box.Open(app.SecretSealed, store.ClientSecretAAD(app.ClientID)); err != nil || string(got) != clientSecret {
		t.Errorf("got sealed client secret %q (%v), want it to open to the file's secret", got, err)
	}
	for _, tt := range []struct{ identifier, secret string }{
		{"https://hs", "hs-secret-0123456789-0123456789-0123456789"},
		{"https://hs2", r.GeneratedSecrets[0].Secret},
	} {
		api, err := s.Store.GetResourceServer(ctx, tt.identifier)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(api.SigningSecretSealed, []byte(tt.secret)) {
			t.Errorf("%s: the sealed signing secret holds the plaintext", tt.identifier)
		}
		if got, err := s.Box.Open(api.SigningSecretSealed, store.APISecretAAD(tt.identifier)); err != nil || string(got) != tt.secret {
			t.Errorf("%s: got sealed signing secret %q (%v), want %q", tt.identifier, got, err, tt.secret)
		}
	}
	if len(r.GeneratedSecrets[0].Secret) < password.MinSecretLength {
		t.Errorf("got a generated secret of %d characters, want at least %d", len(r.GeneratedSecrets[0].Secret), password.MinSecretLength)
	}
}

func TestApplyProblems(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&small.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	tests := []struct {
		name  string
		setup string // applied first, successfully
		file  string
		want  []string
	}{
		{
			name: "file validation comes first",
			file: "clients: [{name: a, grant_types: [pasword]}]",
			want: []string{`clients[0].grant_types[0]: unknown grant type "pasword"`},
		},
		{
			name: "every reference problem at once",
			file: `
tenant: {default_directory: nope, default_audience: https://nope}
clients: [{name: a}]
databases: [{name: db, enabled_clients: [a, b]}]
resourceServers: [{identifier: https://api, scopes: [{value: read}]}]
users:
  - {connection: nodb, email: x@acme.test, password: Secret-Passw0rd}
  - connection: db
    email: y@acme.test
    password: weak
    permissions:
      - {resource_server_identifier: https://other, permission_name: read}
      - {resource_server_identifier: https://api, permission_name: write}
  - {connection: db, email: z@acme.test}
  - {connection: db, username: zed, password_hash: $md5$abc}`,
			want: []string{
				`databases[0].enabled_clients[1]: no client is named "b" or has that client_id`,
				`users[0].connection: no connection is named "nodb"`,
				"users[1].password: PasswordStrengthError: Password is too weak (policy fair: at least 8 characters)",
				`users[1].permissions[0].resource_server_identifier: no API has identifier "https://other"`,
				`users[1].permissions[1].permission_name: "write" is not a scope of https://api`,
				"users[2]: password or password_hash is required for a new user",
				`users[3].password_hash: password: unsupported hash scheme: "md5"`,
				`tenant.default_directory: no connection is named "nope"`,
				`tenant.default_audience: no API has identifier "https://nope"`,
			},
		},
		{
			name:  "references into the store",
			setup: "clients: [{name: stored, app_type: spa}]\ndatabases: [{name: db}]\nresourceServers: [{identifier: https://api, scopes: [{value: read}]}]",
			file: `
tenant: {default_directory: db, default_audience: https://api}
databases: [{name: db2, enabled_clients: [stored]}]
users: [{connection: db, email: a@acme.test, password: Secret-Passw0rd, permissions: [{resource_server_identifier: https://api, permission_name: read}]}]`,
		},
		{
			name:  "permission not a scope of a stored API",
			setup: "databases: [{name: db}]\nresourceServers: [{identifier: https://api, scopes: [{value: read}]}]",
			file:  "users: [{connection: db, email: a@acme.test, password: Secret-Passw0rd, permissions: [{resource_server_identifier: https://api, permission_name: write}]}]",
			want:  []string{`users[0].permissions[0].permission_name: "write" is not a scope of https://api`},
		},
		{
			name:  "stored client changed in a way the file forbids",
			setup: "clients: [{name: web, app_type: regular_web}]",
			file:  "clients: [{name: web, token_endpoint_auth_method: none, grant_types: [client_credentials]}]",
			want: []string{
				"clients[0].grant_types[0]: client_credentials needs a confidential client, but token_endpoint_auth_method is none",
			},
		},
		{
			name:  "HS256 on a stored client whose secret is only hashed",
			setup: "clients: [{name: web, app_type: regular_web}]",
			file:  "clients: [{name: web, jwt_configuration: {alg: HS256}}]",
			want: []string{
				"clients[0].client_secret: HS256 ID tokens are signed with the client secret, and only its hash is stored: give client_secret",
			},
		},
		{
			name: "client keys follow the rule that verifies assertions",
			file: `
clients:
  - name: keys
    token_endpoint_auth_method: private_key_jwt
    client_authentication_methods:
      private_key_jwt:
        credentials:
          - {name: k0, credential_type: public_key, pem: "not a pem"}
          - name: k1
            credential_type: public_key
            pem: |
              -----BEGIN PRIVATE KEY-----
              AAAA
              -----END PRIVATE KEY-----
          - name: k2
            credential_type: public_key
            pem: |
              ` + strings.ReplaceAll(smallPEM, "\n", "\n              ") + `
`,
			want: []string{
				"clients[0].client_authentication_methods.private_key_jwt.credentials[0].pem: is not PEM",
				"clients[0].client_authentication_methods.private_key_jwt.credentials[1].pem: is a private key: register the public key or certificate only",
				"clients[0].client_authentication_methods.private_key_jwt.credentials[2].pem: RSA key has 1024 bits, at least 2048 are required",
			},
		},
		{
			name:  "private_key_jwt without a credential",
			setup: "clients: [{name: web}]",
			file:  "clients: [{name: web, token_endpoint_auth_method: private_key_jwt}]",
			want:  []string{"clients[0].client_authentication_methods.private_key_jwt.credentials: private_key_jwt needs at least one credential"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := applyService(t)
			ctx := t.Context()
			if tt.setup != "" {
				applyOK(t, s, applyParse(t, tt.setup))
			}
			beforeClients, _ := s.Store.ListClients(ctx)
			beforeConns, _ := s.Store.ListConnections(ctx)
			// Apply validates the file again, so a file whose own problems ParseTenantFile
			// already reported still yields them, together with the problems against the store.
			tf, _ := config.ParseTenantFile([]byte(tt.file), config.TenantOptions{})
			_, err := s.Apply(ctx, tf)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, applyProblems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			// Nothing was written.
			afterClients, _ := s.Store.ListClients(ctx)
			afterConns, _ := s.Store.ListConnections(ctx)
			users, _ := s.Store.CountUsers(ctx, "")
			tenant, _ := s.Store.GetTenant(ctx)
			if len(afterClients) != len(beforeClients) || len(afterConns) != len(beforeConns) || users != 0 || tenant.DefaultDirectory != "" ||
				!cmp.Equal(afterClients, beforeClients) {
				t.Errorf("a file with problems wrote: clients %d→%d, connections %d→%d, users %d, tenant %+v",
					len(beforeClients), len(afterClients), len(beforeConns), len(afterConns), users, tenant)
			}
		})
	}
}

func TestApplyMatching(t *testing.T) {
	tests := []struct {
		name        string
		first, then string
		wantCreated []string
		wantChanged []string
	}{
		{
			name:        "client matched by name",
			first:       "clients: [{name: web, description: a}]",
			then:        "clients: [{name: web, description: b}]",
			wantChanged: []string{`client "web"`},
		},
		{
			name:        "client renamed by client_id",
			first:       "clients: [{name: web, client_id: web-0001}]",
			then:        "clients: [{name: site, client_id: web-0001}]",
			wantChanged: []string{`client "site"`},
		},
		{
			name:        "user found by username, email added",
			first:       "databases: [{name: db}]\nusers: [{connection: db, username: carol, password_hash: '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'}]",
			then:        "databases: [{name: db}]\nusers: [{connection: db, username: carol, email: carol@acme.test}]",
			wantChanged: []string{`user "carol@acme.test" in db`},
		},
		{
			name:        "user with a new user_id is a new user",
			first:       "databases: [{name: db}]\nusers: [{connection: db, email: a@acme.test, password: Secret-Passw0rd}]",
			then:        "databases: [{name: db}]\nusers: [{connection: db, email: b@acme.test, user_id: 'auth0|0123456789abcdef01234567', password: Secret-Passw0rd}]",
			wantCreated: []string{`user "b@acme.test" in db`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := applyService(t)
			applyOK(t, s, applyParse(t, tt.first))
			r := applyOK(t, s, applyParse(t, tt.then))
			trim := func(in []string) []string {
				var out []string
				for _, l := range in {
					if i := strings.Index(l, " ("); i > 0 && strings.HasPrefix(l, "client") {
						l = l[:i]
					}
					out = append(out, l)
				}
				return out
			}
			if diff := cmp.Diff(tt.wantCreated, trim(r.Created)); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantChanged, trim(r.Changed)); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplyPS256IDTokens applies a client whose ID tokens Auth0 signs with PS256: it is kept as
// such and the tenant gets the PS256 key to sign them.
func TestApplyPS256IDTokens(t *testing.T) {
	s := applyService(t)
	keys := token.NewKeys(s.Store.(store.SigningKeys), s.Box, s.Now)
	s.Keys = keys
	applyOK(t, s, applyParse(t, `
clients:
  - name: Modern
    app_type: regular_web
    grant_types: [password]
    jwt_configuration:
      alg: PS256
`))
	if got := clientByName(t, s, "Modern").IDTokenAlg; got != "PS256" {
		t.Errorf("IDTokenAlg: got %q, want PS256", got)
	}
	infos, err := keys.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(infos, func(k token.KeyInfo) bool { return k.Alg == "PS256" && k.State == store.KeyCurrent }) {
		t.Errorf("keys after apply: %+v, want a current PS256 key", infos)
	}
}

// failingConnections is a store whose connection writes fail, as a store does that goes away
// in the middle of an apply.
type failingConnections struct{ admin.Store }

func (failingConnections) CreateConnection(context.Context, store.Connection) error {
	return errors.New("database is gone")
}

// TestApplyReportsWhatAFailedWriteLeft: validation passes, then a write fails; the report
// lists exactly what was written before it (the clients, with the secret generated for the one
// that got none from the file), names the failed object, and nothing after it was written.
func TestApplyReportsWhatAFailedWriteLeft(t *testing.T) {
	s := applyService(t)
	real := s.Store
	s.Store = failingConnections{real}
	tf := applyParse(t, `
tenant: {friendly_name: Never Written}
clients:
  - {name: First, client_id: first-client-0000000000000000001, client_secret: first-secret-0123456789abcdef0123456789ab}
  - {name: Second, client_id: second-client-000000000000000002}
databases:
  - {name: db, strategy: auth0, enabled_clients: [First]}
`)
	rep, err := s.Apply(t.Context(), tf)
	if err == nil || !strings.Contains(err.Error(), `connection "db"`) || !strings.Contains(err.Error(), "database is gone") {
		t.Fatalf("Apply: got %v, want the connection's write error", err)
	}
	if rep == nil {
		t.Fatal("Apply: no report with the error")
	}
	wantCreated := []string{`client "First" (first-client-0000000000000000001)`, `client "Second" (second-client-000000000000000002)`}
	if !slices.Equal(rep.Created, wantCreated) || len(rep.Changed) != 0 || rep.Failed != `connection "db"` {
		t.Errorf("report: created %q changed %q failed %q, want created %q and failed connection \"db\"", rep.Created, rep.Changed, rep.Failed, wantCreated)
	}
	if len(rep.GeneratedSecrets) != 1 || rep.GeneratedSecrets[0].ClientID != "second-client-000000000000000002" || rep.GeneratedSecrets[0].Secret == "" {
		t.Errorf("report: generated secrets %+v, want the one of Second", rep.GeneratedSecrets)
	}
	var out bytes.Buffer
	rep.Write(&out)
	if !strings.HasPrefix(out.String(), `FAILED at connection "db": `) {
		t.Errorf("report text starts %q, want the failure first", out.String())
	}
	// The store holds exactly that: the clients, no connection, the tenant untouched.
	for _, id := range []string{"first-client-0000000000000000001", "second-client-000000000000000002"} {
		if _, err := real.GetClient(t.Context(), id); err != nil {
			t.Errorf("client %s: %v, want it written", id, err)
		}
	}
	if conns, err := real.ListConnections(t.Context()); err != nil || len(conns) != 0 {
		t.Errorf("connections: %d, %v, want none", len(conns), err)
	}
	if ten, err := real.GetTenant(t.Context()); err == nil && ten.FriendlyName == "Never Written" {
		t.Errorf("tenant settings were written after the failure")
	}
}

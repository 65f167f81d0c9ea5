package cli_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/cli"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// harness runs the real command tree against a temporary SQLite database configured by a
// config file named in the injected environment.
type harness struct {
	t   *testing.T
	dir string
	db  string
	env map[string]string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "sesame.db")
	cfg := filepath.Join(dir, "sesame.yaml")
	yaml := fmt.Sprintf("db: sqlite://%s\npassword_hash_memory_kib: 64\npassword_hash_iterations: 1\n", db)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, dir: dir, db: db, env: map[string]string{"SESAME_CONFIG": cfg}}
}

func (h *harness) run(stdin string, args ...string) (string, string, error) {
	h.t.Helper()
	root := cli.NewRoot(func(k string) (string, bool) { v, ok := h.env[k]; return v, ok })
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(h.t.Context())
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its stdout.
func (h *harness) ok(stdin string, args ...string) string {
	h.t.Helper()
	out, errOut, err := h.run(stdin, args...)
	if err != nil {
		h.t.Fatalf("sesame %s: got error %v (stderr %q), want success", strings.Join(args, " "), err, errOut)
	}
	return out
}

// okJSON runs a command with --json and decodes its output into v.
func (h *harness) okJSON(v any, stdin string, args ...string) {
	h.t.Helper()
	out := h.ok(stdin, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		h.t.Fatalf("sesame %s --json: output %q is not JSON: %v", strings.Join(args, " "), out, err)
	}
}

// fails runs a command that must fail with an error containing want.
func (h *harness) fails(want, stdin string, args ...string) {
	h.t.Helper()
	_, _, err := h.run(stdin, args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		h.t.Errorf("sesame %s: got error %v, want one containing %q", strings.Join(args, " "), err, want)
	}
}

// user reads a user straight from the database the commands wrote.
func (h *harness) user(connection, email string) store.User {
	h.t.Helper()
	st, err := sqlstore.Open(h.t.Context(), "sqlite://"+h.db)
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	u, err := st.FindUser(h.t.Context(), connection, email)
	if err != nil {
		h.t.Fatalf("FindUser(%s): %v", email, err)
	}
	return u
}

func verifies(t *testing.T, hash, pw string) bool {
	t.Helper()
	ok, _, err := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1}, 1).Verify(t.Context(), hash, pw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ok
}

type clientOut struct {
	ClientID     string   `json:"client_id"`
	Name         string   `json:"name"`
	AppType      string   `json:"app_type"`
	GrantTypes   []string `json:"grant_types"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	ClientSecret *string  `json:"client_secret"`
}

type userOut struct {
	UserID      string `json:"user_id"`
	Email       string `json:"email"`
	Username    string `json:"username"`
	Blocked     bool   `json:"blocked"`
	LoginsCount int    `json:"logins_count"`
	Identities  []struct {
		Connection string `json:"connection"`
	} `json:"identities"`
}

const conn = "Username-Password-Authentication"

func TestClientsAPIsConnections(t *testing.T) {
	h := newHarness(t)

	var api struct {
		Identifier    string `json:"identifier"`
		SigningAlg    string `json:"signing_alg"`
		TokenLifetime int    `json:"token_lifetime"`
		Offline       bool   `json:"allow_offline_access"`
		Scopes        []struct {
			Value string `json:"value"`
		} `json:"scopes"`
	}
	h.okJSON(&api, "", "apis", "create", "--identifier", "https://api.test/", "--scopes", "read:x,write:x", "--offline-access")
	if api.Identifier != "https://api.test/" || api.SigningAlg != "RS256" || api.TokenLifetime != 86400 || !api.Offline || len(api.Scopes) != 2 || api.Scopes[1].Value != "write:x" {
		t.Errorf("apis create: got %+v, want the API with RS256, 86400, offline access and scopes read:x write:x", api)
	}
	if out := h.ok("", "apis", "list"); !strings.Contains(out, "IDENTIFIER") || !strings.Contains(out, "https://api.test/") || !strings.Contains(out, "read:x,write:x") {
		t.Errorf("apis list: got %q, want a table with the API and its scopes", out)
	}
	h.fails("already exists", "", "apis", "create", "--identifier", "https://api.test/")
	h.fails("signing_alg", "", "apis", "create", "--identifier", "urn:x", "--signing-alg", "none")

	var created clientOut
	h.okJSON(&created, "", "clients", "create", "--name", "Backend", "--app-type", "regular_web")
	if len(created.ClientID) != 32 || created.ClientSecret == nil || len(*created.ClientSecret) < password.MinSecretLength ||
		created.AuthMethod != "client_secret_post" || strings.Join(created.GrantTypes, " ") != "password http://auth0.com/oauth/grant-type/password-realm refresh_token" {
		t.Fatalf("clients create: got %+v, want a 32-character id, a secret, client_secret_post and the password grants", created)
	}
	var native clientOut
	h.okJSON(&native, "", "clients", "create", "--name", "Mobile", "--app-type", "native", "--grant-types", "password-realm,refresh_token")
	if native.AuthMethod != "none" || native.ClientSecret != nil || native.GrantTypes[0] != "http://auth0.com/oauth/grant-type/password-realm" {
		t.Errorf("clients create native: got %+v, want method none, no secret, the long password-realm grant", native)
	}

	var list []clientOut
	h.okJSON(&list, "", "clients", "list")
	if len(list) != 2 || list[0].Name != "Backend" || list[0].ClientSecret != nil || list[1].ClientSecret != nil {
		t.Errorf("clients list --json: got %+v, want Backend and Mobile without secrets", list)
	}
	table := h.ok("", "clients", "list")
	if !strings.Contains(table, "CLIENT ID") || !strings.Contains(table, created.ClientID) || !strings.Contains(table, "password-realm") {
		t.Errorf("clients list: got %q, want a table with the client id and short grant names", table)
	}
	if show := h.ok("", "clients", "show", created.ClientID); strings.Contains(show, *created.ClientSecret) || !strings.Contains(show, "client_secret_post") {
		t.Errorf("clients show: got %q, want the client without its secret", show)
	}

	var rotated clientOut
	h.okJSON(&rotated, "", "clients", "rotate-secret", created.ClientID)
	if rotated.ClientSecret == nil || *rotated.ClientSecret == *created.ClientSecret {
		t.Errorf("rotate-secret: got %v, want a new secret", rotated.ClientSecret)
	}
	h.fails("no secret to rotate", "", "clients", "rotate-secret", native.ClientID)
	h.fails("app_type", "", "clients", "create", "--name", "X", "--app-type", "desktop")
	h.fails("unknown flag", "", "clients", "create", "--name", "X", "--secret", "inline")

	var c struct {
		Name           string   `json:"name"`
		Strategy       string   `json:"strategy"`
		EnabledClients []string `json:"enabled_clients"`
	}
	h.okJSON(&c, "", "connections", "create", "--name", conn, "--enable-client", created.ClientID)
	if c.Name != conn || c.Strategy != "auth0" || len(c.EnabledClients) != 1 || c.EnabledClients[0] != created.ClientID {
		t.Errorf("connections create: got %+v, want the connection enabled for the client", c)
	}
	h.okJSON(&c, "", "connections", "enable-client", conn, native.ClientID)
	if len(c.EnabledClients) != 2 {
		t.Errorf("enable-client: got %v, want both clients", c.EnabledClients)
	}
	h.okJSON(&c, "", "connections", "disable-client", conn, created.ClientID)
	if len(c.EnabledClients) != 1 || c.EnabledClients[0] != native.ClientID {
		t.Errorf("disable-client: got %v, want only %s", c.EnabledClients, native.ClientID)
	}
	h.fails("no client has id", "", "connections", "create", "--name", "other", "--enable-client", "ghost")
	h.fails("may only hold letters", "", "connections", "create", "--name", "bad name")
	if out := h.ok("", "connections", "list"); !strings.Contains(out, conn) || !strings.Contains(out, "auth0") {
		t.Errorf("connections list: got %q, want the connection", out)
	}

	h.ok("", "clients", "delete", created.ClientID)
	h.fails("not found", "", "clients", "show", created.ClientID)
	h.ok("", "apis", "delete", "https://api.test/")
	h.fails("not found", "", "apis", "show", "https://api.test/")
}

func TestUsersCommands(t *testing.T) {
	h := newHarness(t)
	h.ok("", "connections", "create", "--name", conn)

	var u userOut
	h.okJSON(&u, "Secret123\n", "users", "create", "--connection", conn, "--email", "alice@example.com", "--username", "alice", "--password-stdin")
	if !strings.HasPrefix(u.UserID, "auth0|") || u.Email != "alice@example.com" || u.Username != "alice" || u.Blocked || len(u.Identities) != 1 || u.Identities[0].Connection != conn {
		t.Fatalf("users create: got %+v, want alice in %s", u, conn)
	}
	if !verifies(t, h.user(conn, "alice@example.com").PasswordHash, "Secret123") {
		t.Errorf("stored hash: does not verify the password given on stdin")
	}

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown connection", "Secret123\n", []string{"users", "create", "--connection", "nope", "--email", "b@example.com", "--password-stdin"}, `the connection "nope" does not exist`},
		{"duplicate email", "Secret123\n", []string{"users", "create", "--connection", conn, "--email", "ALICE@example.com", "--password-stdin"}, "The user already exists"},
		{"weak password", "password\n", []string{"users", "create", "--connection", conn, "--email", "b@example.com", "--password-stdin"}, "Password is too weak"},
		{"password only on stdin", "", []string{"users", "create", "--connection", conn, "--email", "b@example.com"}, "--password-stdin"},
		{"empty stdin", "", []string{"users", "create", "--connection", conn, "--email", "b@example.com", "--password-stdin"}, "no password on stdin"},
		{"no password flag", "", []string{"users", "create", "--connection", conn, "--email", "b@example.com", "--password", "x"}, "unknown flag: --password"},
		{"unknown user", "", []string{"users", "show", "auth0|nobody"}, "not found"},
		{"missing argument", "", []string{"users", "block"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { h.fails(tt.want, tt.stdin, tt.args...) })
	}

	if out := h.ok("", "users", "list", "--connection", conn); !strings.Contains(out, "USER ID") || !strings.Contains(out, "alice@example.com") {
		t.Errorf("users list: got %q, want a table with alice", out)
	}
	var users []userOut
	h.okJSON(&users, "", "users", "list")
	if len(users) != 1 || users[0].UserID != u.UserID || users[0].LoginsCount != 0 {
		t.Errorf("users list --json: got %+v, want alice with logins_count 0", users)
	}

	h.ok("", "users", "block", u.UserID)
	var shown userOut
	h.okJSON(&shown, "", "users", "show", u.UserID)
	if !shown.Blocked {
		t.Errorf("after block: got blocked=false, want true")
	}
	h.ok("", "users", "unblock", u.UserID)
	h.okJSON(&shown, "", "users", "show", u.UserID)
	if shown.Blocked {
		t.Errorf("after unblock: got blocked=true, want false")
	}

	h.fails("Password is too weak", "short\n", "users", "set-password", u.UserID, "--password-stdin")
	h.ok("NewPass789\n", "users", "set-password", u.UserID, "--password-stdin")
	hash := h.user(conn, "alice@example.com").PasswordHash
	if !verifies(t, hash, "NewPass789") || verifies(t, hash, "Secret123") {
		t.Errorf("after set-password: got a hash that does not verify only the new password")
	}

	h.ok("", "users", "delete", u.UserID)
	h.fails("not found", "", "users", "show", u.UserID)
}

func TestUsersImport(t *testing.T) {
	h := newHarness(t)
	h.ok("", "connections", "create", "--name", conn)
	bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("pepper" + "sha-pw"))
	file := filepath.Join(h.dir, "users.json")
	body := fmt.Sprintf(`[
  {"email": "bob@example.com", "email_verified": true, "user_id": "b0b", "password_hash": %q},
  {"email": "carol@example.com", "custom_password_hash": {"algorithm": "sha256",
    "hash": {"value": %q, "encoding": "hex"}, "salt": {"value": "pepper", "position": "prefix"}}},
  {"email": "not-an-email"}
]`, bc, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := h.run("", "users", "import", "--connection", conn, file, "--json")
	if err == nil || !strings.Contains(err.Error(), "1 of 3 users were not imported") {
		t.Errorf("users import: got error %v, want 1 of 3 users not imported", err)
	}
	var rep struct {
		Inserted int `json:"inserted"`
		Updated  int `json:"updated"`
		Failed   []struct {
			Index int    `json:"index"`
			Error string `json:"error"`
		} `json:"failed"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("import report %q: %v", out, err)
	}
	if rep.Inserted != 2 || len(rep.Failed) != 1 || rep.Failed[0].Index != 2 || !strings.Contains(rep.Failed[0].Error, "email") {
		t.Errorf("import report: got %+v, want 2 inserted and row 2 failed on its email", rep)
	}
	bob := h.user(conn, "bob@example.com")
	if bob.ID != "auth0|b0b" || !bob.EmailVerified || !verifies(t, bob.PasswordHash, "bcrypt-pw") {
		t.Errorf("bob: got id %q verified %v, want auth0|b0b, verified, and the bcrypt password to verify", bob.ID, bob.EmailVerified)
	}
	if !verifies(t, h.user(conn, "carol@example.com").PasswordHash, "sha-pw") {
		t.Errorf("carol: the salted sha256 password does not verify")
	}

	// Importing again fails the existing users; with --upsert it updates them.
	h.fails("3 of 3 users were not imported", "", "users", "import", "--connection", conn, file)
	out = h.ok(`[{"email": "bob@example.com", "name": "Bob"}]`, "users", "import", "--connection", conn, "-", "--upsert")
	if !strings.Contains(out, "0 inserted, 1 updated, 0 failed") || h.user(conn, "bob@example.com").Name != "Bob" {
		t.Errorf("upsert import: got %q, want bob updated", out)
	}
	h.fails("users file", "", "users", "import", "--connection", conn, "-")
}

func TestKeysCommands(t *testing.T) {
	h := newHarness(t)
	h.ok("", "apis", "create", "--identifier", "urn:api") // creates RS256 keys
	b := h.rs256Keys()
	if b["current"] == "" || b["next"] == "" {
		t.Fatalf("keys list: got %v, want a current and a next RS256 key", b)
	}
	if out := h.ok("", "keys", "list"); !strings.Contains(out, "KID") || !strings.Contains(out, b["current"]) {
		t.Errorf("keys list: got %q, want a table with the current key", out)
	}
	a := h.rs256Keys("keys", "rotate", "--alg", "RS256")
	if a["current"] != b["next"] || a["previous"] != b["current"] || a["next"] == "" || a["next"] == b["next"] {
		t.Errorf("after rotate: got %v, want the former next %s current and the former current %s previous", a, b["next"], b["current"])
	}
	h.fails("unsupported", "", "keys", "rotate", "--alg", "HS256")
}

func TestMigrate(t *testing.T) {
	h := newHarness(t)
	if out := h.ok("", "migrate"); !strings.Contains(out, "up to date") {
		t.Errorf("migrate: got %q, want it to say the database is up to date", out)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "sesame.kek")); err != nil {
		t.Errorf("default kek file beside the database: %v", err)
	}
}

func TestApply(t *testing.T) {
	h := newHarness(t)
	tenant := filepath.Join(h.dir, "tenant.yaml")
	yaml := `clients:
  - name: Acme Mobile
    app_type: native
    grant_types: [password, refresh_token]
databases:
  - name: Acme-Users
    enabled_clients: [Acme Mobile]
resourceServers:
  - name: Acme API
    identifier: https://api.acme.test/
    scopes: [{value: read:orders, description: Read orders}]
users:
  - connection: Acme-Users
    email: dora@acme.test
    password: @@DORA_PASSWORD@@
`
	if err := os.WriteFile(tenant, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	h.env["DORA_PASSWORD"] = "Dora1234!"
	var first struct {
		Created   []string `json:"created"`
		Unchanged []string `json:"unchanged"`
	}
	h.okJSON(&first, "", "apply", "-f", tenant)
	if len(first.Created) != 4 {
		t.Errorf("first apply: got created %v, want 4 objects", first.Created)
	}
	if !verifies(t, h.user("Acme-Users", "dora@acme.test").PasswordHash, "Dora1234!") {
		t.Errorf("applied user: the password from the environment does not verify")
	}
	out := h.ok("", "apply", "-f", tenant, "--var", "DORA_PASSWORD=Dora1234!")
	if !strings.HasPrefix(out, "0 created, 0 changed, 4 unchanged") {
		t.Errorf("second apply: got %q, want nothing changed", out)
	}
	h.fails("-f", "", "apply")
	h.fails("--var", "", "apply", "-f", tenant, "--var", "novalue")
}

// TestUsersGrantAdmin: grant-admin names the user by email, refuses while the server has not
// made its Management API yet, and then gives the user every Management API permission.
func TestUsersGrantAdmin(t *testing.T) {
	h := newHarness(t)
	h.ok("", "connections", "create", "--name", conn)
	h.ok("Secret123\n", "users", "create", "--connection", conn, "--email", "root@example.com", "--password-stdin")
	h.fails("start the server once", "", "users", "grant-admin", "root@example.com")

	// What `sesame serve` does at start for its issuer (the CLI's default one here).
	st, err := sqlstore.Open(t.Context(), "sqlite://"+h.db)
	if err != nil {
		t.Fatal(err)
	}
	svc := &admin.Service{Store: st, ManagementAudience: admin.ManagementAudience("http://localhost:8080/")}
	err = svc.EnsureManagementAPI(t.Context())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out := h.ok("", "users", "grant-admin", "root@example.com"); !strings.HasPrefix(out, "Admin user auth0|") {
		t.Errorf("grant-admin printed %q", out)
	}
	perms := h.user(conn, "root@example.com").Permissions
	if len(perms) != len(admin.ManagementScopes) || perms[0].ResourceServerIdentifier != svc.ManagementAudience {
		t.Errorf("permissions after grant-admin: %d for %v, want all %d of %s", len(perms), perms[:min(1, len(perms))], len(admin.ManagementScopes), svc.ManagementAudience)
	}
	h.fails("no user has the id, email or username", "", "users", "grant-admin", "nobody@example.com")
}

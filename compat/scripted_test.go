package compat_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/authentication/oauth"
	"github.com/auth0/go-auth0/v3/management"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// The custom-database realms of these tests: their login scripts (the forms of Auth0's
// PostgreSQL and failing templates, in internal/directory/scripted/testdata) run against a
// real legacy PostgreSQL database.
const (
	brokenRealm = "legacy-broken"
	scriptsDir  = "../internal/directory/scripted/testdata"
)

// legacyPostgres makes a legacy system's database (a users table with bcrypt hashes of the
// compat password) on the server of SESAME_TEST_POSTGRES, and returns its URL and a function
// that drops it.
func legacyPostgres(t *testing.T, emails ...string) (string, func()) {
	t.Helper()
	dsn := os.Getenv("SESAME_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("custom database realms against a real legacy PostgreSQL: set SESAME_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/sesame_test?sslmode=disable)")
	}
	ctx := t.Context()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "legacy_compat_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(drop)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	c, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// Each legacy database numbers its users from a start of its own: user ids must be unique
	// across a tenant's connections (Auth0 asks the same of custom databases), and Sesame
	// refuses a login whose id belongs to another connection.
	start := 1000 + int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	if _, err := c.Exec(ctx, `CREATE TABLE users (id serial PRIMARY KEY, nickname text, email text UNIQUE NOT NULL, password text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, fmt.Sprintf(`ALTER SEQUENCE users_id_seq RESTART WITH %d`, start)); err != nil {
		t.Fatal(err)
	}
	for _, e := range emails {
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		nick, _, _ := strings.Cut(e, "@")
		if _, err := c.Exec(ctx, `INSERT INTO users (nickname, email, password) VALUES ($1, $2, $3)`, nick, e, string(h)); err != nil {
			t.Fatal(err)
		}
	}
	return u.String(), drop
}

// applyCustomDatabases adds the custom-database connections to the running server's tenant
// with `sesame apply`, in the Deploy CLI's layout: scripts as files beside the tenant file.
func applyCustomDatabases(t *testing.T, legacyRealm, pgURL string) {
	t.Helper()
	dir := filepath.Join(srv.dir, "tenant-"+legacyRealm)
	for _, c := range []struct{ realm, script string }{{legacyRealm, "pg_login.js"}, {brokenRealm, "throw_login.js"}} {
		src, err := os.ReadFile(filepath.Join(scriptsDir, c.script))
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(dir, "databases", c.realm)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "login.js"), src, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	getUser, err := os.ReadFile(filepath.Join(scriptsDir, "pg_get_user.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "databases", legacyRealm, "get_user.js"), getUser, 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := `databases:
  - name: ` + legacyRealm + `
    strategy: auth0
    enabled_clients: [Compat App]
    options:
      enabledDatabaseCustomization: true
      import_mode: true
      configuration:
        PG_URL: "` + pgURL + `"
      customScripts:
        login: ./databases/` + legacyRealm + `/login.js
        get_user: ./databases/` + legacyRealm + `/get_user.js
  - name: ` + brokenRealm + `
    strategy: auth0
    enabled_clients: [Compat App]
    options:
      enabledDatabaseCustomization: true
      customScripts:
        login: ./databases/` + brokenRealm + `/login.js
`
	file := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := srv.command(t.Context(), "apply", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("sesame apply: %v\n%s", err, out)
	}
}

// TestGoAuth0CustomDatabaseRealm logs in with go-auth0's authentication client through a realm
// whose users live in a legacy PostgreSQL database, reached by the PostgreSQL-template login
// script: success, wrong password (fp), unknown user (fu), lazy migration (the second login
// works with the legacy database dropped), a throwing script (a clean 500), and the Node.js
// The configuration stays sealed in the Management API's answer.
func TestGoAuth0CustomDatabaseRealm(t *testing.T) {
	const (
		legacyRealm = "legacy-customers"
		liam        = "liam@example.com"
	)
	pgURL, dropLegacy := legacyPostgres(t, liam)
	applyCustomDatabases(t, legacyRealm, pgURL)
	a := newAuth0Secret(t)
	login := func(user, pw, realmName string) (*oauth.TokenSet, error) {
		return a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{
			Username: user, Password: pw, Scope: "openid profile email", Audience: apiID, Realm: realmName,
		}, oauth.IDTokenValidationOptions{})
	}

	tok, err := login(liam, password, legacyRealm)
	if err != nil {
		t.Fatalf("login through the custom database: %v", err)
	}
	_, claims := decodeJWT(t, tok.IDToken)
	sub, _ := claims["sub"].(string)
	if !strings.HasPrefix(sub, "auth0|") || claims["email"] != liam || claims["nickname"] != "liam" {
		t.Errorf("id token claims %v, want sub auth0|<legacy id>, the legacy email and nickname", claims)
	}

	_, err = login(liam, "not the password", legacyRealm)
	wantAuth0Error(t, err, 403, "invalid_grant", wrongDesc)
	_, err = login("nobody@example.com", password, legacyRealm)
	wantAuth0Error(t, err, 403, "invalid_grant", wrongDesc)

	// The script threw: a clean server error, its message only in the server's log.
	_, err = login(liam, password, brokenRealm)
	wantAuth0Error(t, err, 500, "server_error", "Internal server error.")
	if !waitFor(func() bool { return strings.Contains(srv.logs.String(), "legacy database is down") }) {
		t.Errorf("the server log does not carry the script's error")
	}

	// Lazy migration: Liam logged in once, so his login no longer needs the legacy database.
	dropLegacy()
	again, err := login(liam, password, legacyRealm)
	if err != nil {
		t.Fatalf("second login with the legacy database dropped: %v", err)
	}
	if _, c := decodeJWT(t, again.IDToken); c["sub"] != sub {
		t.Errorf("sub after migration %v, want %v", c["sub"], sub)
	}

	// The tenant log tells the wrong password (fp) from the unknown user (fu), as Auth0 does
	// from the script's WrongUsernameOrPasswordError.
	m := managementClient(t)
	for typ, user := range map[string]string{"fp": liam, "fu": "nobody@example.com"} {
		found := waitFor(func() bool {
			p, err := m.Logs.List(t.Context(), &management.ListLogsRequestParameters{Search: str2("type:" + typ), PerPage: intp(50)})
			if err != nil {
				t.Fatalf("Logs.List: %v", err)
			}
			for _, l := range p.Results {
				if l.GetConnection() == legacyRealm && l.GetUserName() == user {
					return true
				}
			}
			return false
		})
		if !found {
			t.Errorf("no %s event for %s on %s", typ, user, legacyRealm)
		}
	}

	// The Management API shows the configuration sealed, never the connection string.
	name := legacyRealm
	page, err := m.Connections.List(t.Context(), &management.ListConnectionsQueryParameters{Name: &name})
	if err != nil || len(page.Results) != 1 {
		t.Fatalf("Connections.List: %v, %v", page, err)
	}
	var conf map[string]any
	if o := page.Results[0].Options; o != nil {
		conf, _ = (*o)["configuration"].(map[string]any)
	}
	if v, _ := conf["PG_URL"].(string); v == "" || strings.Contains(v, "postgres://") {
		t.Errorf("configuration.PG_URL over the Management API = %q, want a sealed value", v)
	}
}

// TestNodeCustomDatabaseRealm logs in with the Node.js SDK (auth0, current and v4) through a
// custom-database realm of its own (the Node.js tests run in parallel, after the others).
func TestNodeCustomDatabaseRealm(t *testing.T) {
	const (
		legacyRealm = "legacy-node-customers"
		mia         = "mia@example.com"
	)
	pgURL, _ := legacyPostgres(t, mia)
	applyCustomDatabases(t, legacyRealm, pgURL)
	r := runNode(t, "auth0-sdk-realm.cjs", mia, "SESAME_REALM="+legacyRealm)
	for _, flavour := range []string{"current", "v4"} {
		got := ok[struct {
			IDToken jwtParts `json:"id_token"`
		}](t, r, flavour+"/password_realm")
		checkFields(t, flavour+" id_token", got.IDToken.Claims, map[string]any{"email": mia, "nickname": "mia", "aud": clientID})
		checkFields(t, flavour+" wrong password", failed(t, r, flavour+"/wrong_password"), map[string]any{
			"name": "AuthApiError", "error": "invalid_grant", "error_description": wrongDesc, "statusCode": 403,
		})
	}
}

func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

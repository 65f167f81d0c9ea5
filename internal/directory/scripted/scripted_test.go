package scripted_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

const conn = "legacy-customers"

var cheap = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func script(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st
}

// legacyUser is a row of the legacy database's users table.
type legacyUser struct {
	nickname, email, password string
}

// LegacyDB is a real PostgreSQL database of a legacy system: a users table with bcrypt
// hashes, made in a database of its own on the server of SESAME_TEST_POSTGRES.
type legacyDB struct {
	admin string // DSN of the server's own database, to drop this one
	name  string
	URL   string
}

func newLegacyDB(t testing.TB, users ...legacyUser) *legacyDB {
	t.Helper()
	dsn := os.Getenv("SESAME_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("custom database scripts against a real legacy PostgreSQL: set SESAME_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/sesame_test?sslmode=disable)")
	}
	ctx := t.Context()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	db := &legacyDB{admin: dsn, name: "legacy_" + hex.EncodeToString(b)}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+db.name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.drop(t) })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db.name
	db.URL = u.String()
	lc, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close(ctx)
	if _, err := lc.Exec(ctx, `CREATE TABLE users (id serial PRIMARY KEY, nickname text, email text UNIQUE NOT NULL, password text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, lu := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(lu.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lc.Exec(ctx, `INSERT INTO users (nickname, email, password) VALUES ($1, $2, $3)`, lu.nickname, lu.email, string(h)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// drop removes the legacy database, closing whatever connections are still open to it.
func (db *legacyDB) drop(t testing.TB) {
	ctx := context.WithoutCancel(t.Context())
	c, err := pgx.Connect(ctx, db.admin)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)"); err != nil {
		t.Error(err)
	}
}

type fixture struct {
	st     store.Store
	realms *scripted.Realms
	pools  *scripted.Pools
	box    *seal.Box
}

func newFixture(t testing.TB, o scripted.Options) *fixture {
	t.Helper()
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: openStore(t), pools: &scripted.Pools{}, box: box}
	t.Cleanup(f.pools.Close)
	if o.Engine == nil {
		o.Engine = hooks.NewEngine(hooks.Options{})
	}
	o.SQL, o.Users, o.Box = f.pools, f.st, box
	o.Hasher = password.NewHasher(cheap, 2)
	f.realms = scripted.New(o)
	return f
}

// dir makes the Directory of a connection with these scripts, configuration and import mode,
// stored as the admin service stores them (configuration sealed).
func (f *fixture) dir(t testing.TB, scripts map[string]string, conf map[string]any, importMode bool) *scripted.Directory {
	t.Helper()
	sealed, err := scripted.SealConfiguration(f.box, conn, conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := map[string]any{}
	for k, v := range scripts {
		cs[k] = v
	}
	c := store.Connection{Name: conn, Strategy: "auth0", Options: map[string]any{
		scripted.OptEnabled: true, scripted.OptImportMode: importMode, scripted.OptConfiguration: sealed, scripted.OptScripts: cs}}
	if !scripted.Enabled(c) {
		t.Fatal("Enabled = false")
	}
	d, err := f.realms.Directory(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPostgresTemplate(t *testing.T) {
	db := newLegacyDB(t, legacyUser{"alice", "alice@example.com", "alice-pw-1"}, legacyUser{"bob", "bob@example.com", "bob-pw-1"})
	tests := []struct {
		name        string
		importMode  bool
		user, pw    string
		wantErr     error // nil: success
		wantUnknown bool
		script      string // the login script, pg_login.js when empty
		wantMeta    bool   // the profile carries metadata (app_metadata), user_metadata, email_verified
	}{
		{name: "login", user: "alice@example.com", pw: "alice-pw-1"},
		{name: "wrong password is fp", user: "alice@example.com", pw: "nope", wantErr: directory.ErrInvalidCredentials},
		{name: "unknown user is fu", user: "zed@example.com", pw: "whatever", wantErr: directory.ErrUnknownUser, wantUnknown: true},
		{name: "sql injection in the email is only data", user: "' OR '1'='1", pw: "x", wantErr: directory.ErrUnknownUser, wantUnknown: true},
		{name: "empty password never reaches the script", user: "alice@example.com", pw: "", wantErr: directory.ErrInvalidCredentials},
		{name: "login in import mode", importMode: true, user: "bob@example.com", pw: "bob-pw-1"},
		{name: "node-postgres 8 Client, async/await", script: "pg_client_login.js", user: "alice@example.com", pw: "alice-pw-1",
			wantMeta: true},
		{name: "node-postgres 8 Client, wrong password", script: "pg_client_login.js", user: "alice@example.com", pw: "nope",
			wantErr: directory.ErrInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, scripted.Options{})
			login := "pg_login.js"
			if tc.script != "" {
				login = tc.script
			}
			d := f.dir(t, map[string]string{"login": script(t, login), "get_user": script(t, "pg_get_user.js")},
				map[string]any{"PG_URL": db.URL}, tc.importMode)
			id, err := d.Authenticate(t.Context(), tc.user, tc.pw)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || errors.Is(err, directory.ErrUnknownUser) != tc.wantUnknown {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(id.UserID, "auth0|") || id.Email != tc.user || id.Connection != conn {
				t.Fatalf("identity = %+v", id)
			}
			// Every login leaves a Sesame user record, found again on refresh.
			got, err := d.Lookup(t.Context(), id.UserID)
			if err != nil || got.Email != tc.user {
				t.Fatalf("Lookup = %+v, %v", got, err)
			}
			u, err := f.st.GetUser(t.Context(), id.UserID)
			if err != nil {
				t.Fatal(err)
			}
			if hasHash := u.PasswordHash != ""; hasHash != tc.importMode {
				t.Errorf("password hash stored = %v, want %v (import mode)", hasHash, tc.importMode)
			}
			if tc.wantMeta && (u.AppMetadata["plan"] != "legacy" || u.UserMetadata["lang"] != "fr" || !u.EmailVerified) {
				t.Errorf("stored user %+v: want app_metadata from the profile's metadata, user_metadata and email_verified", u)
			}
			if tc.importMode && !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
				t.Errorf("migrated hash = %q, want argon2id", u.PasswordHash)
			}
		})
	}
}

// TestLazyMigration: with import_mode the first login runs the script and keeps an argon2id
// hash; after that the legacy database can go away and the user still logs in, while a user
// never migrated cannot. Without import_mode every login needs the legacy database.
func TestLazyMigration(t *testing.T) {
	db := newLegacyDB(t, legacyUser{"carol", "carol@example.com", "carol-pw-1"}, legacyUser{"dan", "dan@example.com", "dan-pw-1"})
	f := newFixture(t, scripted.Options{})
	scripts := map[string]string{"login": script(t, "pg_login.js")}
	conf := map[string]any{"PG_URL": db.URL}
	d := f.dir(t, scripts, conf, true)
	ctx := t.Context()
	first, err := d.Authenticate(ctx, "carol@example.com", "carol-pw-1")
	if err != nil {
		t.Fatal(err)
	}
	f.pools.Close()
	db.drop(t)

	again, err := d.Authenticate(ctx, "carol@example.com", "carol-pw-1")
	if err != nil {
		t.Fatalf("second login with the legacy database gone: %v", err)
	}
	if again.UserID != first.UserID {
		t.Errorf("user id %s, then %s", first.UserID, again.UserID)
	}
	if _, err := d.Authenticate(ctx, "carol@example.com", "wrong"); !errors.Is(err, directory.ErrInvalidCredentials) || errors.Is(err, directory.ErrUnknownUser) {
		t.Errorf("migrated user, wrong password: %v", err)
	}
	// Dan never logged in: his login needs the legacy database, which is gone: a server
	// error, not a wrong password.
	_, err = d.Authenticate(ctx, "dan@example.com", "dan-pw-1")
	if err == nil || errors.Is(err, directory.ErrInvalidCredentials) {
		t.Errorf("unmigrated user with the legacy database gone: %v, want a server error", err)
	}
	// Without import mode Carol's login runs the script again, and fails the same way.
	d2 := f.dir(t, scripts, conf, false)
	if _, err := d2.Authenticate(ctx, "carol@example.com", "carol-pw-1"); err == nil || errors.Is(err, directory.ErrInvalidCredentials) {
		t.Errorf("no import mode, legacy database gone: %v, want a server error", err)
	}
}

func TestScriptFailures(t *testing.T) {
	db := newLegacyDB(t, legacyUser{"erin", "erin@example.com", "erin-pw-1"})
	tests := []struct {
		name    string
		script  string
		wantMsg string
		maxTime time.Duration
	}{
		{name: "throws", script: "throw_login.js", wantMsg: "legacy database is down", maxTime: 2 * time.Second},
		{name: "never calls back", script: "silent_login.js", wantMsg: "without calling callback", maxTime: 2 * time.Second},
		{name: "slow query hits the deadline", script: "slow_login.js", wantMsg: "deadline", maxTime: 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, scripted.Options{Timeout: 500 * time.Millisecond})
			d := f.dir(t, map[string]string{"login": script(t, tc.script)}, map[string]any{"PG_URL": db.URL}, false)
			start := time.Now()
			_, err := d.Authenticate(t.Context(), "erin@example.com", "erin-pw-1")
			if err == nil || errors.Is(err, directory.ErrInvalidCredentials) || errors.Is(err, directory.ErrOverloaded) {
				t.Fatalf("got %v, want a script failure", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
			if d := time.Since(start); d > tc.maxTime {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestUnauthorizedError: a login script's UnauthorizedError refuses the account with the
// script's message for the user (Auth0 answers 401 unauthorized with it), not as a wrong
// password and not as a server error.
func TestUnauthorizedError(t *testing.T) {
	f := newFixture(t, scripted.Options{Timeout: 2 * time.Second})
	d := f.dir(t, map[string]string{"login": script(t, "unauthorized_login.js")}, nil, false)
	_, err := d.Authenticate(t.Context(), "erin@example.com", "erin-pw-1")
	var ae *directory.AccountError
	if !errors.As(err, &ae) || ae.Reason != directory.AccountRefused {
		t.Fatalf("got %v, want an AccountError (%s)", err, directory.AccountRefused)
	}
	if want := "Your account is suspended. Call the help desk."; ae.Message != want {
		t.Errorf("message %q, want %q", ae.Message, want)
	}
}

// TestResolve: once a user has logged in through the login script, their email and username
// resolve to the one Sesame user (brute force counts per user); a name nobody logged in with
// resolves to nobody.
func TestResolve(t *testing.T) {
	f := newFixture(t, scripted.Options{Timeout: 2 * time.Second})
	d := f.dir(t, map[string]string{"login": script(t, "profile_login.js")}, nil, false)
	if id, err := d.Resolve(t.Context(), "erin@example.com"); err != nil || id != "" {
		t.Fatalf("before any login: Resolve = %q, %v; want nobody", id, err)
	}
	u, err := d.Authenticate(t.Context(), "erin@example.com", "erin-pw-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"erin@example.com", "ERIN@example.com", "erin"} {
		if id, err := d.Resolve(t.Context(), login); err != nil || id != u.UserID {
			t.Errorf("Resolve(%q) = %q, %v; want %q", login, id, err, u.UserID)
		}
	}
	if id, err := d.Resolve(t.Context(), "nobody@example.com"); err != nil || id != "" {
		t.Errorf("Resolve(nobody) = %q, %v; want nobody", id, err)
	}
}

// TestBasicAuthTemplate runs the "Request with Basic Auth" login against a local legacy HTTP
// service, through the fetch allowlist of Actions.
func TestBasicAuthTemplate(t *testing.T) {
	legacy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "frank@example.com" || p != "frank-pw-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"user_id": 4242, "nickname": "frank", "email": "frank@example.com"}`))
	}))
	defer legacy.Close()
	host := strings.TrimPrefix(legacy.URL, "http://")
	fetch, err := oauthserver.NewActionFetcher([]string{host})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		allow   bool
		user    string
		pw      string
		wantErr error
		wantID  string
	}{
		{name: "login", allow: true, user: "frank@example.com", pw: "frank-pw-1", wantID: "auth0|4242"},
		{name: "401 is callback(): fu", allow: true, user: "frank@example.com", pw: "nope", wantErr: directory.ErrUnknownUser},
		{name: "host not allowed", allow: false, user: "frank@example.com", pw: "frank-pw-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := hooks.Options{}
			if tc.allow {
				o.Fetch = fetch
			}
			f := newFixture(t, scripted.Options{Engine: hooks.NewEngine(o)})
			d := f.dir(t, map[string]string{"login": script(t, "basic_login.js")}, map[string]any{"PROFILE_URL": legacy.URL + "/profile"}, false)
			id, err := d.Authenticate(t.Context(), tc.user, tc.pw)
			switch {
			case !tc.allow:
				if err == nil || !strings.Contains(err.Error(), "not allowed") {
					t.Fatalf("got %v, want the allowlist's refusal", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case id.UserID != tc.wantID || id.Nickname != "frank":
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

// TestBoundedConcurrency: a legacy database that answers slowly holds at most MaxConcurrent
// scripts of its connection; the logins beyond wait QueueWait and are shed as overload,
// repeated over several parallel bursts.
func TestBoundedConcurrency(t *testing.T) {
	db := newLegacyDB(t)
	const limit, burst = 2, 8
	f := newFixture(t, scripted.Options{MaxConcurrent: limit, QueueWait: 100 * time.Millisecond, Timeout: 5 * time.Second})
	slow := `function login(email, password, callback) {
  require('pg').connect(configuration.PG_URL, function (err, client, done) {
    client.query('SELECT pg_sleep(0.6)', [], function (err) { done(); callback(err || new WrongUsernameOrPasswordError(email)); });
  });
}`
	d := f.dir(t, map[string]string{"login": slow}, map[string]any{"PG_URL": db.URL}, false)
	for round := range 3 {
		var ran, shed atomic.Int32
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				_, err := d.Authenticate(t.Context(), "x@example.com", "pw")
				switch {
				case errors.Is(err, directory.ErrOverloaded):
					shed.Add(1)
				case errors.Is(err, directory.ErrInvalidCredentials):
					ran.Add(1)
				default:
					t.Errorf("unexpected %v", err)
				}
			})
		}
		wg.Wait()
		if ran.Load() != limit || shed.Load() != burst-limit {
			t.Errorf("round %d: %d ran, %d shed; want %d and %d", round, ran.Load(), shed.Load(), limit, burst-limit)
		}
	}
}

// TestRefreshRecheck: without import_mode the legacy store owns the user, so Lookup (what a
// refresh calls) asks get_user whether the user still exists: a user deleted there is
// ErrUserNotFound; a legacy store that is down keeps the Sesame record answering.
func TestRefreshRecheck(t *testing.T) {
	db := newLegacyDB(t, legacyUser{"ivy", "ivy@example.com", "ivy-pw-1"}, legacyUser{"jon", "jon@example.com", "jon-pw-1"})
	f := newFixture(t, scripted.Options{RecheckTTL: time.Nanosecond})
	scripts := map[string]string{"login": script(t, "pg_login.js"), "get_user": script(t, "pg_get_user.js")}
	d := f.dir(t, scripts, map[string]any{"PG_URL": db.URL}, false)
	ctx := t.Context()
	ivy, err := d.Authenticate(ctx, "ivy@example.com", "ivy-pw-1")
	if err != nil {
		t.Fatal(err)
	}
	jon, err := d.Authenticate(ctx, "jon@example.com", "jon-pw-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lookup(ctx, ivy.UserID); err != nil {
		t.Fatalf("Lookup of a legacy user: %v", err)
	}
	c, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `DELETE FROM users WHERE email = 'ivy@example.com'`); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	if _, err := d.Lookup(ctx, ivy.UserID); !errors.Is(err, directory.ErrUserNotFound) {
		t.Errorf("Lookup of a user deleted from the legacy store: %v, want ErrUserNotFound", err)
	}
	// The legacy database goes away: Jon's refreshes keep working from his Sesame record.
	f.pools.Close()
	db.drop(t)
	if got, err := d.Lookup(ctx, jon.UserID); err != nil || got.Email != "jon@example.com" {
		t.Errorf("Lookup with the legacy store down: %+v, %v", got, err)
	}
	// In import mode Sesame owns migrated users: no get_user at all.
	d2 := f.dir(t, scripts, map[string]any{"PG_URL": db.URL}, true)
	if _, err := d2.Lookup(ctx, ivy.UserID); err != nil {
		t.Errorf("import mode Lookup: %v", err)
	}
}

package oauthserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/database"
	"github.com/sesameauth/sesame/internal/logs"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

// Fixture names shared by the tests. Each test builds its own environment from them.
const (
	apiID        = "https://api.example.com"
	connName     = "Username-Password-Authentication"
	appID        = "app-confidential-0000000000000001"
	appSecret    = "app-secret-0123456789abcdef0123456789abcdef"
	spaID        = "app-public-00000000000000000000002"
	aliceEmail   = "alice@example.com"
	alicePass    = "correct horse battery staple"
	bobEmail     = "bob@example.com"
	bobPass      = "bob's long password 1"
	defaultScope = "read:sample write:sample"
)

// clock is a settable test clock shared by the server and key manager.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a live Sesame token service on loopback over a real SQLite store.
type env struct {
	t      testing.TB
	st     *sqlstore.Store
	box    *seal.Box
	hasher *password.Hasher
	clock  *clock
	srv    *httptest.Server
	issuer string
	keys   *token.Keys
	alice  string // user ids
	bob    string
	// mfaSender delivers MFA codes; a test may point it at a real sender.
	mfaSender *switchSender
	server    *oauthserver.Server
	sink      *logs.Sink
}

var cheap = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// newEnv starts a server with the default fixtures: an API with two scopes and offline access,
// a confidential and a public client, one database connection enabled for both (also the
// tenant's default directory) and two users. opts change the server's config before it starts.
func newEnv(t testing.TB, opts ...func(*oauthserver.Config)) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, box: box, hasher: password.NewHasher(cheap, 2),
		clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, mfaSender: &switchSender{}}
	keys := token.NewKeys(st, box, e.clock.Now)
	// Other algorithms get keys where a test needs them: each RSA key costs ~70 ms to make.
	if err := keys.Ensure(ctx, "RS256"); err != nil {
		t.Fatal(err)
	}
	e.keys = keys
	e.srv = httptest.NewUnstartedServer(nil)
	e.issuer = "http://" + e.srv.Listener.Addr().String() + "/"
	sink := logs.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock.Now)
	t.Cleanup(func() { _ = sink.Close(context.Background()) })
	e.sink = sink
	cfg := oauthserver.Config{
		Issuer:      e.issuer,
		Store:       st,
		Directories: dirs{users: st, hasher: e.hasher},
		Keys:        keys,
		Box:         box,
		Events:      sink,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         e.clock.Now,
		Hooks:       testHooks,
		MFASender:   e.mfaSender,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.server = oauthserver.New(cfg)
	e.srv.Config.Handler = e.server.Handler()
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	e.mustAPI(store.ResourceServer{Identifier: apiID, Name: "Sample API", AllowOfflineAccess: true,
		Scopes: []store.Scope{{Value: "read:sample"}, {Value: "write:sample"}}})
	e.mustClient(store.Client{ClientID: appID, Name: "Confidential App", AppType: "non_interactive",
		SecretHash: password.HashSecret(appSecret), TokenEndpointAuthMethod: "client_secret_post",
		GrantTypes:   []string{"password", "http://auth0.com/oauth/grant-type/password-realm", "refresh_token"},
		RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring"}})
	e.mustClient(store.Client{ClientID: spaID, Name: "Public App", AppType: "native",
		TokenEndpointAuthMethod: "none", GrantTypes: []string{"password", "refresh_token"},
		RefreshToken: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring"}})
	e.mustConnection(connName, appID, spaID)
	if err := st.UpdateTenant(ctx, func(tn *store.Tenant) error {
		tn.FriendlyName, tn.DefaultDirectory = "Test", connName
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.alice = e.mustUser(store.User{Connection: connName, Email: aliceEmail, EmailVerified: true, Name: "Alice Liddell", Nickname: "alice"}, alicePass)
	e.bob = e.mustUser(store.User{Connection: connName, Email: bobEmail, Username: "bob"}, bobPass)
	return e
}

// flush waits for what the requests so far left running (notices, tenant log events), so
// that a test reads the outbox or the tenant log, or asserts that nothing was sent, only
// once all of it is done.
func (e *env) flush() {
	e.t.Helper()
	if err := e.server.Flush(e.t.Context()); err != nil {
		e.t.Fatalf("flushing the server's background work: %v", err)
	}
}

// tenantLogs returns the tenant log events of type typ (every type when empty), newest first,
// once everything emitted so far is written.
func (e *env) tenantLogs(typ string) []store.LogEvent {
	e.t.Helper()
	e.flush()
	evs, err := e.st.ListLogs(e.t.Context(), store.LogFilter{Type: typ, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

type dirs struct {
	users  store.Users
	hasher *password.Hasher
}

func (d dirs) Directory(c store.Connection) (directory.Directory, error) {
	return database.New(d.users, c.Name, d.hasher), nil
}

func (e *env) mustAPI(api store.ResourceServer) {
	e.t.Helper()
	if api.ID == "" {
		api.ID = store.NewID("", 12)
	}
	now := e.clock.Now()
	api.CreatedAt, api.UpdatedAt = now, now
	if api.SigningAlg == "HS256" {
		api.SigningSecretSealed = e.box.Seal([]byte("hs256-api-secret-0123456789abcdef"), store.APISecretAAD(api.Identifier))
	}
	if err := e.st.CreateResourceServer(e.t.Context(), api); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mustClient(c store.Client) {
	e.t.Helper()
	now := e.clock.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	if err := e.st.CreateClient(e.t.Context(), c); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mustConnection(name string, clients ...string) {
	e.t.Helper()
	now := e.clock.Now()
	if err := e.st.CreateConnection(e.t.Context(), store.Connection{ID: store.NewConnectionID(), Name: name,
		Strategy: "auth0", EnabledClients: clients, CreatedAt: now, UpdatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mustUser(u store.User, pw string) string {
	e.t.Helper()
	hash, err := e.hasher.Hash(e.t.Context(), pw)
	if err != nil {
		e.t.Fatal(err)
	}
	u.ID, u.PasswordHash = store.NewUserID(), hash
	now := e.clock.Now()
	u.CreatedAt, u.UpdatedAt = now, now
	if err := e.st.CreateUser(e.t.Context(), u); err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// response is what a client sees.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r response) str(k string) string { s, _ := r.Body[k].(string); return s }

// do sends a request and decodes a JSON body when there is one.
func (e *env) do(req *http.Request) response {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.t.Fatalf("decoding %s: %v", raw, err)
		}
	}
	return out
}

// postForm posts a form body to path with extra headers.
func (e *env) postForm(path string, form url.Values, header ...string) response {
	e.t.Helper()
	return e.post(path, "application/x-www-form-urlencoded", form.Encode(), header...)
}

func (e *env) post(path, contentType, body string, header ...string) response {
	e.t.Helper()
	return e.send(http.MethodPost, path, contentType, body, header...)
}

// send makes a request with headers given as name, value pairs.
func (e *env) send(method, path, contentType, body string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

// passwordForm is a valid password grant by the confidential app for alice.
func passwordForm(kv ...string) url.Values {
	return formWith(url.Values{"grant_type": {"password"}, "client_id": {appID}, "client_secret": {appSecret},
		"username": {aliceEmail}, "password": {alicePass}, "audience": {apiID}}, kv...)
}

// formWith sets each key of kv (pairs) in f, or deletes it when its value is "".
func formWith(f url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			f.Del(kv[i])
		} else {
			f.Set(kv[i], kv[i+1])
		}
	}
	return f
}

// login runs a password grant and fails the test unless it succeeds.
func (e *env) login(kv ...string) response {
	e.t.Helper()
	r := e.postForm("/oauth/token", passwordForm(kv...))
	if r.Status != http.StatusOK {
		e.t.Fatalf("login: status %d body %s", r.Status, r.Raw)
	}
	return r
}

// jwks fetches the published key set.
func (e *env) jwks() jose.JSONWebKeySet {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodGet, e.srv.URL+"/.well-known/jwks.json", nil)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		e.t.Fatal(err)
	}
	return set
}

// decoded is a verified JWT's header and claims.
type decoded struct {
	Header map[string]any
	Claims map[string]any
}

// verify checks raw against the published JWKS (or secret for HS256) and returns its parts.
func (e *env) verify(raw string, hmacSecret ...byte) decoded {
	e.t.Helper()
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.RS512, jose.ES256, jose.EdDSA, jose.HS256}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		e.t.Fatalf("parsing %q: %v", raw, err)
	}
	var claims map[string]any
	h := tok.Headers[0]
	if h.Algorithm == "HS256" {
		err = tok.Claims(hmacSecret, &claims)
	} else {
		set := e.jwks()
		keys := set.Key(h.KeyID)
		if len(keys) != 1 {
			e.t.Fatalf("kid %q: %d keys in the JWKS, want 1", h.KeyID, len(keys))
		}
		if keys[0].Algorithm != h.Algorithm {
			e.t.Fatalf("JWKS alg %q, token alg %q", keys[0].Algorithm, h.Algorithm)
		}
		err = tok.Claims(keys[0].Key, &claims)
	}
	if err != nil {
		e.t.Fatalf("verifying: %v", err)
	}
	seg := strings.SplitN(raw, ".", 2)[0]
	hb, _ := base64.RawURLEncoding.DecodeString(seg)
	var header map[string]any
	_ = json.Unmarshal(hb, &header)
	return decoded{Header: header, Claims: claims}
}

package oauthserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// goldenName is the golden file of a table case: its name with every run of characters other
// than letters, digits and underscores turned into one dash, and ".golden".
func goldenName(name string) string {
	return strings.Trim(nonName.ReplaceAllString(strings.ToLower(name), "-"), "-") + ".golden"
}

var nonName = regexp.MustCompile(`[^a-z0-9_]+`)

// staleGoldens fails for golden files in testdata/dir that no case wrote (a case renamed or
// removed), and deletes them with -update. Call it only when every case ran.
func staleGoldens(t *testing.T, dir string, ran map[string]bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if ran[filepath.Base(f)] {
			continue
		}
		if *update {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s belongs to no case (run with -update to remove it)", f)
	}
}

func (e *env) get(path string, header ...string) response {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodGet, e.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

func TestDiscoveryGolden(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		r := e.get(path)
		if r.Status != 200 {
			t.Fatalf("%s: %d", path, r.Status)
		}
		var pretty map[string]any
		_ = json.Unmarshal([]byte(strings.ReplaceAll(r.Raw, e.issuer, "https://sesame.test/")), &pretty)
		out, _ := json.MarshalIndent(pretty, "", "  ")
		golden(t, "discovery.golden", append(out, '\n'))
	}
}

func TestJWKSShape(t *testing.T) {
	e := newEnv(t)
	r := e.get("/.well-known/jwks.json")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &set); err != nil {
		t.Fatal(err)
	}
	var shape []string
	for _, k := range set.Keys {
		for _, f := range []string{"kty", "kid", "alg", "use"} {
			if k[f] == nil || k[f] == "" {
				t.Errorf("key %v lacks %s", k["kid"], f)
			}
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Fatalf("key %v publishes private member %s", k["kid"], private)
			}
		}
		shape = append(shape, k["kty"].(string)+" "+k["alg"].(string)+" "+k["use"].(string))
	}
	// Current and next key of each algorithm, RSA keys first (auth0-python reads every key as RSA).
	golden(t, "jwks-shape.golden", []byte(strings.Join(shape, "\n")+"\n"))
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// assertion is an RFC 7523 client assertion of clientID signed with key (ES256), valid for a
// minute; mut may change its claims.
func (e *env) assertion(key *ecdsa.PrivateKey, clientID string, mut func(c *jwt.Claims)) string {
	e.t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	c := jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{e.issuer}, ID: store.NewID("", 8),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
	if mut != nil {
		mut(&c)
	}
	raw, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

func TestClientAuthentication(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	const jwtClient = "app-private-key-jwt-0000000000003"
	assertion := func(e *env, mut func(c *jwt.Claims)) string { return e.assertion(key, jwtClient, mut) }
	setup := func(e *env) {
		e.mustClient(store.Client{ClientID: jwtClient, TokenEndpointAuthMethod: "private_key_jwt", GrantTypes: []string{"password"},
			Credentials: []store.ClientCredential{{ID: "cred_1", Name: "k", PEM: pubPEM}}})
		if err := e.st.UpdateConnection(t.Context(), connName, func(c *store.Connection) error {
			c.EnabledClients = append(c.EnabledClients, jwtClient)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	withAssertion := func(a string) url.Values {
		return passwordForm("client_id", "", "client_secret", "", "client_assertion", a,
			"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	}
	tests := []struct {
		name   string
		run    func(e *env) response
		status int
	}{
		{name: "client_secret_post", run: func(e *env) response { return e.postForm("/oauth/token", passwordForm()) }, status: 200},
		{name: "client_secret_basic", run: func(e *env) response {
			return e.postForm("/oauth/token", passwordForm("client_id", "", "client_secret", ""), "Authorization", basic(appID, appSecret))
		}, status: 200},
		{name: "basic wrong secret", run: func(e *env) response {
			return e.postForm("/oauth/token", passwordForm("client_id", "", "client_secret", ""), "Authorization", basic(appID, "nope"))
		}, status: 401},
		{name: "none", run: func(e *env) response {
			return e.postForm("/oauth/token", passwordForm("client_id", spaID, "client_secret", ""))
		}, status: 200},
		{name: "private_key_jwt", run: func(e *env) response { return e.postForm("/oauth/token", withAssertion(assertion(e, nil))) }, status: 200},
		{name: "private_key_jwt token endpoint audience", run: func(e *env) response {
			return e.postForm("/oauth/token", withAssertion(assertion(e, func(c *jwt.Claims) { c.Audience = jwt.Audience{e.issuer + "oauth/token"} })))
		}, status: 200},
		{name: "private_key_jwt replayed jti", run: func(e *env) response {
			a := assertion(e, nil)
			if r := e.postForm("/oauth/token", withAssertion(a)); r.Status != 200 {
				t.Fatalf("first use: %d %s", r.Status, r.Raw)
			}
			return e.postForm("/oauth/token", withAssertion(a))
		}, status: 401},
		{name: "private_key_jwt expired", run: func(e *env) response {
			return e.postForm("/oauth/token", withAssertion(assertion(e, func(c *jwt.Claims) {
				c.Expiry = jwt.NewNumericDate(e.clock.Now().Add(-time.Minute))
			})))
		}, status: 401},
		{name: "private_key_jwt wrong audience", run: func(e *env) response {
			return e.postForm("/oauth/token", withAssertion(assertion(e, func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://elsewhere/"} })))
		}, status: 401},
		{name: "private_key_jwt client with secret", run: func(e *env) response {
			return e.postForm("/oauth/token", passwordForm("client_id", jwtClient, "client_secret", appSecret))
		}, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			setup(e)
			r := tt.run(e)
			if r.Status != tt.status {
				t.Fatalf("got %d %s, want %d", r.Status, r.Raw, tt.status)
			}
			if tt.status == 401 && (r.str("error") != "access_denied" || r.str("error_description") != "Unauthorized") {
				t.Fatalf("got %s, want access_denied Unauthorized", r.Raw)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	rt := e.login("scope", "offline_access").str("refresh_token")
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{name: "bad client", form: url.Values{"client_id": {appID}, "client_secret": {"nope"}, "token": {rt}}, status: 401, code: "invalid_client"},
		{name: "missing token", form: url.Values{"client_id": {appID}, "client_secret": {appSecret}}, status: 400, code: "invalid_request"},
		{name: "other client's token is ignored", form: url.Values{"client_id": {spaID}, "token": {rt}}, status: 200},
		{name: "unknown token", form: url.Values{"client_id": {appID}, "client_secret": {appSecret}, "token": {"whatever"}}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postForm("/oauth/revoke", tt.form)
			if r.Status != tt.status || (tt.code != "" && r.str("error") != tt.code) {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tt.status, tt.code)
			}
		})
	}
	if r := e.postForm("/oauth/token", refreshForm(rt)); r.Status != 200 {
		t.Fatalf("token revoked by a foreign or failed request: %d %s", r.Status, r.Raw)
	}
	rt2 := e.login("scope", "offline_access").str("refresh_token")
	r := e.post("/oauth/revoke", "application/json", `{"client_id":"`+appID+`","client_secret":"`+appSecret+`","token":"`+rt2+`"}`)
	if r.Status != 200 || r.Raw != "" {
		t.Fatalf("revoke: %d %q, want 200 and an empty body", r.Status, r.Raw)
	}
	wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt2)), invalidRefresh)
}

func TestIntrospect(t *testing.T) {
	e := newEnv(t)
	login := e.login("scope", "openid offline_access")
	at, rt := login.str("access_token"), login.str("refresh_token")
	intro := func(tok string) response {
		return e.postForm("/oauth/introspect", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "token": {tok}})
	}
	r := intro(at)
	if r.Body["active"] != true || r.str("sub") != e.alice || r.str("client_id") != appID || r.str("token_type") != "access_token" {
		t.Errorf("access token: %s", r.Raw)
	}
	r = intro(rt)
	if r.Body["active"] != true || r.str("sub") != e.alice || r.str("token_type") != "refresh_token" {
		t.Errorf("refresh token: %s", r.Raw)
	}
	if r := intro("garbage"); !cmp.Equal(r.Body, map[string]any{"active": false}) {
		t.Errorf("garbage: %s", r.Raw)
	}
	e.postForm("/oauth/revoke", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "token": {rt}})
	if r := intro(rt); r.Body["active"] != false {
		t.Errorf("revoked refresh token: %s", r.Raw)
	}
	if r := e.postForm("/oauth/introspect", url.Values{"client_id": {spaID}, "token": {at}}); r.Status != 401 || r.str("error") != "invalid_client" {
		t.Errorf("public client: %d %s, want 401 invalid_client", r.Status, r.Raw)
	}
	e.clock.Advance(86401 * time.Second)
	if r := intro(at); r.Body["active"] != false {
		t.Errorf("expired access token: %s", r.Raw)
	}
}

func TestUserinfo(t *testing.T) {
	e := newEnv(t)
	withOpenID := e.login("scope", "openid profile email").str("access_token")
	withoutOpenID := e.login().str("access_token")
	tests := []struct {
		name   string
		header []string
		status int
		want   map[string]any
	}{
		{name: "profile and email", header: []string{"Authorization", "Bearer " + withOpenID}, status: 200},
		{name: "no openid scope", header: []string{"Authorization", "Bearer " + withoutOpenID}, status: 401},
		{name: "garbage token", header: []string{"Authorization", "Bearer abc.def.ghi"}, status: 401},
		{name: "no token", status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("/userinfo", tt.header...)
			if r.Status != tt.status {
				t.Fatalf("got %d %s, want %d", r.Status, r.Raw, tt.status)
			}
			if tt.status == 200 {
				for k, want := range map[string]any{"sub": e.alice, "name": "Alice Liddell", "nickname": "alice", "email": aliceEmail, "email_verified": true} {
					if r.Body[k] != want {
						t.Errorf("%s = %v, want %v", k, r.Body[k], want)
					}
				}
			} else if r.Header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
}

func TestForwardedForAndLogs(t *testing.T) {
	e := newEnv(t)
	if err := e.st.UpdateClient(t.Context(), appID, func(c *store.Client) error { c.IsTokenEndpointIPHeaderTrusted = true; return nil }); err != nil {
		t.Fatal(err)
	}
	e.postForm("/oauth/token", passwordForm(), "auth0-forwarded-for", "203.0.113.7")
	e.postForm("/oauth/token", passwordForm("client_id", spaID, "client_secret", ""), "auth0-forwarded-for", "203.0.113.8")
	e.postForm("/oauth/token", passwordForm("password", "nope"))
	events := e.tenantLogs("")
	got := map[string]string{}
	for _, ev := range events {
		got[ev.Type+" "+ev.ClientID] = ev.IP
		if strings.Contains(ev.Description, alicePass) || strings.Contains(ev.Description, appSecret) {
			t.Errorf("event %s leaks a secret: %q", ev.Type, ev.Description)
		}
	}
	want := map[string]string{
		"sepft " + appID: "203.0.113.7", // trusted confidential client speaks for the user
		"sepft " + spaID: "127.0.0.1",   // a public client's header is ignored
		"fp " + appID:    "127.0.0.1",
		"fepft " + appID: "127.0.0.1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestIntrospectOnlyAccessTokens: RFC 7662 §2.2 — introspection says active only for an access
// token of this server that is valid now (or a live refresh token of the asking client), and
// for anything else answers exactly {"active":false}: ID tokens (RS256 and HS256), tokens of
// another issuer, HS256 tokens not made with the API's secret, spent refresh tokens.
func TestIntrospectOnlyAccessTokens(t *testing.T) {
	e := newEnv(t)
	e.mustAPI(store.ResourceServer{Identifier: "https://hs.example", SigningAlg: "HS256", Scopes: []store.Scope{{Value: "x"}}})
	e.mustAPI(store.ResourceServer{Identifier: "https://rfc9068.example", TokenDialect: "rfc9068_profile", Scopes: []store.Scope{{Value: "x"}}})
	if err := e.st.UpdateClient(t.Context(), appID, func(c *store.Client) error {
		c.IDTokenAlg = "HS256"
		c.SecretSealed = e.box.Seal([]byte(appSecret), store.ClientSecretAAD(appID))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rsLogin := e.login("scope", "openid offline_access")
	spent := rsLogin.str("refresh_token")
	if r := e.postForm("/oauth/token", refreshForm(spent)); r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	if err := e.st.UpdateClient(t.Context(), appID, func(c *store.Client) error { c.IDTokenAlg = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	rsID := e.login("scope", "openid").str("id_token")
	spaRT := e.postForm("/oauth/token", url.Values{"grant_type": {"password"}, "client_id": {spaID}, "username": {aliceEmail},
		"password": {alicePass}, "audience": {apiID}, "scope": {"offline_access"}}).str("refresh_token")
	other := token.Minter{Keys: e.keys, Issuer: "https://other.example/", Now: e.clock.Now}
	foreign, _, err := other.AccessToken(t.Context(), token.AccessToken{Subject: e.alice, ClientID: appID, Audience: apiID, GrantType: "password"})
	if err != nil {
		t.Fatal(err)
	}
	forged := signHS(t, []byte("not-the-api-secret-0123456789abcdef"), map[string]any{"iss": e.issuer, "sub": e.alice,
		"aud": "https://hs.example", "azp": appID, "gty": "password", "iat": e.clock.Now().Unix(), "exp": e.clock.Now().Add(time.Hour).Unix()})

	tests := []struct {
		name       string
		token      string
		wantActive bool
	}{
		{"RS256 access token", rsLogin.str("access_token"), true},
		{"RFC 9068 access token", e.login("audience", "https://rfc9068.example").str("access_token"), true},
		{"HS256 API access token", e.login("audience", "https://hs.example").str("access_token"), true},
		{"RS256 ID token", rsID, false},
		{"HS256 ID token", rsLogin.str("id_token"), false},
		{"HS256 token not made with the API's secret", forged, false},
		{"access token of another issuer", foreign, false},
		{"spent refresh token", spent, false},
		{"refresh token of another client", spaRT, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.token == "" {
				t.Fatal("no token to introspect")
			}
			r := e.postForm("/oauth/introspect", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "token": {tt.token}})
			if r.Status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", r.Status, r.Raw)
			}
			if !tt.wantActive {
				if !cmp.Equal(r.Body, map[string]any{"active": false}) {
					t.Errorf("got %s, want exactly {\"active\":false}", r.Raw)
				}
				return
			}
			if r.Body["active"] != true || r.str("token_type") != "access_token" || r.str("sub") != e.alice {
				t.Errorf("got %s, want an active access token of alice", r.Raw)
			}
		})
	}
}

// signHS signs claims with HS256 under secret, as a forger who does not know our keys would.
func signHS(t *testing.T, secret []byte, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestRevokedKeyStopsVerifying: a key revoked by another process (`sesame keys revoke`) leaves
// the server's JWKS within token.RefreshInterval, and the access tokens it signed stop working
// everywhere the server verifies its own tokens: introspection answers active:false and
// /userinfo 401. Tokens signed afterwards (by the former next key) work.
func TestRevokedKeyStopsVerifying(t *testing.T) {
	e := newEnv(t)
	old := e.login("scope", "openid").str("access_token")
	kid, _ := e.verify(old).Header["kid"].(string)
	intro := func(tok string) response {
		return e.postForm("/oauth/introspect", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "token": {tok}})
	}
	if r := intro(old); r.Body["active"] != true {
		t.Fatalf("before revocation: introspect %s, want active", r.Raw)
	}

	cli := token.NewKeys(e.st, e.box, e.clock.Now)
	if _, err := cli.Revoke(t.Context(), kid); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(token.RefreshInterval)

	if set := e.jwks(); len(set.Key(kid)) != 0 || len(set.Keys) == 0 {
		t.Errorf("JWKS after revocation: got %d keys, %d with the revoked kid %s; want it gone", len(set.Keys), len(set.Key(kid)), kid)
	}
	if r := intro(old); !cmp.Equal(r.Body, map[string]any{"active": false}) {
		t.Errorf("introspect a token of the revoked key: got %s, want {\"active\":false}", r.Raw)
	}
	if r := e.get("/userinfo", "Authorization", "Bearer "+old); r.Status != http.StatusUnauthorized || r.str("error") != "invalid_token" {
		t.Errorf("userinfo with a token of the revoked key: got %d %s, want 401 invalid_token", r.Status, r.Raw)
	}
	fresh := e.login("scope", "openid").str("access_token")
	if got, _ := e.verify(fresh).Header["kid"].(string); got == kid {
		t.Errorf("token signed after revocation: kid %s, want another key", got)
	}
	if r := intro(fresh); r.Body["active"] != true {
		t.Errorf("introspect a token signed after revocation: %s, want active", r.Raw)
	}
	if r := e.get("/userinfo", "Authorization", "Bearer "+fresh); r.Status != http.StatusOK {
		t.Errorf("userinfo with a token signed after revocation: got %d %s, want 200", r.Status, r.Raw)
	}
}

package compat_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tenant every test runs against; tenantYAML writes it.
const (
	apiID        = "https://api.compat.test"
	realm        = "Username-Password-Authentication"
	clientID     = "compat-app-000000000000000000001"
	clientSecret = "compat-secret-0123456789abcdef0123456789abcdef"
	jwtClientID  = "compat-jwt-app-00000000000000002"
	// A client whose ID tokens are PS256 (Auth0's jwt_configuration.alg PS256).
	ps256ClientID     = "compat-ps256-app-000000000000005"
	ps256ClientSecret = "compat-ps256-secret-0123456789abcdef0123456789ab"
	password          = "Correct Horse Battery Staple 9"
	wrongDesc         = "Wrong email or password."
)

// Each test file logs in as its own user, so that per-user login counters (attack protection
// counts attempts per user and IP) of one test never throttle another.
var users = []struct{ email, name string }{
	{"alice@example.com", "Alice"}, // go-auth0
	{"bob@example.com", "Bob"},     // wrong passwords only
	{"carol@example.com", "Carol"}, // x/oauth2
	{"dave@example.com", "Dave"},   // go-oidc
	{"erin@example.com", "Erin"},   // apiauth
	{"frank@example.com", "Frank"}, // key rotation
	{"grace@example.com", "Grace"}, // MFA
	{"heidi@example.com", "Heidi"}, // node: auth0 (AuthenticationClient)
	{"ivan@example.com", "Ivan"},   // node: @auth0/auth0-auth-js
	{"judy@example.com", "Judy"},   // node: openid-client and jose
	{"mike@example.com", "Mike"},   // node: express-oauth2-jwt-bearer
	{"nina@example.com", "Nina"},   // node: MFA with @auth0/auth0-auth-js
	{"olga@example.com", "Olga"},   // a browser app (chromium)
}

const (
	readyTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
)

// srv is the one server the tests share; TestMain starts it before any test runs.
var srv *sesameServer

// sesameServer is a running `sesame serve` subprocess and what a client needs to reach it.
type sesameServer struct {
	dir      string // temporary directory: binary, database, KEK, TLS files, tenant file
	bin      string
	dbDSN    string
	kekFile  string
	hostPort string // 127.0.0.1:PORT, the "domain" go-auth0 takes
	issuer   string // https://127.0.0.1:PORT/
	roots    *x509.CertPool
	certFile string
	// pageOrigin is the origin the browser app's client lists in web_origins; browser_test.go
	// serves its page there.
	pageOrigin string

	// jwtKeyPEM is the PKCS #8 private key whose public half is registered for the
	// private_key_jwt client; otherKeyPEM is a key the server does not know.
	jwtKeyPEM   string
	otherKeyPEM string

	cmd  *exec.Cmd
	done chan struct{} // closed when the serve process has exited
	logs *lockedBuffer
}

// lockedBuffer collects the subprocess's output, written by exec's copying goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	s, err := startServer()
	if s != nil {
		defer s.stop()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "compat: starting sesame: %v\n", err)
		if s != nil && s.logs != nil {
			fmt.Fprintf(os.Stderr, "--- sesame serve output ---\n%s\n", s.logs.String())
		}
		return 1
	}
	srv = s
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- sesame serve output ---\n%s\n", s.logs.String())
	}
	return code
}

// startServer builds the binary, writes TLS material, a KEK and the tenant file, applies the
// tenant and starts `sesame serve`, returning once /readyz answers 200.
func startServer() (*sesameServer, error) {
	dir, err := os.MkdirTemp("", "sesame-compat-")
	if err != nil {
		return nil, err
	}
	s := &sesameServer{dir: dir, bin: filepath.Join(dir, "sesame"), logs: &lockedBuffer{}}
	root, err := filepath.Abs("..")
	if err != nil {
		return s, err
	}
	build := exec.Command("go", "build", "-o", s.bin, "github.com/sesameauth/sesame/cmd/sesame")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return s, fmt.Errorf("go build: %w\n%s", err, out)
	}

	pagePort, err := freePort()
	if err != nil {
		return s, err
	}
	s.pageOrigin = "http://127.0.0.1:" + pagePort
	jwtPub, jwtPriv, err := rsaKeyPEMs()
	if err != nil {
		return s, err
	}
	_, otherPriv, err := rsaKeyPEMs()
	if err != nil {
		return s, err
	}
	s.jwtKeyPEM, s.otherKeyPEM = jwtPriv, otherPriv
	return s, s.launch(tenantYAML(jwtPub, s.pageOrigin))
}

// launch gives s a loopback port, a self-signed certificate, a KEK and a SQLite database in
// s.dir, applies tenant there and starts `sesame serve` over TLS, returning once /readyz
// answers 200. s.bin must be built.
func (s *sesameServer) launch(tenant string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.hostPort = net.JoinHostPort("127.0.0.1", port)
	s.issuer = "https://" + s.hostPort + "/"
	certFile, keyFile := filepath.Join(s.dir, "cert.pem"), filepath.Join(s.dir, "key.pem")
	s.certFile = certFile
	if s.roots, err = writeSelfSignedCert(certFile, keyFile); err != nil {
		return err
	}
	s.kekFile = filepath.Join(s.dir, "kek")
	kek := make([]byte, 32)
	if _, err := rand.Read(kek); err != nil {
		return err
	}
	if err := os.WriteFile(s.kekFile, []byte(base64.StdEncoding.EncodeToString(kek)+"\n"), 0o600); err != nil {
		return err
	}
	s.dbDSN = "sqlite://" + filepath.Join(s.dir, "sesame.db")
	tenantFile := filepath.Join(s.dir, "tenant.yaml")
	if err := os.WriteFile(tenantFile, []byte(tenant), 0o600); err != nil {
		return err
	}
	if out, err := s.command(context.Background(), "apply", "-f", tenantFile).CombinedOutput(); err != nil {
		return fmt.Errorf("sesame apply: %w\n%s", err, out)
	}

	s.cmd = s.command(context.Background(), "serve",
		"--addr", s.hostPort,
		"--issuer", s.issuer,
		"--tls-cert", certFile,
		"--tls-key", keyFile,
	)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("sesame serve: %w", err)
	}
	s.done = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	return s.waitReady()
}

// command runs a sesame subcommand against the test database, with password hashing made cheap
// so that the suite stays fast (these are the SESAME_* variables the CLI folds into its config).
func (s *sesameServer) command(ctx context.Context, args ...string) *exec.Cmd {
	args = append(args, "--db", s.dbDSN, "--kek-file", s.kekFile)
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(),
		"SESAME_PASSWORD_HASH_MEMORY_KIB=64",
		"SESAME_PASSWORD_HASH_ITERATIONS=1",
	)
	return cmd
}

// waitReady polls GET /readyz until it answers 200, the process exits or readyTimeout passes.
func (s *sesameServer) waitReady() error {
	client := s.httpClient()
	client.Timeout = time.Second
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("sesame serve exited before it was ready: %v", s.cmd.ProcessState)
		default:
		}
		resp, err := client.Get("https://" + s.hostPort + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /readyz: status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %v", readyTimeout, last)
}

// stop sends SIGTERM, kills the process if it has not exited after stopTimeout, and removes
// the temporary directory.
func (s *sesameServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.done != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			fmt.Fprintln(os.Stderr, "compat: sesame serve ignored SIGTERM; killing it")
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	_ = os.RemoveAll(s.dir)
}

// httpClient returns a new client that trusts exactly the server's self-signed certificate.
// Each caller gets its own: go-auth0 wraps the transport of the client it is given.
func (s *sesameServer) httpClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12},
		},
	}
}

// url returns the absolute URL of path on the server.
func (s *sesameServer) url(path string) string {
	return strings.TrimSuffix(s.issuer, "/") + path
}

// rotateKeys runs `sesame keys rotate` against the live database.
func (s *sesameServer) rotateKeys(t *testing.T) {
	t.Helper()
	out, err := s.command(t.Context(), "keys", "rotate").CombinedOutput()
	if err != nil {
		t.Fatalf("sesame keys rotate: %v\n%s", err, out)
	}
}

// freePort asks the kernel for a free loopback port. Another process could take it before
// sesame binds it; on a test machine that race is rare enough.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// writeSelfSignedCert writes a self-signed ECDSA P-256 certificate for 127.0.0.1 and its key as
// PEM files, and returns a pool holding only that certificate.
func writeSelfSignedCert(certFile, keyFile string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sesame compat test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, nil
}

// rsaKeyPEMs generates an RSA key and returns its public half (PKIX) and private half
// (PKCS #8) as PEM.
func rsaKeyPEMs() (pub, priv string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), nil
}

// tenantYAML is the tenant file, in the Auth0 Deploy CLI layout plus Sesame's users section.
func tenantYAML(jwtPublicKeyPEM, pageOrigin string) string {
	// A JSON string is a valid YAML double-quoted scalar, newlines escaped.
	pemScalar, _ := json.Marshal(jwtPublicKeyPEM)
	var b strings.Builder
	fmt.Fprintf(&b, `tenant:
  friendly_name: Compat
  default_directory: %[1]s
  default_audience: %[2]s
resourceServers:
  - name: Compat API
    identifier: %[2]s
    allow_offline_access: true
    scopes: [{value: read:data, description: Read}, {value: write:data, description: Write}]
%[7]sclients:
  - name: Compat App
    client_id: %[3]s
    client_secret: %[4]s
    app_type: non_interactive
    token_endpoint_auth_method: client_secret_post
    grant_types: [password, "http://auth0.com/oauth/grant-type/password-realm", refresh_token,
      "http://auth0.com/oauth/grant-type/mfa-otp", "http://auth0.com/oauth/grant-type/mfa-oob",
      "http://auth0.com/oauth/grant-type/mfa-recovery-code"]
    refresh_token: {rotation_type: rotating, expiration_type: expiring}
  - name: Compat JWT App
    client_id: %[5]s
    app_type: non_interactive
    token_endpoint_auth_method: private_key_jwt
    grant_types: [password, "http://auth0.com/oauth/grant-type/password-realm", refresh_token]
    client_authentication_methods:
      private_key_jwt:
        credentials: [{name: k1, credential_type: public_key, pem: %[6]s}]
  - name: Compat HS256 App
    client_id: %[8]s
    client_secret: %[9]s
    app_type: regular_web
    token_endpoint_auth_method: client_secret_post
    grant_types: [password, "http://auth0.com/oauth/grant-type/password-realm", refresh_token]
    jwt_configuration: {alg: HS256}
  - name: Compat PS256 App
    client_id: %[11]s
    client_secret: %[12]s
    app_type: regular_web
    token_endpoint_auth_method: client_secret_post
    grant_types: [password]
    jwt_configuration: {alg: PS256}
  - name: Compat Public App
    client_id: %[10]s
    app_type: native
    token_endpoint_auth_method: none
    grant_types: [password, "http://auth0.com/oauth/grant-type/password-realm", refresh_token]
  - name: Compat M2M
    client_id: %[13]s
    client_secret: %[14]s
    app_type: non_interactive
    grant_types: [client_credentials]
  - name: Compat Management
    client_id: compat-mgmt-app-0000000000000008
    client_secret: compat-mgmt-secret-0123456789abcdef0123456789a
    app_type: non_interactive
    grant_types: [client_credentials]
  - name: Compat Management Reader
    client_id: compat-mgmt-ro-app-0000000000009
    client_secret: compat-mgmt-ro-secret-0123456789abcdef012345678
    app_type: non_interactive
    grant_types: [client_credentials]
  - name: Compat Browser App
    client_id: %[15]s
    app_type: spa
    token_endpoint_auth_method: none
    grant_types: [password]
    web_origins: [%[16]q]
clientGrants:
  - client_id: Compat M2M
    audience: %[2]s
    scope: [read:data, write:data]
  - client_id: Compat Management
    audience: https://acme.eu.auth0.com/api/v2/
    scope: [read:clients, create:clients, update:clients, delete:clients, update:client_keys, read:connections, create:connections, update:connections, delete:connections, read:resource_servers, create:resource_servers, update:resource_servers, delete:resource_servers, read:client_grants, create:client_grants, update:client_grants, delete:client_grants, read:tenant_settings, update:tenant_settings, read:users, create:users, update:users, delete:users, read:logs]
  - client_id: Compat Management Reader
    audience: https://acme.eu.auth0.com/api/v2/
    scope: [read:clients]
databases:
  - name: %[1]s
    strategy: auth0
    enabled_clients: [Compat App, Compat JWT App, Compat HS256 App, Compat PS256 App, Compat Public App, Compat Browser App]
users:
`, realm, apiID, clientID, clientSecret, jwtClientID, pemScalar, nodeAPIsYAML(),
		hs256ClientID, hs256ClientSecret, publicClientID, ps256ClientID, ps256ClientSecret, m2mClientID, m2mClientSecret,
		browserClientID, pageOrigin)
	for _, u := range users {
		fmt.Fprintf(&b, `  - connection: %s
    email: %s
    password: %q
    name: %s
    email_verified: true
`, realm, u.email, password, u.name)
	}
	b.WriteString(nodeMFAYAML)
	return b.String()
}

// decodeJWT returns the header and claims of a compact JWS without verifying it: the client
// libraries under test verify; the tests only read what those libraries accepted.
func decodeJWT(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("got a token with %d parts, want a compact JWS (3): %q", len(parts), raw)
	}
	decode := func(what, s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWT %s is not base64url: %v", what, err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("JWT %s is not a JSON object: %v", what, err)
		}
		return m
	}
	return decode("header", parts[0]), decode("claims", parts[1])
}

// audiences reads "aud", a string or an array of strings (RFC 7519 §4.1.3).
func audiences(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// scopeSet splits a space-separated scope string into a set.
func scopeSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, f := range strings.Fields(s) {
		set[f] = true
	}
	return set
}

// checkScopes fails unless scope holds every scope in want and none in unwanted.
func checkScopes(t *testing.T, what, scope string, want, unwanted []string) {
	t.Helper()
	got := scopeSet(scope)
	for _, w := range want {
		if !got[w] {
			t.Errorf("%s: got scope %q, want it to contain %q", what, scope, w)
		}
	}
	for _, u := range unwanted {
		if got[u] {
			t.Errorf("%s: got scope %q, want it without %q", what, scope, u)
		}
	}
}

// errorsAs is errors.As with a typed result, for table-driven error checks.
func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}

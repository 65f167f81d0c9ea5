package compat_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoManagementAPI runs `sesame demo --tls-self-signed` and uses only what it printed: the
// Management API client's credentials, the token request, the Management API URL and the
// Deploy CLI's environment (the certificate file to trust included). A client-credentials
// token from the printed values lists the demo's users; the Deploy CLI exports the demo
// tenant with the printed environment.
func TestDemoManagementAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, srv.bin, "demo", "--addr", "127.0.0.1:"+port, "--tls-self-signed",
		"--db", "sqlite://"+filepath.Join(dir, "demo.db"))
	cmd.Dir = dir // the demo writes its key-encryption key and certificate to the working directory
	cmd.Env = append(os.Environ(), "SESAME_PASSWORD_HASH_MEMORY_KIB=64", "SESAME_PASSWORD_HASH_ITERATIONS=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("--- sesame demo log ---\n%s", logs.String())
		}
	})

	// Read the banner up to its last line, the a0deploy command.
	banner := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(strings.TrimSpace(sc.Text()), "a0deploy export --") {
				break
			}
		}
		banner <- b.String()
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var out string
	select {
	case out = <-banner:
	case <-time.After(readyTimeout):
		t.Fatalf("sesame demo printed no Deploy CLI environment within %s", readyTimeout)
	}

	printed := map[string]string{}
	for _, m := range regexp.MustCompile(`\b(AUTH0_[A-Z_]+|NODE_EXTRA_CA_CERTS)=(\S+)`).FindAllStringSubmatch(out, -1) {
		printed[m[1]] = m[2]
	}
	for _, k := range []string{"AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "NODE_EXTRA_CA_CERTS"} {
		if printed[k] == "" {
			t.Fatalf("the banner sets no %s:\n%s", k, out)
		}
	}
	if want := net.JoinHostPort("127.0.0.1", port); printed["AUTH0_DOMAIN"] != want {
		t.Errorf("AUTH0_DOMAIN=%s, want %s", printed["AUTH0_DOMAIN"], want)
	}
	m := regexp.MustCompile(`curl --cacert (\S+) -s (\S+/oauth/token) -d grant_type=client_credentials \\\n\s+-d client_id=(\S+) -d client_secret=(\S+) -d audience=(\S+)`).
		FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the banner has no client-credentials curl command trusting the certificate file:\n%s", out)
	}
	caFile, tokenURL, id, secret, audience := m[1], m[2], m[3], m[4], m[5]
	if caFile != printed["NODE_EXTRA_CA_CERTS"] || id != printed["AUTH0_CLIENT_ID"] || secret != printed["AUTH0_CLIENT_SECRET"] {
		t.Errorf("the curl command and the Deploy CLI environment name different files or clients:\n%s", out)
	}
	usersURL := regexp.MustCompile(`curl --cacert \S+ -s (\S+/api/v2/users) `).FindStringSubmatch(out)
	if usersURL == nil {
		t.Fatalf("the banner has no Management API call:\n%s", out)
	}

	// Trust exactly the printed certificate file, as curl --cacert does.
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("the printed certificate file: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no PEM certificate", caFile)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	res, err := hc.PostForm(tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
		"client_secret": {secret}, "audience": {audience}})
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token request: status %d, %v", res.StatusCode, err)
	}
	checkScopes(t, "the demo's management token", tok.Scope,
		[]string{"read:users", "create:users", "read:clients", "update:tenant_settings", "read:logs"}, nil)

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, usersURL[1], nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", usersURL[1], err)
	}
	var list []struct {
		Email string `json:"email"`
	}
	err = json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || len(list) != 1 || list[0].Email != "demo@example.com" {
		t.Fatalf("GET %s: status %d, %v, users %+v, want the demo user", usersURL[1], res.StatusCode, err, list)
	}

	t.Run("a0deploy export with the printed environment", func(t *testing.T) {
		nodeBin, cli := deployCLI(t)
		exportDir := filepath.Join(t.TempDir(), "export")
		c := exec.CommandContext(ctx, nodeBin, cli, "export", "--format", "yaml", "--output_folder", exportDir)
		c.Dir = t.TempDir()
		c.Env = os.Environ()
		for k, v := range printed {
			c.Env = append(c.Env, k+"="+v)
		}
		if b, err := c.CombinedOutput(); err != nil {
			t.Fatalf("a0deploy export: %v, want exit status 0\n%s", err, b)
		}
		yamlOut, err := os.ReadFile(filepath.Join(exportDir, "tenant.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"name: Demo App", "name: Sample API", "name: Username-Password-Authentication", "friendly_name: Sesame Demo"} {
			if !strings.Contains(string(yamlOut), want) {
				t.Errorf("exported tenant.yaml lacks %q", want)
			}
		}
	})
}

package compat_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserClientID is a public single-page app whose web_origins list harness's pageOrigin.
const browserClientID = "compat-browser-app-0000000000006"

// browserPage is a browser app's page: run() does the password grant and calls /userinfo with
// fetch(), as a "highly trusted client-side web app" of Auth0's ROPG page would, and returns
// (and shows as the page title) what the script could read. form sends the grant as a form
// body, which a browser sends without a preflight.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>pending</title></head><body>
<p id="out">pending</p>
<script>
async function run(issuer, clientID, username, password, form) {
  let outcome;
  try {
    const grant = {grant_type: "password", client_id: clientID, username, password, scope: "openid profile email"};
    const init = form
      ? {method: "POST", body: new URLSearchParams(grant)}
      : {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(grant)};
    const t = await fetch(issuer + "oauth/token", init);
    const tok = await t.json();
    if (!t.ok || !tok.access_token) {
      outcome = "token refused: " + t.status + " " + tok.error;
    } else {
      const u = await fetch(issuer + "userinfo", {headers: {Authorization: "Bearer " + tok.access_token}});
      const info = await u.json();
      outcome = "userinfo " + u.status + " " + info.email;
    }
  } catch (e) {
    outcome = "rejected: " + e.name;
  }
  document.title = outcome;
  document.getElementById("out").textContent = outcome;
  return outcome;
}
</script></body></html>`

// chromiumPath finds Debian's chromium (CI installs it; see .ci/run).
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserCORS runs the password grant and /userinfo from a page in a real browser
// (headless chromium over the DevTools protocol): from the origin the client lists it gets the
// tokens and the profile; from another loopback origin the browser's fetch() rejects, because
// Sesame answers that origin without Access-Control-Allow-Origin.
func TestBrowserCORS(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("chromium is not installed (CI installs Debian's chromium: apt-get install chromium); skipping the browser test")
	}
	listed := servePage(t, strings.TrimPrefix(srv.pageOrigin, "http://"))
	unlisted := servePage(t, "127.0.0.1:0")
	if listed == unlisted {
		t.Fatalf("the two page servers share the origin %s", listed)
	}
	spki, err := certSPKIHash(srv.certFile)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		// Trust exactly the server's self-signed certificate, nothing else.
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// The first action starts chromium; it lives until the test's context ends.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}

	tests := []struct {
		name, origin string
		form         bool
		want         string
	}{
		{"listed origin, JSON grant", listed, false, "userinfo 200 olga@example.com"},
		{"listed origin, form grant", listed, true, "userinfo 200 olga@example.com"},
		// The preflight of the JSON grant is refused: fetch rejects before the grant is sent.
		{"unlisted origin, JSON grant", unlisted, false, "rejected: TypeError"},
		// A form POST needs no preflight: Sesame refuses it, without Access-Control-Allow-Origin.
		{"unlisted origin, form grant", unlisted, true, "rejected: TypeError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, cancelTab := chromedp.NewContext(browser)
			defer cancelTab()
			call := fmt.Sprintf("run(%s, %s, %s, %s, %t)", jsString(srv.issuer), jsString(browserClientID),
				jsString("olga@example.com"), jsString(password), tt.form)
			if err := chromedp.Do(tab, chromedp.Navigate(tt.origin+"/")); err != nil {
				t.Fatalf("loading the page from %s: %v", tt.origin, err)
			}
			// run() settles once both fetches have: the test waits on that promise.
			got, err := chromedp.Run(tab, chromedp.Evaluate[string](call, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("running the page's script: %v", err)
			}
			title, err := chromedp.Run(tab, chromedp.Title())
			if err != nil {
				t.Fatalf("reading the title: %v", err)
			}
			if got != tt.want || title != tt.want {
				t.Errorf("page from %s: got %q (title %q), want %q", tt.origin, got, title, tt.want)
			}
		})
	}
}

// servePage serves browserPage on addr until the test ends and returns its origin.
func servePage(t *testing.T, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening for the page on %s: %v", addr, err)
	}
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(browserPage))
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = hs.Serve(l) }()
	t.Cleanup(func() { _ = hs.Close() })
	return "http://" + l.Addr().String()
}

// certSPKIHash is the base64 SHA-256 of the certificate's public key, the form of chromium's
// --ignore-certificate-errors-spki-list.
func certSPKIHash(certFile string) (string, error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "", errors.New("no PEM certificate in " + certFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// jsString quotes s as a JavaScript string literal (JSON's string syntax is a subset).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

package webui

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h *Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	h.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	return rec
}

func TestRoutes(t *testing.T) {
	realms := func(context.Context) ([]string, error) { return []string{"Username-Password-Authentication"}, nil }
	tests := []struct {
		name, issuer, path string
		status             int
		location, ctype    string
		body               string
	}{
		{"root redirects", "https://id.example.com/", "/", http.StatusFound, "/console/", "", ""},
		{"page", "https://id.example.com/", "/console/", http.StatusOK, "", "text/html", `<script type="module" src="app.js">`},
		{"module", "https://id.example.com/", "/console/app.js", http.StatusOK, "", "text/javascript", "password-realm"},
		{"page module", "https://id.example.com/", "/console/pages/users.js", http.StatusOK, "", "text/javascript", "refresh-tokens"},
		{"stylesheet", "https://id.example.com/", "/console/style.css", http.StatusOK, "", "text/css", "@media"},
		{"settings", "https://id.example.com/", "/console/config.json", http.StatusOK, "", "application/json", `"client_id":"console-id"`},
		{"missing asset", "https://id.example.com/", "/console/nope.js", http.StatusNotFound, "", "", ""},
		{"no directory listing", "https://id.example.com/", "/console/pages/", http.StatusNotFound, "", "", ""},
		{"no way out of the assets", "https://id.example.com/", "/console/../webui.go", http.StatusTemporaryRedirect, "/webui.go", "", ""},
		{"console without its slash", "https://id.example.com/", "/console", http.StatusTemporaryRedirect, "/console/", "", ""},
		{"issuer with a path", "https://id.example.com/acme/", "/acme/", http.StatusFound, "/acme/console/", "", ""},
		{"settings under a path", "https://id.example.com/acme/", "/acme/console/config.json", http.StatusOK, "", "application/json", `"token_url":"/acme/oauth/token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Config{Issuer: tt.issuer, ClientID: "console-id", Audience: tt.issuer + "api/v2/", Realms: realms})
			rec := serve(t, h, tt.path)
			if rec.Code != tt.status {
				t.Fatalf("GET %s: status %d, want %d", tt.path, rec.Code, tt.status)
			}
			if got := rec.Header().Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type %q, want %s", rec.Header().Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body does not contain %q:\n%.300s", tt.body, rec.Body.String())
			}
			if tt.status == http.StatusOK && rec.Header().Get("Content-Security-Policy") != contentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", rec.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

func TestConfig(t *testing.T) {
	h := New(Config{Issuer: "https://id.example.com/", ClientID: "console-id", Audience: "https://id.example.com/api/v2/",
		Realms: func(context.Context) ([]string, error) { return nil, nil }})
	var got map[string]any
	if err := json.Unmarshal(serve(t, h, "/console/config.json").Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"issuer": "https://id.example.com/", "client_id": "console-id", "audience": "https://id.example.com/api/v2/",
		"token_url": "/oauth/token", "api_path": "/api/v2/", "realms": []any{}}
	for k, v := range want {
		if b1, _ := json.Marshal(got[k]); string(b1) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, b1, mustJSON(v))
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAssetsKeepThePolicy reads every embedded file for what the console promised not to do:
// inline script or style (the CSP would block it anyway; this says where), markup built from
// strings, tokens in browser storage, code from strings, and any third-party URL.
func TestAssetsKeepThePolicy(t *testing.T) {
	forbidden := []struct{ what, re string }{
		{"inline script", `<script(?:\s[^>]*)?>\s*[^<\s]`},
		{"style element or attribute", `<style|\sstyle=|setAttribute\("style"`},
		{"inline event handler", `\son[a-z]+=`},
		{"HTML from strings", `innerHTML|outerHTML|insertAdjacentHTML|document\.write`},
		{"browser storage", `localStorage|sessionStorage|indexedDB|document\.cookie`},
		{"code from strings", `\beval\(|new Function\(`},
		{"third-party URL", `https?://(?:[^"'\s]*)`},
	}
	// The only absolute URLs allowed: the SVG namespace, Auth0's grant type names and the
	// example.com placeholders (RFC 2606) of hints and the action editor's starter code.
	allowedURL := regexp.MustCompile(`^https?://(www\.w3\.org/2000/svg|auth0\.com/oauth/grant-type/|([a-z0-9-]+\.)?example\.com([/)]|$))`)
	err := fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, path)
		if err != nil {
			return err
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(string(b), -1) {
			if !strings.Contains(tag, ` src=`) {
				t.Errorf("%s: a script element without src: %s", path, tag)
			}
		}
		for _, f := range forbidden {
			for _, m := range regexp.MustCompile(f.re).FindAllString(string(b), -1) {
				if f.what == "third-party URL" && allowedURL.MatchString(m) {
					continue
				}
				t.Errorf("%s: %s: %q", path, f.what, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

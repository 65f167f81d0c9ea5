// Package webui serves the web console under {issuer}console/: a few static ES modules and
// one stylesheet, embedded in the binary, that sign an administrator in with Sesame's own
// password-realm grant and then manage the tenant through the Management API (never the
// store: the console can do exactly what the administrator's token may do, and every change
// is in the tenant log as a sapi/fapi event like any other Management API call).
//
// It sits in the HTTP layer beside oauthserver and mgmtapi and imports neither: it only
// tells the page where those are (config.json) and which connections its application may use.
// Why static modules rather than server-rendered templates: every page is a view of the
// Management API's JSON, which the browser has to call with the administrator's token anyway;
// rendering it in the server too would mean a second client of the same API with a session of
// its own (docs/architecture.md).
package webui

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

//go:embed assets
var assets embed.FS

// Config is what the console page needs to know.
type Config struct {
	// Issuer is the server's issuer ("https://host/"); the console lives at {Issuer}console/.
	Issuer string
	// ClientID is the console's application (admin.EnsureConsoleClient).
	ClientID string
	// Audience is the Management API's identifier ({Issuer}api/v2/).
	Audience string
	// Realms lists the connections the console's application may sign in with.
	Realms func(ctx context.Context) ([]string, error)
	Logger *slog.Logger
}

// contentSecurityPolicy allows the console's own scripts, styles and API calls and nothing
// else: no inline script or style, no third-party origin, no framing, no form posts.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console. Its patterns are "GET {path}console/" and "GET {path}" (the
// issuer's root, which redirects to the console), where path is the issuer's URL path.
type Handler struct {
	cfg    Config
	prefix string // the issuer's path, "/" or "/tenant/"
	files  http.Handler
}

// New builds the console's handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	prefix := "/"
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Path != "" {
		prefix = u.Path
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	h := &Handler{cfg: cfg, prefix: prefix}
	h.files = http.StripPrefix(prefix+"console/", http.FileServerFS(sub))
	return h
}

// Register adds the console's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+h.prefix+"{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, h.prefix+"console/", http.StatusFound)
	})
	mux.HandleFunc("GET "+h.prefix+"console/config.json", h.config)
	mux.HandleFunc("GET "+h.prefix+"console/", h.serveFile)
}

func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// serveFile serves an embedded asset, revalidated on every load (no-cache) so that an
// upgraded server never runs an old page against a new API.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if strings.HasSuffix(r.URL.Path, "/") && r.URL.Path != h.prefix+"console/" {
		http.NotFound(w, r) // no directory listings
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	h.files.ServeHTTP(w, r)
}

// config answers what the page needs to sign in: where the token endpoint and the
// Management API are (paths on this origin), the console's client_id and audience, and the
// connections to offer. All of it is public (a login form shows as much).
func (h *Handler) config(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	realms := []string{}
	if h.cfg.Realms != nil {
		rs, err := h.cfg.Realms(r.Context())
		if err != nil {
			h.cfg.Logger.Warn("console: listing its connections", "err", err)
			http.Error(w, "the console's connections could not be read", http.StatusServiceUnavailable)
			return
		}
		if rs != nil {
			realms = rs
		}
	}
	apiPath := h.prefix + "api/v2/"
	if u, err := url.Parse(h.cfg.Audience); err == nil && u.Path != "" {
		apiPath = u.Path
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":    h.cfg.Issuer,
		"client_id": h.cfg.ClientID,
		"audience":  h.cfg.Audience,
		"token_url": h.prefix + "oauth/token",
		"api_path":  apiPath,
		"realms":    realms,
	})
}

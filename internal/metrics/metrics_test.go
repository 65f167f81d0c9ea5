package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

func TestEndpoint(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"/oauth/token", "/oauth/token"},
		{"/mfa/authenticators/totp|dev_123", "/mfa/authenticators/{id}"},
		{"/api/v2/users/auth0|abc", "/api/v2/"},
		{"/wp-admin.php", "other"},
		{"/oauth/token/../../etc/passwd", "other"},
		{"/.well-known/jwks.json", "/.well-known/jwks.json"},
	} {
		if got := Endpoint(c.path); got != c.want {
			t.Errorf("Endpoint(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

type fakeQueue struct{}

func (fakeQueue) Queued() int    { return 3 }
func (fakeQueue) Dropped() int64 { return 1 }

// exercised returns Metrics where every instrument has at least one series, and the names
// of the families a scrape then shows.
func exercised(t *testing.T) map[string]bool {
	t.Helper()
	m := New()
	now := time.Now()
	m.Register(Sources{
		Hasher:   func() password.PoolStats { return password.PoolStats{InUse: 1, Capacity: 2} },
		Store:    func() sqlstore.Stats { return sqlstore.Stats{Dialect: "sqlite"} },
		LogQueue: fakeQueue{}, StreamQueue: fakeQueue{},
		Keys: func(context.Context) ([]store.SigningKey, error) {
			return []store.SigningKey{{Alg: "RS256", State: store.KeyCurrent, ActivatedAt: now.Add(-time.Hour)}}, nil
		},
		Now: func() time.Time { return now },
	})
	m.ObserveToken(oauthserver.TokenOutcome{GrantType: "refresh_token", ClientID: "c1", ErrorCode: "invalid_grant", Reused: true,
		Hooks: []oauthserver.HookRun{{Kind: "action", Outcome: "timeout", Duration: time.Second}}})
	m.ObserveToken(oauthserver.TokenOutcome{GrantType: "refresh_token", ClientID: "c1", Rotated: true})
	for _, typ := range []string{"limit_wc", "mfar", "Robert'); DROP TABLE", "s"} {
		m.LogEvent(store.LogEvent{Type: typ, UserID: "auth0|u", IP: "203.0.113.9"})
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/random/path/12345", nil))
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if strings.Contains(l.GetValue(), "203.0.113.9") || strings.Contains(l.GetValue(), "auth0|u") ||
					strings.Contains(l.GetValue(), "DROP") || strings.Contains(l.GetValue(), "12345") {
					t.Errorf("%s{%s=%q} carries request data", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	return names
}

// TestDashboardMetricsExist: every metric the Grafana dashboard queries is one this package
// exports, so a renamed metric cannot leave a panel silently empty.
func TestDashboardMetricsExist(t *testing.T) {
	names := exercised(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "sesame-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if len(dash.Panels) < 10 {
		t.Fatalf("dashboard has %d panels", len(dash.Panels))
	}
	metric := regexp.MustCompile(`sesame_[a-z0-9_]+`)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range metric.FindAllString(tg.Expr, -1) {
				base := name
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if trimmed, ok := strings.CutSuffix(name, suf); ok && names[trimmed] {
						base = trimmed
					}
				}
				if !names[base] {
					t.Errorf("panel %q queries %s, which is not exported", p.Title, name)
				}
			}
		}
	}
}

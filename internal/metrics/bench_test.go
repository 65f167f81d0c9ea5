package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

// BenchmarkObserveToken is what metrics add to one token request: the outcome, one Action run
// and the tenant log event.
func BenchmarkObserveToken(b *testing.B) {
	m := New()
	o := oauthserver.TokenOutcome{GrantType: "refresh_token", ClientID: "client-1", Rotated: true,
		Hooks: []oauthserver.HookRun{{Kind: "action", Outcome: "ok", Duration: time.Millisecond}}}
	ev := store.LogEvent{Type: "sertft"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveToken(o)
			m.LogEvent(ev)
		}
	})
}

// BenchmarkMiddleware is the HTTP middleware's cost around an empty handler.
func BenchmarkMiddleware(b *testing.B) {
	m := New()
	h := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("POST", "/oauth/token", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

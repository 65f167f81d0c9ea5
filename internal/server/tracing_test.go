package server

import (
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/sesameauth/sesame/internal/config"
)

// collector is an OTLP/HTTP trace receiver: it decodes what the exporter posts.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// TestTracing: a password grant exports one server span for the request with children for
// client authentication, the grant, the directory (where the hash runs), hooks and issuance,
// all in one trace whose id is in the request's log line; no span carries user data.
func TestTracing(t *testing.T) {
	col := &collector{}
	cs := httptest.NewServer(col)
	defer cs.Close()
	var logbuf syncBuffer
	srv, ts := openWith(t, func(c *config.Server) { c.OTLPEndpoint = cs.URL }, Options{Logger: slog.New(slog.NewJSONHandler(&logbuf, nil))})
	form := url.Values{"grant_type": {"password"}, "client_id": {streamClientID}, "client_secret": {streamSecret},
		"username": {"streamer@example.com"}, "password": {streamPassword}}
	if code, body := tokenRequest(t, ts.URL, form); code != http.StatusOK {
		t.Fatalf("login: %d %v", code, body)
	}
	if err := srv.Tracing.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	byName := map[string]*tracepb.Span{}
	for _, s := range col.spans {
		byName[s.GetName()] = s
		for _, a := range s.GetAttributes() {
			if v := a.GetValue().GetStringValue(); strings.Contains(v, "streamer") || strings.Contains(v, streamPassword) {
				t.Errorf("span %s attribute %s carries user data: %q", s.GetName(), a.GetKey(), v)
			}
		}
	}
	root := byName["POST /oauth/token"]
	if root == nil || root.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
		t.Fatalf("no server span POST /oauth/token among %v", keys(byName))
	}
	for child, parent := range map[string]string{
		"client_authentication": "POST /oauth/token", "grant.password": "POST /oauth/token", "hooks": "POST /oauth/token",
		"issue": "POST /oauth/token", "directory.authenticate": "grant.password",
		"store.get_tenant": "POST /oauth/token", "store.get_connection": "POST /oauth/token",
	} {
		s, p := byName[child], byName[parent]
		if s == nil {
			t.Errorf("no %s span among %v", child, keys(byName))
			continue
		}
		if string(s.GetParentSpanId()) != string(p.GetSpanId()) || string(s.GetTraceId()) != string(root.GetTraceId()) {
			t.Errorf("%s is not a child of %s in the request's trace", child, parent)
		}
	}
	traceID := hex.EncodeToString(root.GetTraceId())
	var found bool
	for _, line := range strings.Split(logbuf.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"endpoint":"/oauth/token"`) {
			found = strings.Contains(line, traceID)
		}
	}
	if !found {
		t.Errorf("no request log line with trace id %s in:\n%s", traceID, logbuf.String())
	}
}

func keys(m map[string]*tracepb.Span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

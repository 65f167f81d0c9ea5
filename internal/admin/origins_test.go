package admin_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

func TestCheckWebOrigins(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string // in the first error; "" = valid
	}{
		{"exact origins", []string{"https://app.example.com", "http://localhost:3000"}, []string{"https://app.example.com", "http://localhost:3000"}, ""},
		{"normalised as browsers send them", []string{" HTTPS://App.Example.COM:443/ ", "http://x.test:80", "https://[::1]:8443"},
			[]string{"https://app.example.com", "http://x.test", "https://[::1]:8443"}, ""},
		{"subdomain wildcard", []string{"https://*.example.com", "http://*.dev.example.com:8080"}, []string{"https://*.example.com", "http://*.dev.example.com:8080"}, ""},
		{"app shells", []string{"capacitor://localhost"}, []string{"capacitor://localhost"}, ""},
		{"IP literal", []string{"http://127.0.0.1:5173"}, []string{"http://127.0.0.1:5173"}, ""},
		{"IPv6 literal in its compressed form", []string{"http://[0:0:0:0:0:0:0:1]:3000"}, []string{"http://[::1]:3000"}, ""},
		{"IPv6 literal without brackets", []string{"a://::"}, nil, "not a DNS name"},
		{"empty list", []string{}, []string{}, ""},
		{"any origin", []string{"*"}, nil, "must name one origin"},
		{"opaque origin", []string{"null"}, nil, "must name one origin"},
		{"empty", []string{""}, nil, "is empty"},
		{"no scheme", []string{"app.example.com"}, nil, "scheme://host"},
		{"path", []string{"https://app.example.com/login"}, nil, "path, query or fragment"},
		{"query", []string{"https://app.example.com?x=1"}, nil, "path, query or fragment"},
		{"fragment", []string{"https://app.example.com#x"}, nil, "path, query or fragment"},
		{"user info", []string{"https://u:p@app.example.com"}, nil, "user info"},
		{"port zero", []string{"https://app.example.com:0"}, nil, "port outside"},
		{"wildcard under a TLD", []string{"https://*.com"}, nil, "registered domain"},
		{"wildcard in the middle", []string{"https://app.*.example.com"}, nil, "first label"},
		{"wildcard with another scheme", []string{"capacitor://*.example.com"}, nil, "http or https"},
		{"bare wildcard host", []string{"https://*"}, nil, "first label (https://*.example.com)"},
		{"not a DNS name", []string{"https://app_1.example.com"}, nil, "not a DNS name"},
		{"the same origin twice", []string{"https://a.test", "https://A.test:443"}, nil, "same origin as web_origins[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := admin.CheckWebOrigins(tt.in)
			if tt.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("got errors %v, want none", errs)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("normalised (-want +got):\n%s", diff)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", errs, tt.wantErr)
			}
			var ve *admin.ValidationError
			if !errors.As(errs[0], &ve) || !strings.HasPrefix(ve.Field, "web_origins[") {
				t.Errorf("got %#v, want a ValidationError on web_origins[i]", errs[0])
			}
		})
	}
	t.Run("at most 100", func(t *testing.T) {
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("https://a%d.example.com", i)
		}
		if _, errs := admin.CheckWebOrigins(many); len(errs) != 1 {
			t.Errorf("101 origins: got %v, want one error", errs)
		}
	})
}

func TestClientWebOrigins(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	c, _, err := s.CreateClient(ctx, admin.ClientInput{Name: "SPA", AppType: admin.AppSPA,
		WebOrigins: []string{"https://App.example.com/", "https://*.example.org"}})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if diff := cmp.Diff([]string{"https://app.example.com", "https://*.example.org"}, c.WebOrigins); diff != "" {
		t.Errorf("created web_origins (-want +got):\n%s", diff)
	}
	_, _, err = s.CreateClient(ctx, admin.ClientInput{Name: "Bad", WebOrigins: []string{"https://ok.test", "https://x.test/path"}})
	if got := validationFields(err); !cmp.Equal(got, []string{"web_origins[1]"}) {
		t.Errorf("CreateClient with a path: got %v (%v), want a problem at web_origins[1]", got, err)
	}

	c, err = s.SetClientWebOrigins(ctx, c.ClientID, []string{"http://localhost:3000"})
	if err != nil || !cmp.Equal(c.WebOrigins, []string{"http://localhost:3000"}) {
		t.Errorf("SetClientWebOrigins: got %v %v, want [http://localhost:3000]", c.WebOrigins, err)
	}
	if _, err := s.SetClientWebOrigins(ctx, c.ClientID, []string{"*"}); validationFields(err) == nil {
		t.Errorf("SetClientWebOrigins *: got %v, want a validation error", err)
	}
	if got, _ := s.GetClient(ctx, c.ClientID); !cmp.Equal(got.WebOrigins, []string{"http://localhost:3000"}) {
		t.Errorf("after a refused update: got %v, want the origins unchanged", got.WebOrigins)
	}
	if _, err := s.SetClientWebOrigins(ctx, "ghost", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetClientWebOrigins of a missing client: got %v, want not found", err)
	}
}

func TestApplyWebOrigins(t *testing.T) {
	s := applyService(t)
	file := "clients: [{name: SPA, app_type: spa, web_origins: [\"HTTPS://App.Example.com:443/\", \"https://*.example.org\"]}]"
	applyOK(t, s, applyParse(t, file))
	cs, err := s.ListClients(t.Context())
	if err != nil || len(cs) != 1 {
		t.Fatalf("ListClients: %v %v", cs, err)
	}
	if diff := cmp.Diff([]string{"https://app.example.com", "https://*.example.org"}, cs[0].WebOrigins); diff != "" {
		t.Errorf("stored web_origins (-want +got):\n%s", diff)
	}
	if r := applyOK(t, s, applyParse(t, file)); len(r.Changed) != 0 {
		t.Errorf("second apply: %v changed, want none", r.Changed)
	}
	if r := applyOK(t, s, applyParse(t, "clients: [{name: SPA}]")); len(r.Changed) != 0 {
		t.Errorf("apply without web_origins: %v changed, want none (absent keeps the stored value)", r.Changed)
	}

	_, err = s.Apply(t.Context(), applyParse(t, "clients: [{name: SPA, web_origins: [\"https://ok.test\", \"https://a.test/x\", \"*\"]}]"))
	got := applyProblems(t, err)
	want := []string{`clients[0].web_origins[1]: "https://a.test/x": must not have a path, query or fragment`,
		`clients[0].web_origins[2]: "*": must name one origin (scheme://host[:port])`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// FuzzCheckWebOrigins checks that whatever CheckWebOrigins accepts is already in its normal
// form (checking it again changes nothing) and is a bare origin: scheme://host[:port].
func FuzzCheckWebOrigins(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "HTTPS://A.test:443/", "https://*.example.org", "http://[::1]:3000",
		"capacitor://localhost", "*", "null", "https://a.test/x", "https://u@a.test", "https://*.com", "http://a.test:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, errs := admin.CheckWebOrigins([]string{s})
		if len(errs) > 0 {
			return
		}
		again, errs := admin.CheckWebOrigins(got)
		if len(errs) > 0 || !cmp.Equal(again, got) {
			t.Fatalf("%q normalised to %q, which checks as %q %v", s, got, again, errs)
		}
		scheme, rest, ok := strings.Cut(got[0], "://")
		if !ok || scheme == "" || rest == "" || strings.ContainsAny(rest, "/?#@ ") {
			t.Fatalf("%q normalised to %q, not scheme://host[:port]", s, got[0])
		}
	})
}

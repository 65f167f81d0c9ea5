package token_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/token"
)

func TestFilterCustomClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      map[string]any
		want    map[string]any
		wantErr error
	}{
		{name: "nil", in: nil, want: map[string]any{}},
		{
			name: "namespaced and plain claims pass",
			in:   map[string]any{"https://app.example/roles": []any{"admin"}, "tier": "gold", "name": "Jane", "email": "j@x"},
			want: map[string]any{"https://app.example/roles": []any{"admin"}, "tier": "gold", "name": "Jane", "email": "j@x"},
		},
		{
			name: "protocol claims dropped",
			in: map[string]any{"iss": "x", "sub": "x", "aud": "x", "exp": 1, "nbf": 1, "iat": 1, "jti": "x",
				"azp": "x", "scope": "admin", "acr": "x", "act": "x", "amr": "x", "at_hash": "x",
				"auth_time": 1, "c_hash": "x", "client_id": "x", "cnf": "x", "gty": "x", "nonce": "x",
				"org_id": "x", "org_name": "x", "permissions": []any{"all"}, "roles": "x", "sid": "x",
				"typ": "x", "may_act": "x", "kid": "x", "x5t#S256": "x", "keep": 1},
			want: map[string]any{"keep": 1},
		},
		{
			name: "names are case-sensitive",
			in:   map[string]any{"ISS": "x", "Scope": "y"},
			want: map[string]any{"ISS": "x", "Scope": "y"},
		},
		{
			name: "Auth0-owned namespaces dropped",
			in: map[string]any{
				"https://auth0.com/claim": 1, "http://tenant.auth0.com/c": 1, "https://AUTH0.COM/x": 1,
				"auth0.com/x": 1, "https://x.webtask.io/y": 1, "https://webtask.run": 1,
				"https://auth0.com:443/x": 1, "https://user@webtask.io/x": 1,
				"https://example.com/auth0.com": 1, "https://notauth0.com/x": 1, "https://auth0.com.evil.example/x": 1,
			},
			want: map[string]any{"https://example.com/auth0.com": 1, "https://notauth0.com/x": 1, "https://auth0.com.evil.example/x": 1},
		},
		{name: "empty name dropped", in: map[string]any{"": 1, "a": 2}, want: map[string]any{"a": 2}},
		{
			name: "just under 100 KB",
			in:   map[string]any{"big": strings.Repeat("x", token.MaxCustomClaimsSize-len(`{"big":""}`))},
			want: map[string]any{"big": strings.Repeat("x", token.MaxCustomClaimsSize-len(`{"big":""}`))},
		},
		{
			name:    "over 100 KB",
			in:      map[string]any{"big": strings.Repeat("x", token.MaxCustomClaimsSize-len(`{"big":""}`)+1)},
			wantErr: token.ErrClaimsTooLarge,
		},
		{
			name: "restricted claims do not count toward the limit",
			in:   map[string]any{"nonce": strings.Repeat("x", 2*token.MaxCustomClaimsSize), "a": 1},
			want: map[string]any{"a": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := token.FilterCustomClaims(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := token.FilterCustomClaims(map[string]any{"f": func() {}}); err == nil {
		t.Error("a value that is not JSON: got no error")
	}
}

// TestFilterDoesNotMutate: the Action's map is not changed behind its back.
func TestFilterDoesNotMutate(t *testing.T) {
	t.Parallel()
	in := map[string]any{"iss": "x", "a": 1}
	if _, err := token.FilterCustomClaims(in); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"a", "iss"}; !slices.Equal(keys, want) {
		t.Errorf("input keys: got %v, want %v", keys, want)
	}
}

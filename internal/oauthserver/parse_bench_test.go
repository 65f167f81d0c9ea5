package oauthserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkParseParams parses a typical password-grant body in each content type the token
// endpoint accepts.
func BenchmarkParseParams(b *testing.B) {
	bodies := []struct{ name, ctype, body string }{
		{"form", "application/x-www-form-urlencoded",
			"grant_type=password&client_id=app-confidential-0000000000000001&client_secret=app-secret-0123456789abcdef0123456789abcdef" +
				"&username=alice%40example.com&password=correct+horse+battery+staple&audience=https%3A%2F%2Fapi.example.com&scope=openid+profile+email"},
		{"json", "application/json",
			`{"grant_type":"password","client_id":"app-confidential-0000000000000001","client_secret":"app-secret-0123456789abcdef0123456789abcdef",` +
				`"username":"alice@example.com","password":"correct horse battery staple","audience":"https://api.example.com","scope":"openid profile email"}`},
	}
	for _, tc := range bodies {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(tc.body))
				r.Header.Set("Content-Type", tc.ctype)
				p, err := parseParams(r)
				if err != nil || p.get("username") != "alice@example.com" {
					b.Fatalf("got %v, %v", p, err)
				}
			}
		})
	}
}

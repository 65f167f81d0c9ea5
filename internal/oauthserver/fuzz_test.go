package oauthserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzParseParams feeds arbitrary bodies in both content types: parsing must never panic, and
// whatever it accepts must be valid, bounded UTF-8.
func FuzzParseParams(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "grant_type=password&username=a&password=b")
	f.Add("application/json", `{"grant_type":"password","realm":null,"scope":"","otp":123456}`)
	f.Add("application/json", `{"a":{"b":1}}`)
	f.Add("application/json; charset=utf-8", `{"a":"\ud800"}`)
	f.Add("application/x-www-form-urlencoded", "a=%ff&a=1")
	f.Add("text/plain", "x")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		p, err := parseParams(r)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an *Error", err)
			}
			return
		}
		for k, v := range p {
			if v == "" || len(v) > maxParamBytes || len(k) > 256 {
				t.Fatalf("accepted %q=%q", k, v)
			}
		}
	})
}

// FuzzParseBasic feeds arbitrary Authorization header values.
func FuzzParseBasic(f *testing.F) {
	f.Add("YWJjOmRlZg==")
	f.Add("YWJj")
	f.Add("JTpAOg==")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, v string) {
		id, _, ok, err := parseBasic(v)
		if ok && (err != nil || id == "") {
			t.Fatalf("ok with id %q err %v", id, err)
		}
	})
}

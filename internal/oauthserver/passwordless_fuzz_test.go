package oauthserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzParseStartParams feeds arbitrary start bodies: parsing never panics, refusals are wire
// errors, and what it accepts is flat, bounded UTF-8 without authParams.
func FuzzParseStartParams(f *testing.F) {
	f.Add("application/json", `{"client_id":"a","connection":"email","email":"a@b.c","send":"code","authParams":{"scope":"openid"}}`)
	f.Add("application/json", `{"authParams":"x"}`)
	f.Add("application/json", `{"authParams":null,"a":[1]}`)
	f.Add("application/json", `{"a":1} {}`)
	f.Add("application/x-www-form-urlencoded", "client_id=a&connection=sms&phone_number=%2B14155550100")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest(http.MethodPost, "/passwordless/start", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		p, err := parseStartParams(r)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an *Error", err)
			}
			return
		}
		for k, v := range p {
			if v == "" || len(v) > maxParamBytes || len(k) > 256 || (k == "authParams" && strings.HasPrefix(v, "{")) {
				t.Fatalf("accepted %q=%q", k, v)
			}
		}
	})
}

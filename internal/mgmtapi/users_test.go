package mgmtapi_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// usersEnv is an env with a database connection "db" and the Orders API.
func usersEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	if _, err := e.svc.CreateConnection(t.Context(), "db", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateAPI(t.Context(), admin.APIInput{Identifier: "https://orders", Name: "Orders", Scopes: []store.Scope{{Value: "read:orders"}}}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) mustUser(t *testing.T, email string, meta map[string]any) store.User {
	t.Helper()
	e.clock.Advance(time.Second)
	u, err := e.svc.CreateUser(t.Context(), admin.UserInput{Connection: "db", Email: email, Password: "Passw0rd!", UserMetadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsersCRUD(t *testing.T) {
	e := usersEnv(t)
	tok := e.token(t, "read:users", "create:users", "update:users", "delete:users")
	r := e.do(t, "POST", "/users", tok, map[string]any{"connection": "db", "email": "Jane@Example.com", "password": "Passw0rd!",
		"user_metadata": map[string]any{"plan": "gold", "lang": "en"}, "given_name": "Jane"})
	if r.status != 201 {
		t.Fatalf("create: got %d %s", r.status, r.raw)
	}
	u := r.obj(t)
	id, _ := u["user_id"].(string)
	if !strings.HasPrefix(id, "auth0|") || u["email"] != "jane@example.com" || u["given_name"] != "Jane" || u["password"] != nil || u["password_hash"] != nil {
		t.Errorf("created user: got %v", u)
	}
	ids := u["identities"].([]any)[0].(map[string]any)
	if ids["connection"] != "db" || ids["provider"] != "auth0" {
		t.Errorf("identities: got %v", ids)
	}
	if r := e.do(t, "POST", "/users", tok, map[string]any{"connection": "db", "email": "jane@example.com", "password": "Passw0rd!"}); r.status != 409 || r.obj(t)["errorCode"] != "user_conflict" {
		t.Errorf("duplicate user: got %d %s", r.status, r.raw)
	}
	if r := e.do(t, "POST", "/users", tok, map[string]any{"connection": "db", "email": "x", "password": "weak"}); r.status != 400 || r.obj(t)["errorCode"] != "invalid_body" {
		t.Errorf("invalid user: got %d %s", r.status, r.raw)
	}

	r = e.do(t, "PATCH", "/users/"+url.PathEscape(id), tok, map[string]any{"user_metadata": map[string]any{"plan": nil, "team": "a"}, "blocked": true})
	if r.status != 200 {
		t.Fatalf("patch: got %d %s", r.status, r.raw)
	}
	got := r.obj(t)
	if md := got["user_metadata"].(map[string]any); md["plan"] != nil || md["lang"] != "en" || md["team"] != "a" || got["blocked"] != true {
		t.Errorf("patched user: got %v", got)
	}
	r = e.do(t, "GET", "/users/"+url.PathEscape(id)+"?fields=email,user_id&include_fields=true", tok, nil)
	if r.status != 200 || len(r.obj(t)) != 2 || r.obj(t)["email"] != "jane@example.com" {
		t.Errorf("get with fields: got %d %s", r.status, r.raw)
	}
	// A user's own-profile scopes are no licence to read or change another user.
	wantError(t, e.do(t, "GET", "/users/"+url.PathEscape(id), e.token(t, "read:current_user"), nil), 403, "insufficient_scope",
		"Insufficient scope, expected any of: read:users")
	wantError(t, e.do(t, "PATCH", "/users/"+url.PathEscape(id), e.token(t, "update:current_user_metadata"), map[string]any{}), 403, "insufficient_scope",
		"Insufficient scope, expected any of: update:users")
	if r := e.do(t, "DELETE", "/users/"+url.PathEscape(id), tok, nil); r.status != 204 {
		t.Errorf("delete: got %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "GET", "/users/"+url.PathEscape(id), tok, nil), 404, "inexistent_user", "The user does not exist.")
	wantError(t, e.do(t, "DELETE", "/users/"+url.PathEscape(id), tok, nil), 404, "inexistent_user", "The user does not exist.")
	wantError(t, e.do(t, "GET", "/users", e.token(t, "read:clients"), nil), 403, "insufficient_scope", "Insufficient scope, expected any of: read:users")

	var types []string
	for _, ev := range e.events.All() {
		types = append(types, ev.Type)
	}
	if strings.Join(types, ",") != "sapi,fapi,fapi,sapi,fapi,sapi,fapi" {
		t.Errorf("log events: got %v, want sapi for each write and fapi for each refused one", types)
	}
}

func TestUsersSearchAndPaging(t *testing.T) {
	e := usersEnv(t)
	tok := e.token(t, "read:users")
	for i := range 7 {
		plan := "silver"
		if i%2 == 0 {
			plan = "gold"
		}
		e.mustUser(t, fmt.Sprintf("user%d@example.com", i), map[string]any{"plan": plan})
	}
	e.mustUser(t, "other@elsewhere.org", nil)
	emails := func(r response) []string {
		var out []string
		var list []any
		if r.body == nil {
			t.Fatalf("no body: %d", r.status)
		}
		switch b := r.body.(type) {
		case []any:
			list = b
		case map[string]any:
			list = b["users"].([]any)
		}
		for _, u := range list {
			out = append(out, u.(map[string]any)["email"].(string))
		}
		return out
	}
	tests := []struct {
		query string
		want  string
	}{
		{`q=email:"USER3@example.com"&search_engine=v3`, "user3@example.com"},
		{`q=email:*@elsewhere.org`, "other@elsewhere.org"},
		{`q=user_metadata.plan:"gold" AND NOT email:user0*`, "user2@example.com,user4@example.com,user6@example.com"},
		{`q=-user_metadata.plan:gold`, "user1@example.com,user3@example.com,user5@example.com,other@elsewhere.org"},
		{`q=email:user1* OR email:user2*&sort=email:-1`, "user2@example.com,user1@example.com"},
		{`per_page=3&page=2`, "user6@example.com,other@elsewhere.org"},
	}
	for _, tc := range tests {
		r := e.do(t, "GET", "/users?"+strings.ReplaceAll(tc.query, " ", "%20"), tok, nil)
		if r.status != 200 || strings.Join(emails(r), ",") != tc.want {
			t.Errorf("GET /users?%s: got %d %v, want %s", tc.query, r.status, r.raw, tc.want)
		}
	}
	r := e.do(t, "GET", "/users?per_page=3&page=1&include_totals=true", tok, nil)
	if b := r.obj(t); b["total"] != 8.0 || b["start"] != 3.0 || b["limit"] != 3.0 || len(b["users"].([]any)) != 3 {
		t.Errorf("include_totals: got %s", r.raw)
	}
	// Checkpoint paging walks every user.
	var walked []string
	next := ""
	for range 10 {
		path := "/users?take=3"
		if next != "" {
			path += "&from=" + next
		}
		r := e.do(t, "GET", path, tok, nil)
		walked = append(walked, emails(r)...)
		n, _ := r.obj(t)["next"].(string)
		if n == "" {
			break
		}
		next = n
	}
	if len(walked) != 8 || walked[0] != "user0@example.com" || walked[7] != "other@elsewhere.org" {
		t.Errorf("checkpoint walk: got %v", walked)
	}
	for _, q := range []string{`q=password_hash:x`, `q=name:"open`, `sort=password:1`, `per_page=101`, `search_engine=v1`} {
		if r := e.do(t, "GET", "/users?"+q, tok, nil); r.status != 400 {
			t.Errorf("GET /users?%s: got %d %s, want 400", q, r.status, r.raw)
		}
	}
	r = e.do(t, "GET", "/users-by-email?email=USER5@EXAMPLE.COM", tok, nil)
	if strings.Join(emails(r), ",") != "user5@example.com" {
		t.Errorf("users-by-email: got %s", r.raw)
	}
	if r := e.do(t, "GET", "/users-by-email?email=nobody@example.com", tok, nil); r.status != 200 || r.raw != "[]\n" {
		t.Errorf("users-by-email of nobody: got %d %q", r.status, r.raw)
	}
}

func TestUserPermissionsAndTokens(t *testing.T) {
	e := usersEnv(t)
	tok := e.token(t, "read:users", "update:users", "read:refresh_tokens", "delete:refresh_tokens", "delete:guardian_enrollments")
	u := e.mustUser(t, "p@example.com", nil)
	path := "/users/" + url.PathEscape(u.ID)
	perm := map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": "https://orders", "permission_name": "read:orders"}}}
	if r := e.do(t, "POST", path+"/permissions", tok, perm); r.status != 201 {
		t.Fatalf("add permissions: got %d %s", r.status, r.raw)
	}
	r := e.do(t, "GET", path+"/permissions", tok, nil)
	if ps := r.arr(t); len(ps) != 1 || ps[0].(map[string]any)["resource_server_name"] != "Orders" {
		t.Errorf("permissions: got %s", r.raw)
	}
	bad := map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": "https://orders", "permission_name": "nope"}}}
	if r := e.do(t, "POST", path+"/permissions", tok, bad); r.status != 400 {
		t.Errorf("unknown permission: got %d", r.status)
	}
	if r := e.do(t, "DELETE", path+"/permissions", tok, perm); r.status != 204 {
		t.Errorf("remove permissions: got %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", path+"/permissions", tok, nil); len(r.arr(t)) != 0 {
		t.Errorf("permissions after removal: got %s", r.raw)
	}

	for i := range 3 {
		f := store.RefreshFamily{ID: fmt.Sprintf("rf%d", i), ClientID: "app", UserID: u.ID, Connection: "db", Audience: "https://orders",
			Scope: "offline_access", CreatedAt: e.clock.Now().Add(time.Duration(i) * time.Second)}
		if err := e.st.CreateRefreshFamily(t.Context(), f, store.RefreshToken{Hash: fmt.Sprint("h", i), CreatedAt: f.CreatedAt}); err != nil {
			t.Fatal(err)
		}
	}
	r = e.do(t, "GET", path+"/refresh-tokens?take=2", tok, nil)
	body := r.obj(t)
	if len(body["tokens"].([]any)) != 2 || body["next"] == nil {
		t.Fatalf("refresh tokens page: got %s", r.raw)
	}
	r = e.do(t, "GET", path+"/refresh-tokens?take=2&from="+body["next"].(string), tok, nil)
	if toks := r.obj(t)["tokens"].([]any); len(toks) != 1 || toks[0].(map[string]any)["id"] != "rf2" || r.obj(t)["next"] != nil {
		t.Errorf("refresh tokens second page: got %s", r.raw)
	}
	if r := e.do(t, "DELETE", "/refresh-tokens/rf0", tok, nil); r.status != 204 {
		t.Errorf("revoke one: got %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "GET", "/refresh-tokens/none", tok, nil), 404, "inexistent_refresh_token", "The refresh token does not exist.")
	if r := e.do(t, "GET", path+"/refresh-tokens", tok, nil); len(r.obj(t)["tokens"].([]any)) != 2 {
		t.Errorf("after revoking one: got %s", r.raw)
	}
	if r := e.do(t, "DELETE", path+"/refresh-tokens", tok, nil); r.status != 204 {
		t.Errorf("revoke all: got %d", r.status)
	}
	if r := e.do(t, "GET", path+"/refresh-tokens", tok, nil); len(r.obj(t)["tokens"].([]any)) != 0 {
		t.Errorf("after revoking all: got %s", r.raw)
	}

	if err := e.st.CreateMFAAuthenticator(t.Context(), store.MFAAuthenticator{ID: "totp|dev_1", UserID: u.ID, Kind: store.AuthenticatorTOTP, Confirmed: true, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	r = e.do(t, "GET", path+"/enrollments", tok, nil)
	if es := r.arr(t); len(es) != 1 || es[0].(map[string]any)["type"] != "authenticator" || es[0].(map[string]any)["status"] != "confirmed" {
		t.Errorf("enrollments: got %s", r.raw)
	}
	if r := e.do(t, "DELETE", path+"/multifactor/duo", tok, nil); r.status != 400 {
		t.Errorf("duo: got %d", r.status)
	}
	if r := e.do(t, "DELETE", path+"/multifactor/google-authenticator", tok, nil); r.status != 204 {
		t.Errorf("delete provider: got %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", path+"/enrollments", tok, nil); len(r.arr(t)) != 0 {
		t.Errorf("enrollments after reset: got %s", r.raw)
	}
	if r := e.do(t, "DELETE", path+"/authenticators", tok, nil); r.status != 204 {
		t.Errorf("delete authenticators: got %d", r.status)
	}
}

func TestUserBlocks(t *testing.T) {
	e := usersEnv(t)
	tok := e.token(t, "read:users", "update:users")
	u := e.mustUser(t, "b@example.com", nil)
	if r := e.do(t, "GET", "/user-blocks?identifier=b@example.com", tok, nil); r.status != 200 || r.raw != `{"blocked_for":[]}`+"\n" {
		t.Errorf("no blocks: got %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", "/user-blocks", tok, nil); r.status != 400 {
		t.Errorf("no identifier: got %d", r.status)
	}
	if r := e.do(t, "GET", "/user-blocks/"+url.PathEscape(u.ID), tok, nil); r.status != 200 {
		t.Errorf("blocks of a user: got %d", r.status)
	}
	if r := e.do(t, "DELETE", "/user-blocks?identifier=b@example.com", tok, nil); r.status != 204 {
		t.Errorf("unblock identifier: got %d", r.status)
	}
	wantError(t, e.do(t, "DELETE", "/user-blocks/auth0%7Cnone", tok, nil), 404, "inexistent_user", "The user does not exist.")
}

func TestLogsAPI(t *testing.T) {
	e := usersEnv(t)
	tok := e.token(t, "read:logs")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 6 {
		if err := e.st.AppendLog(t.Context(), store.LogEvent{ID: fmt.Sprintf("9%02d", i), Date: base.Add(time.Duration(i) * time.Minute),
			Type: []string{"s", "fp"}[i%2], UserID: "auth0|u"}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(r response) string {
		var out []string
		var list []any
		switch b := r.body.(type) {
		case []any:
			list = b
		case map[string]any:
			list = b["logs"].([]any)
		}
		for _, l := range list {
			out = append(out, l.(map[string]any)["log_id"].(string))
		}
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{
		"per_page=2":                        "905,904",
		"per_page=2&page=1&sort=date:1":     "902,903",
		"q=type:fp":                         "905,903,901",
		"search=type:fp&per_page=1":         "905",
		"from=902&take=2":                   "903,904",
		"take=2":                            "905,904",
		"q=type:s&fields=log_id&per_page=1": "904",
	} {
		r := e.do(t, "GET", "/logs?"+q, tok, nil)
		if r.status != 200 || ids(r) != want {
			t.Errorf("GET /logs?%s: got %d %s, want %s", q, r.status, r.raw, want)
		}
	}
	r := e.do(t, "GET", "/logs?include_totals=true&per_page=1", tok, nil)
	if b := r.obj(t); b["total"] != 6.0 || b["limit"] != 1.0 {
		t.Errorf("totals: got %s", r.raw)
	}
	r = e.do(t, "GET", "/logs/903", tok, nil)
	if b := r.obj(t); r.status != 200 || b["type"] != "fp" || b["date"] != "2025-01-01T00:03:00.000Z" {
		t.Errorf("log by id: got %d %s", r.status, r.raw)
	}
	wantError(t, e.do(t, "GET", "/logs/none", tok, nil), 404, "inexistent_log_event", "The log event does not exist.")
	if r := e.do(t, "GET", "/logs?from=none", tok, nil); r.status != 400 {
		t.Errorf("unknown from: got %d", r.status)
	}
	wantError(t, e.do(t, "GET", "/logs", e.token(t, "read:users"), nil), 403, "insufficient_scope", "Insufficient scope, expected any of: read:logs,read:logs_users")
}

func TestJobsAPI(t *testing.T) {
	e := usersEnv(t)
	tok := e.token(t, "read:users", "create:users")
	e.mustUser(t, "old@example.com", nil)
	e.clock.Advance(time.Second)
	conn, err := e.svc.Store.GetConnection(t.Context(), "db")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("users", "users.json")
	io.WriteString(fw, `[{"email":"imp@example.com","name":"Imported"},{"email":"old@example.com"},{"email":"bad"}]`)
	mw.WriteField("connection_id", conn.ID)
	mw.WriteField("upsert", "false")
	mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/api/v2/jobs/users-imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 || !strings.Contains(string(raw), `"type":"users_import"`) {
		t.Fatalf("users-imports: got %d %s", res.StatusCode, raw)
	}
	id := strings.Split(strings.Split(string(raw), `"id":"`)[1], `"`)[0]
	r := e.do(t, "GET", "/jobs/"+id, tok, nil)
	j := r.obj(t)
	if j["status"] != "completed" || fmt.Sprint(j["summary"]) != "map[failed:2 inserted:1 total:3 updated:0]" || j["connection_id"] != conn.ID {
		t.Errorf("job: got %s", r.raw)
	}
	if r := e.do(t, "GET", "/jobs/"+id+"/errors", tok, nil); len(r.arr(t)) != 2 {
		t.Errorf("job errors: got %s", r.raw)
	}
	wantError(t, e.do(t, "GET", "/jobs/job_none", tok, nil), 404, "inexistent_job", "The job does not exist.")

	r = e.do(t, "POST", "/jobs/users-exports", tok, map[string]any{"connection_id": conn.ID, "format": "csv", "fields": []any{map[string]any{"name": "email"}, map[string]any{"name": "name", "export_as": "full_name"}}})
	if r.status != 201 {
		t.Fatalf("users-exports: got %d %s", r.status, r.raw)
	}
	id = r.obj(t)["id"].(string)
	j = e.do(t, "GET", "/jobs/"+id, tok, nil).obj(t)
	loc, _ := j["location"].(string)
	if j["status"] != "completed" || loc != testIssuer+"api/v2/jobs/"+id+"/result" {
		t.Fatalf("export job: got %v", j)
	}
	req, _ = http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/api/v2/jobs/"+id+"/result", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err = e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatalf("result is not gzip (%d): %v", res.StatusCode, err)
	}
	out, _ := io.ReadAll(zr)
	if string(out) != "email,full_name\nold@example.com,old@example.com\nimp@example.com,Imported\n" {
		t.Errorf("export file: got %q", out)
	}
	if r := e.doAuth(t, "GET", "/jobs/"+id+"/result", "", nil); r.status != 401 {
		t.Errorf("result without a token: got %d", r.status)
	}
}

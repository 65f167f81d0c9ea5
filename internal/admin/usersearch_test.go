package admin_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// searchFixture is a service with a database connection "db" and these users.
func searchFixture(t *testing.T) (*admin.Service, map[string]store.User) {
	t.Helper()
	s, _ := crudService(t)
	ctx := t.Context()
	if _, err := s.CreateConnection(ctx, "db", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateConnection(ctx, "db2", "", nil); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	users := map[string]store.User{}
	for _, in := range []admin.UserInput{
		{Connection: "db", Email: "john@example.com", Name: "John Smith", Username: "johnny", UserMetadata: map[string]any{"plan": "gold"}},
		{Connection: "db", Email: "jane@example.com", Name: "Jane Doe", UserMetadata: map[string]any{"plan": "silver"}, AppMetadata: map[string]any{"vip": true}},
		{Connection: "db", Email: "joe@other.org", Name: "Joe Bloggs", Blocked: true},
		{Connection: "db2", Email: "John@Example.com", Name: "John Twin", UserMetadata: map[string]any{"plan": "gold"}},
	} {
		in.Password = "Passw0rd!"
		u, err := s.CreateUser(ctx, in)
		if err != nil {
			t.Fatalf("CreateUser %s: %v", in.Email, err)
		}
		users[in.Name] = u
	}
	return s, users
}

func TestSearchUsersQuery(t *testing.T) {
	s, _ := searchFixture(t)
	tests := []struct {
		q    string
		want []string // names, in creation order
		err  bool
	}{
		{q: "", want: []string{"John Smith", "Jane Doe", "Joe Bloggs", "John Twin"}},
		{q: `email:"john@example.com"`, want: []string{"John Smith", "John Twin"}},
		{q: `email:"JOHN@EXAMPLE.COM"`, want: []string{"John Smith", "John Twin"}},
		{q: `email:*@example.com`, want: []string{"John Smith", "Jane Doe", "John Twin"}},
		{q: `name:Jo*`, want: []string{"John Smith", "Joe Bloggs", "John Twin"}},
		{q: `name:"John Smith"`, want: []string{"John Smith"}},
		{q: `user_metadata.plan:"gold"`, want: []string{"John Smith", "John Twin"}},
		{q: `user_metadata.plan:gold AND identities.connection:db2`, want: []string{"John Twin"}},
		{q: `user_metadata.plan:"gold" OR name:"Jane Doe"`, want: []string{"John Smith", "Jane Doe", "John Twin"}},
		{q: `name:Jo* -user_metadata.plan:gold`, want: []string{"Joe Bloggs"}},
		{q: `NOT blocked:true`, want: []string{"John Smith", "Jane Doe", "John Twin"}},
		{q: `app_metadata.vip:true`, want: []string{"Jane Doe"}},
		{q: `_exists_:user_metadata.plan AND NOT name:"John Twin"`, want: []string{"John Smith", "Jane Doe"}},
		{q: `johnny`, want: []string{"John Smith"}},
		{q: `(name:"Jane Doe" OR name:"Joe Bloggs") AND blocked:false`, want: []string{"Jane Doe"}},
		{q: `created_at:[2025-01-01 TO *]`, want: []string{"John Smith", "Jane Doe", "Joe Bloggs", "John Twin"}},
		{q: `created_at:[* TO 2024-12-31]`, want: nil},
		{q: `password_hash:x`, err: true},
		{q: `user_metadata:gold`, err: true},
		{q: `name:"unterminated`, err: true},
		{q: `name:J*n`, err: true},
		{q: `(name:a`, err: true},
		{q: `blocked:maybe`, err: true},
		{q: `user_metadata.a'b:x`, err: true},
		{q: strings.Repeat("(", 40) + "a" + strings.Repeat(")", 40), err: true},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			page, err := s.SearchUsers(t.Context(), admin.ListParams{Q: tc.q, IncludeTotals: true})
			if tc.err {
				if admin.Status(err) != 400 {
					t.Fatalf("SearchUsers(%q): got %v (status %d), want a 400", tc.q, err, admin.Status(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("SearchUsers(%q): %v", tc.q, err)
			}
			var got []string
			for _, u := range page.Users {
				got = append(got, u.Name)
			}
			if !slices.Equal(got, tc.want) || page.Total != len(tc.want) {
				t.Errorf("SearchUsers(%q): got %q (total %d), want %q", tc.q, got, page.Total, tc.want)
			}
		})
	}
}

func TestSearchUsersPaging(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	if _, err := s.CreateConnection(ctx, "db", "", nil); err != nil {
		t.Fatal(err)
	}
	var us []store.User
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1030 {
		us = append(us, store.User{ID: fmt.Sprintf("auth0|%05d", i), Connection: "db", Email: fmt.Sprintf("u%05d@example.com", i),
			CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	if err := s.Store.(interface {
		BulkCreateUsers(ctx context.Context, us []store.User) error
	}).BulkCreateUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	t.Run("offset pages stop at the 1000th user", func(t *testing.T) {
		var seen int
		for page := 0; ; page++ {
			p, err := s.SearchUsers(ctx, admin.ListParams{Page: page, PerPage: 100, IncludeTotals: true})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 1030 || p.Start != page*100 || p.Limit != 100 {
				t.Fatalf("page %d: got start %d limit %d total %d", page, p.Start, p.Limit, p.Total)
			}
			if len(p.Users) == 0 {
				break
			}
			if p.Users[0].ID != us[seen].ID {
				t.Fatalf("page %d starts with %s, want %s", page, p.Users[0].ID, us[seen].ID)
			}
			seen += len(p.Users)
		}
		if seen != admin.MaxSearchWindow {
			t.Errorf("paged through %d users, want %d", seen, admin.MaxSearchWindow)
		}
	})
	t.Run("checkpoint pages reach every user", func(t *testing.T) {
		var ids []string
		from := ""
		for {
			p, err := s.SearchUsers(ctx, admin.ListParams{Checkpoint: true, From: from, Take: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range p.Users {
				ids = append(ids, u.ID)
			}
			if p.Next == "" {
				break
			}
			from = p.Next
		}
		if len(ids) != 1030 || ids[0] != us[0].ID || ids[1029] != us[1029].ID {
			t.Errorf("checkpoint walk: got %d users", len(ids))
		}
	})
	for name, p := range map[string]admin.ListParams{
		"per_page too big": {PerPage: 101}, "take too big": {Checkpoint: true, Take: 101}, "negative page": {Page: -1},
		"bad sort": {Sort: "password:1"}, "bad direction": {Sort: "email:up"}, "search engine v1": {SearchEngine: "v1"},
		"bad cursor": {Checkpoint: true, From: "garbage"},
	} {
		if _, err := s.SearchUsers(ctx, p); admin.Status(err) != 400 {
			t.Errorf("%s: got %v, want a 400", name, err)
		}
	}
}

func TestUsersByEmail(t *testing.T) {
	s, users := searchFixture(t)
	got, err := s.UsersByEmail(t.Context(), "JOHN@example.COM")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != users["John Smith"].ID || got[1].ID != users["John Twin"].ID {
		t.Errorf("UsersByEmail: got %v", got)
	}
	if _, err := s.UsersByEmail(t.Context(), ""); admin.Status(err) != 400 {
		t.Errorf("empty email: got %v, want a 400", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdateUser(t *testing.T) {
	tests := []struct {
		name       string
		patch      admin.UserPatch
		wantFields []string
		check      func(t *testing.T, u store.User)
	}{
		{name: "metadata merges at the top level and null deletes",
			patch: admin.UserPatch{UserMetadata: map[string]any{"plan": nil, "lang": "fr"}, AppMetadata: map[string]any{"tier": 2.0}},
			check: func(t *testing.T, u store.User) {
				if _, ok := u.UserMetadata["plan"]; ok || u.UserMetadata["lang"] != "fr" || u.UserMetadata["team"] != "a" {
					t.Errorf("user_metadata: got %v, want lang added, plan removed, team kept", u.UserMetadata)
				}
				if u.AppMetadata["tier"] != 2.0 || u.AppMetadata["vip"] != true {
					t.Errorf("app_metadata: got %v", u.AppMetadata)
				}
			}},
		{name: "an empty object clears metadata", patch: admin.UserPatch{UserMetadata: map[string]any{}},
			check: func(t *testing.T, u store.User) {
				if len(u.UserMetadata) != 0 {
					t.Errorf("user_metadata: got %v, want empty", u.UserMetadata)
				}
			}},
		{name: "block and profile", patch: admin.UserPatch{Blocked: ptr(true), Name: ptr("New Name"), GivenName: ptr("N")},
			check: func(t *testing.T, u store.User) {
				if !u.Blocked || u.Name != "New Name" || u.GivenName != "N" || u.UserMetadata["plan"] != "gold" {
					t.Errorf("got %+v", u)
				}
			}},
		{name: "new email is unverified", patch: admin.UserPatch{Connection: ptr("db"), Email: ptr("New@Example.com")},
			check: func(t *testing.T, u store.User) {
				if u.Email != "new@example.com" || u.EmailVerified {
					t.Errorf("email: got %q verified %v", u.Email, u.EmailVerified)
				}
			}},
		{name: "password needs the connection", patch: admin.UserPatch{Password: ptr("N3wPassword!")}, wantFields: []string{"connection"}},
		{name: "password of another connection", patch: admin.UserPatch{Password: ptr("N3wPassword!"), Connection: ptr("db2")}, wantFields: []string{"connection"}},
		{name: "weak password", patch: admin.UserPatch{Password: ptr("weak"), Connection: ptr("db")}, wantFields: []string{"password"}},
		{name: "reserved app_metadata", patch: admin.UserPatch{AppMetadata: map[string]any{"blocked": true}}, wantFields: []string{"app_metadata.blocked"}},
		{name: "taken email", patch: admin.UserPatch{Connection: ptr("db"), Email: ptr("jane@example.com")}, wantFields: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := searchFixture(t)
			ctx := t.Context()
			u, err := s.CreateUser(ctx, admin.UserInput{Connection: "db", Email: "meta@example.com", Password: "Passw0rd!", EmailVerified: true,
				UserMetadata: map[string]any{"plan": "gold", "team": "a"}, AppMetadata: map[string]any{"vip": true}})
			if err != nil {
				t.Fatal(err)
			}
			before, _ := s.GetUser(ctx, u.ID)
			got, err := s.UpdateUser(ctx, u.ID, tc.patch)
			if tc.wantFields != nil {
				if err == nil {
					t.Fatalf("UpdateUser: got no error, want a failure on %v", tc.wantFields)
				}
				if len(tc.wantFields) == 0 {
					if admin.Status(err) != 409 {
						t.Errorf("UpdateUser: got %v, want a 409", err)
					}
				} else if f := validationFields(err); !slices.Equal(f, tc.wantFields) {
					t.Errorf("UpdateUser: failed on %v, want %v (%v)", f, tc.wantFields, err)
				}
				after, _ := s.GetUser(ctx, u.ID)
				if after.Email != before.Email || after.PasswordHash != before.PasswordHash || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("a refused patch changed the user")
				}
				return
			}
			if err != nil {
				t.Fatalf("UpdateUser: %v", err)
			}
			stored, _ := s.GetUser(ctx, u.ID)
			tc.check(t, got)
			tc.check(t, stored)
		})
	}
}

func TestUpdateUserPassword(t *testing.T) {
	s, h := crudService(t)
	ctx := t.Context()
	if _, err := s.CreateConnection(ctx, "db", "", nil); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, admin.UserInput{Connection: "db", Email: "p@example.com", Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, u.ID, admin.UserPatch{Connection: ptr("db"), Password: ptr("N3wPassword!")}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetUser(ctx, u.ID)
	if ok, _, err := h.Verify(ctx, got.PasswordHash, "N3wPassword!"); err != nil || !ok {
		t.Errorf("new password does not verify: %v %v", ok, err)
	}
}

func TestUserPermissions(t *testing.T) {
	s, users := searchFixture(t)
	ctx := t.Context()
	if _, err := s.CreateAPI(ctx, admin.APIInput{Identifier: "https://api.example.com", Name: "Orders", Scopes: []store.Scope{{Value: "read:orders", Description: "Read"}, {Value: "write:orders"}}}); err != nil {
		t.Fatal(err)
	}
	id := users["Jane Doe"].ID
	read := store.Permission{ResourceServerIdentifier: "https://api.example.com", PermissionName: "read:orders"}
	write := store.Permission{ResourceServerIdentifier: "https://api.example.com", PermissionName: "write:orders"}
	if err := s.AddUserPermissions(ctx, id, []store.Permission{write, read, read}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.UserPermissions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].PermissionName != "read:orders" || ps[0].ResourceServerName != "Orders" || ps[0].Description != "Read" {
		t.Errorf("UserPermissions: got %+v", ps)
	}
	for name, p := range map[string]store.Permission{
		"unknown API":   {ResourceServerIdentifier: "https://none", PermissionName: "read:orders"},
		"unknown scope": {ResourceServerIdentifier: "https://api.example.com", PermissionName: "delete:orders"},
	} {
		if err := s.AddUserPermissions(ctx, id, []store.Permission{p}); admin.Status(err) != 400 {
			t.Errorf("%s: got %v, want a 400", name, err)
		}
	}
	if err := s.RemoveUserPermissions(ctx, id, []store.Permission{write}); err != nil {
		t.Fatal(err)
	}
	ps, _ = s.UserPermissions(ctx, id)
	if len(ps) != 1 || ps[0].Permission != read {
		t.Errorf("after removal: got %+v", ps)
	}
	if err := s.AddUserPermissions(ctx, "auth0|none", []store.Permission{read}); admin.Status(err) != 404 {
		t.Errorf("unknown user: got %v, want a 404", err)
	}
}

func TestUsersImportJob(t *testing.T) {
	s, _ := searchFixture(t)
	s.Jobs = &admin.JobRunner{}
	ctx := t.Context()
	conn, err := s.Store.GetConnection(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	file := `[{"email":"new1@example.com","user_metadata":{"plan":"gold"}},{"email":"john@example.com","name":"Renamed"},{"email":"not-an-email"}]`
	j, err := s.StartUsersImport(ctx, strings.NewReader(file), admin.UsersImportOptions{ConnectionID: conn.ID, Upsert: true})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != store.JobPending || j.Type != store.JobUsersImport || j.Connection != "db" {
		t.Errorf("started job: got %+v", j)
	}
	s.Jobs.Wait()
	got, err := s.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"total": 3.0, "inserted": 1.0, "updated": 1.0, "failed": 1.0}
	if got.Status != store.JobCompleted || fmt.Sprint(got.Summary) != fmt.Sprint(want) {
		t.Errorf("job: got status %s summary %v, want completed %v", got.Status, got.Summary, want)
	}
	errs, err := s.JobErrors(ctx, j.ID)
	if err != nil || len(errs) != 1 {
		t.Fatalf("JobErrors: got %v, %v", errs, err)
	}
	if us, _ := s.UsersByEmail(ctx, "john@example.com"); us[0].Name != "Renamed" {
		t.Errorf("upserted user: got name %q", us[0].Name)
	}
	for name, in := range map[string]struct {
		file string
		o    admin.UsersImportOptions
	}{
		"not an array":       {`{"email":"a@example.com"}`, admin.UsersImportOptions{ConnectionID: conn.ID}},
		"unknown connection": {`[]`, admin.UsersImportOptions{ConnectionID: "con_none"}},
		"missing connection": {`[]`, admin.UsersImportOptions{}},
	} {
		if _, err := s.StartUsersImport(ctx, strings.NewReader(in.file), in.o); admin.Status(err) != 400 {
			t.Errorf("%s: got %v, want a 400", name, err)
		}
	}
}

func TestUsersExportJob(t *testing.T) {
	s, _ := searchFixture(t)
	s.Jobs = &admin.JobRunner{}
	ctx := t.Context()
	conn, _ := s.Store.GetConnection(ctx, "db")
	tests := []struct {
		name string
		o    admin.UsersExportOptions
		want string
	}{
		{"csv of one connection", admin.UsersExportOptions{ConnectionID: conn.ID, Format: "csv",
			Fields: []admin.ExportField{{Name: "email"}, {Name: "user_metadata.plan", ExportAs: "plan"}}},
			"email,plan\njohn@example.com,gold\njane@example.com,silver\njoe@other.org,\n"},
		{"json lines with a limit", admin.UsersExportOptions{Format: "json", Limit: 2, Fields: []admin.ExportField{{Name: "name"}}},
			`{"name":"John Smith"}` + "\n" + `{"name":"Jane Doe"}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := s.StartUsersExport(ctx, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			s.Jobs.Wait()
			data, name, err := s.JobResult(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(name, "."+tc.o.Format+".gz") {
				t.Errorf("file name: got %q", name)
			}
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(zr)
			if string(out) != tc.want {
				t.Errorf("export:\n got %q\nwant %q", out, tc.want)
			}
		})
	}
	if _, err := s.StartUsersExport(ctx, admin.UsersExportOptions{Format: "xml"}); admin.Status(err) != 400 {
		t.Errorf("format xml: got %v, want a 400", err)
	}
	if _, err := s.StartUsersExport(ctx, admin.UsersExportOptions{Fields: []admin.ExportField{{Name: "password_hash"}}}); admin.Status(err) != 400 {
		t.Errorf("password_hash field: got %v, want a 400", err)
	}
}

func TestSearchLogs(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		typ := []string{"s", "fp", "sapi"}[i%3]
		if err := s.Store.AppendLog(ctx, store.LogEvent{ID: fmt.Sprintf("log%02d", i), Date: base.Add(time.Duration(i) * time.Minute), Type: typ, UserID: fmt.Sprint("u", i%2)}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(p admin.LogPage) string {
		var out []string
		for _, e := range p.Logs {
			out = append(out, strings.TrimPrefix(e.ID, "log"))
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name string
		p    admin.ListParams
		want string
	}{
		{"newest first", admin.ListParams{PerPage: 3}, "11,10,09"},
		{"second page oldest first", admin.ListParams{Page: 1, PerPage: 3, Sort: "date:1"}, "03,04,05"},
		{"q by type", admin.ListParams{Q: `type:fp`}, "10,07,04,01"},
		{"q by type and user", admin.ListParams{Q: `type:sapi AND user_id:u1`}, "11,05"},
		{"q by date range", admin.ListParams{Q: `date:[2025-01-01T00:09:00Z TO *]`}, "11,10,09"},
		{"take without from: the newest", admin.ListParams{Checkpoint: true, Take: 2}, "11,10"},
		{"from: the next ones, oldest first", admin.ListParams{Checkpoint: true, From: "log05", Take: 3}, "06,07,08"},
		{"from the newest: nothing yet", admin.ListParams{Checkpoint: true, From: "log11", Take: 3}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.SearchLogs(ctx, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	p, err := s.SearchLogs(ctx, admin.ListParams{Q: "type:s", IncludeTotals: true, PerPage: 1})
	if err != nil || p.Total != 4 {
		t.Errorf("total: got %d, %v, want 4", p.Total, err)
	}
	for name, lp := range map[string]admin.ListParams{
		"unknown from": {Checkpoint: true, From: "none"}, "bad field": {Q: "secret:x"}, "bad sort": {Sort: "type:1"},
	} {
		if _, err := s.SearchLogs(ctx, lp); admin.Status(err) != 400 {
			t.Errorf("%s: got %v, want a 400", name, err)
		}
	}
	if _, err := s.GetLog(ctx, "none"); admin.Status(err) != 404 {
		t.Errorf("GetLog unknown: got %v, want a 404", err)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func searchUsers() []store.User {
	mk := func(id, conn, email, username, name string, created time.Duration, um, am map[string]any) store.User {
		return store.User{ID: id, Connection: conn, Email: email, Username: username, Name: name,
			UserMetadata: um, AppMetadata: am, CreatedAt: at(created), UpdatedAt: at(created)}
	}
	us := []store.User{
		mk("auth0|1", "db", "jane@example.com", "jane", "Jane Doe", 1*time.Second, map[string]any{"plan": "gold", "n": 2.0}, map[string]any{"trial": true}),
		mk("auth0|2", "db", "john@example.com", "", "John Smith", 2*time.Second, map[string]any{"plan": "silver"}, nil),
		mk("auth0|3", "db", "johanna@other.org", "jo", "Johanna", 3*time.Second, nil, map[string]any{"trial": false, "org": map[string]any{"id": "o1"}}),
		mk("auth0|4", "db2", "Jane@Example.com", "", "Jane Twin", 4*time.Second, map[string]any{"plan": "gold"}, nil),
		mk("auth0|5", "db2", "", "nomail", "Ghost", 5*time.Second, nil, nil),
	}
	us[1].Blocked = true
	us[2].LoginsCount = 7
	us[0].EmailVerified = true
	return us
}

func ids[T any](xs []T, id func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func userID(u store.User) string            { return u.ID }
func logID(e store.LogEvent) string         { return e.ID }
func familyID(f store.RefreshFamily) string { return f.ID }

func testUserSearch(t *testing.T, newStore NewStore) {
	ctx := t.Context
	s := newStore(t)
	for _, u := range searchUsers() {
		must(t, "CreateUser "+u.ID, s.CreateUser(ctx(), u))
	}
	eq := func(f string, v any) store.Match { return store.Match{Field: f, Op: store.MatchEqual, Value: v} }
	op := func(f string, o store.MatchOp, v any) store.Match { return store.Match{Field: f, Op: o, Value: v} }
	t.Run("conditions", func(t *testing.T) {
		tests := []struct {
			name  string
			where store.Cond
			want  []string
		}{
			{"all", nil, []string{"auth0|1", "auth0|2", "auth0|3", "auth0|4", "auth0|5"}},
			{"email in any case", eq("email", "JANE@example.com"), []string{"auth0|1", "auth0|4"}},
			{"email suffix", op("email", store.MatchSuffix, "@Example.com"), []string{"auth0|1", "auth0|2", "auth0|4"}},
			{"email prefix", op("email", store.MatchPrefix, "joh"), []string{"auth0|2", "auth0|3"}},
			{"name prefix is case-sensitive", op("name", store.MatchPrefix, "jane"), nil},
			{"name prefix", op("name", store.MatchPrefix, "Jane"), []string{"auth0|1", "auth0|4"}},
			{"name contains", op("name", store.MatchContains, "oh"), []string{"auth0|2", "auth0|3"}},
			{"username", eq("username", "jo"), []string{"auth0|3"}},
			{"user metadata", eq("user_metadata.plan", "gold"), []string{"auth0|1", "auth0|4"}},
			{"metadata number as text", eq("user_metadata.n", "2"), []string{"auth0|1"}},
			{"metadata boolean", eq("app_metadata.trial", "true"), []string{"auth0|1"}},
			{"metadata boolean false", eq("app_metadata.trial", "false"), []string{"auth0|3"}},
			{"nested metadata", eq("app_metadata.org.id", "o1"), []string{"auth0|3"}},
			{"metadata prefix", op("user_metadata.plan", store.MatchPrefix, "sil"), []string{"auth0|2"}},
			{"metadata exists", store.Match{Field: "user_metadata.plan", Op: store.MatchExists}, []string{"auth0|1", "auth0|2", "auth0|4"}},
			{"NOT counts a missing key as no match", store.Not{Cond: eq("user_metadata.plan", "gold")}, []string{"auth0|2", "auth0|3", "auth0|5"}},
			{"NOT of a missing username", store.Not{Cond: eq("username", "jane")}, []string{"auth0|2", "auth0|3", "auth0|4", "auth0|5"}},
			{"email exists", store.Match{Field: "email", Op: store.MatchExists}, []string{"auth0|1", "auth0|2", "auth0|3", "auth0|4"}},
			{"blocked", eq("blocked", true), []string{"auth0|2"}},
			{"email_verified false", eq("email_verified", false), []string{"auth0|2", "auth0|3", "auth0|4", "auth0|5"}},
			{"logins_count range", store.Match{Field: "logins_count", Op: store.MatchRange, Lo: int64(5), LoIncl: true}, []string{"auth0|3"}},
			{"created_at range", store.Match{Field: "created_at", Op: store.MatchRange, Lo: at(2 * time.Second), Hi: at(4 * time.Second), LoIncl: true}, []string{"auth0|2", "auth0|3"}},
			{"connection", eq("identities.connection", "db2"), []string{"auth0|4", "auth0|5"}},
			{"and", store.And{eq("user_metadata.plan", "gold"), eq("identities.connection", "db")}, []string{"auth0|1"}},
			{"or", store.Or{eq("username", "jo"), eq("name", "Ghost")}, []string{"auth0|3", "auth0|5"}},
			{"empty or", store.Or{}, nil},
			{"quote in a value is data", eq("name", "x' OR '1'='1"), nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, next, err := s.SearchUsers(ctx(), store.UserQuery{Where: tc.where})
				must(t, "SearchUsers", err)
				diff(t, "ids", ids(got, userID), tc.want)
				if next != "" {
					t.Errorf("next without a limit: got %q, want none", next)
				}
				n, err := s.CountSearchUsers(ctx(), tc.where)
				must(t, "CountSearchUsers", err)
				if n != len(tc.want) {
					t.Errorf("CountSearchUsers: got %d, want %d", n, len(tc.want))
				}
			})
		}
	})
	t.Run("bad queries", func(t *testing.T) {
		for name, q := range map[string]store.UserQuery{
			"unknown field":       {Where: eq("password_hash", "x")},
			"metadata key syntax": {Where: eq("user_metadata.a'b", "x")},
			"metadata root":       {Where: eq("user_metadata", "x")},
			"wrong value type":    {Where: eq("blocked", "yes")},
			"wildcard on a bool":  {Where: op("blocked", store.MatchPrefix, "t")},
			"unknown sort":        {Sort: store.Sort{Field: "password_hash"}},
			"bad cursor":          {Page: store.Page{Limit: 1, After: "!!"}},
		} {
			_, _, err := s.SearchUsers(ctx(), q)
			if !errors.Is(err, store.ErrBadQuery) {
				t.Errorf("%s: got %v, want ErrBadQuery", name, err)
			}
		}
	})
	t.Run("sort and pages", func(t *testing.T) {
		for _, sort := range []store.Sort{{}, {Desc: true}, {Field: "email"}, {Field: "name", Desc: true}, {Field: "username"}, {Field: "logins_count", Desc: true}, {Field: "last_login"}} {
			all, _, err := s.SearchUsers(ctx(), store.UserQuery{Sort: sort})
			must(t, "SearchUsers", err)
			want := ids(all, userID)
			if len(want) != 5 {
				t.Fatalf("sort %+v: got %v", sort, want)
			}
			// Offset pages and cursor pages of two walk the same order.
			var byOffset, byCursor []string
			after := ""
			for page := 0; page < 4; page++ {
				got, _, err := s.SearchUsers(ctx(), store.UserQuery{Sort: sort, Page: store.Page{Limit: 2, Offset: 2 * page}})
				must(t, "SearchUsers offset", err)
				byOffset = append(byOffset, ids(got, userID)...)
				got, next, err := s.SearchUsers(ctx(), store.UserQuery{Sort: sort, Page: store.Page{Limit: 2, After: after}})
				must(t, "SearchUsers cursor", err)
				byCursor = append(byCursor, ids(got, userID)...)
				if next == "" {
					if len(got) == 2 && page < 2 {
						t.Errorf("sort %+v page %d: no next cursor on a full page", sort, page)
					}
					break
				}
				after = next
			}
			diff(t, fmt.Sprintf("offset pages sorted by %+v", sort), byOffset, want)
			diff(t, fmt.Sprintf("cursor pages sorted by %+v", sort), byCursor, want)
		}
		desc, _, err := s.SearchUsers(ctx(), store.UserQuery{Sort: store.Sort{Desc: true}, Page: store.Page{Limit: 2}})
		must(t, "SearchUsers", err)
		diff(t, "newest first", ids(desc, userID), []string{"auth0|5", "auth0|4"})
		_, next, err := s.SearchUsers(ctx(), store.UserQuery{Page: store.Page{Limit: 2}})
		must(t, "SearchUsers", err)
		_, _, err = s.SearchUsers(ctx(), store.UserQuery{Sort: store.Sort{Field: "email"}, Page: store.Page{Limit: 2, After: next}})
		if !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("cursor of another sort: got %v, want ErrBadQuery", err)
		}
	})
	t.Run("users by email", func(t *testing.T) {
		got, err := s.UsersByEmail(ctx(), "JANE@EXAMPLE.COM")
		must(t, "UsersByEmail", err)
		diff(t, "ids", ids(got, userID), []string{"auth0|1", "auth0|4"})
		got, err = s.UsersByEmail(ctx(), "")
		must(t, "UsersByEmail empty", err)
		diff(t, "ids for an empty email", ids(got, userID), []string(nil))
	})
}

func testLogSearch(t *testing.T, newStore NewStore) {
	ctx := t.Context
	s := newStore(t)
	for i, typ := range []string{"s", "fp", "s", "sapi", "fp", "s"} {
		e := event(fmt.Sprintf("l%d", i), typ, fmt.Sprintf("u%d", i%2), time.Duration(i)*time.Second)
		e.Details = map[string]any{"request": map[string]any{"method": "PATCH"}}
		must(t, "AppendLog", s.AppendLog(ctx(), e))
	}
	// Two events at the same instant: the ID breaks the tie in both directions.
	must(t, "AppendLog", s.AppendLog(ctx(), event("l6", "s", "u0", 5*time.Second)))
	got, err := s.GetLog(ctx(), "l3")
	must(t, "GetLog", err)
	if got.Type != "sapi" {
		t.Errorf("GetLog: got type %q, want sapi", got.Type)
	}
	_, err = s.GetLog(ctx(), "none")
	wantErr(t, "GetLog unknown", err, store.ErrNotFound)
	eq := func(f string, v any) store.Match { return store.Match{Field: f, Op: store.MatchEqual, Value: v} }
	tests := []struct {
		name string
		q    store.LogQuery
		want []string
	}{
		{"newest first", store.LogQuery{}, []string{"l6", "l5", "l4", "l3", "l2", "l1", "l0"}},
		{"oldest first", store.LogQuery{Asc: true}, []string{"l0", "l1", "l2", "l3", "l4", "l5", "l6"}},
		{"type", store.LogQuery{Where: eq("type", "fp")}, []string{"l4", "l1"}},
		{"type or user", store.LogQuery{Where: store.Or{eq("type", "sapi"), eq("user_id", "u1")}}, []string{"l5", "l3", "l1"}},
		{"details path", store.LogQuery{Where: eq("details.request.method", "PATCH")}, []string{"l5", "l4", "l3", "l2", "l1", "l0"}},
		{"page", store.LogQuery{Page: store.Page{Limit: 2, Offset: 2}}, []string{"l4", "l3"}},
		{"after an id, ascending", store.LogQuery{Asc: true, Page: store.Page{Limit: 3, After: "l2"}}, []string{"l3", "l4", "l5"}},
		{"after a tie, ascending", store.LogQuery{Asc: true, Page: store.Page{Limit: 3, After: "l5"}}, []string{"l6"}},
		{"after an id, descending", store.LogQuery{Page: store.Page{Limit: 2, After: "l6"}}, []string{"l5", "l4"}},
		{"after with a filter", store.LogQuery{Asc: true, Where: eq("type", "s"), Page: store.Page{Limit: 5, After: "l0"}}, []string{"l2", "l5", "l6"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SearchLogs(ctx(), tc.q)
			must(t, "SearchLogs", err)
			diff(t, "ids", ids(got, logID), tc.want)
		})
	}
	n, err := s.CountSearchLogs(ctx(), eq("type", "s"))
	must(t, "CountSearchLogs", err)
	if n != 4 {
		t.Errorf("CountSearchLogs: got %d, want 4", n)
	}
	_, err = s.SearchLogs(ctx(), store.LogQuery{Page: store.Page{After: "none"}})
	wantErr(t, "SearchLogs after an unknown id", err, store.ErrNotFound)
	_, err = s.SearchLogs(ctx(), store.LogQuery{Where: eq("secret", "x")})
	wantErr(t, "SearchLogs on an unknown field", err, store.ErrBadQuery)
}

func testJobs(t *testing.T, newStore NewStore) {
	ctx := t.Context
	s := newStore(t)
	j := store.Job{ID: "job_1", Type: store.JobUsersImport, Status: store.JobPending, ConnectionID: "con_1", Connection: "db",
		Params: map[string]any{"upsert": true}, Input: []byte(`[{"email":"a@example.com"}]`), CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, "CreateJob", s.CreateJob(ctx(), j))
	wantErr(t, "CreateJob again", s.CreateJob(ctx(), j), store.ErrConflict)
	got, err := s.GetJob(ctx(), "job_1")
	must(t, "GetJob", err)
	diff(t, "job", got, j)
	must(t, "UpdateJob", s.UpdateJob(ctx(), "job_1", func(j *store.Job) error {
		j.Status, j.Input, j.Result = store.JobCompleted, nil, []byte("out")
		j.Summary = map[string]any{"total": 1.0}
		j.Errors = []map[string]any{{"errors": []any{"x"}}}
		return nil
	}))
	got, err = s.GetJob(ctx(), "job_1")
	must(t, "GetJob", err)
	if got.Status != store.JobCompleted || string(got.Result) != "out" || len(got.Input) != 0 || got.Summary["total"] != 1.0 || len(got.Errors) != 1 {
		t.Errorf("job after update: got %+v", got)
	}
	_, err = s.GetJob(ctx(), "job_none")
	wantErr(t, "GetJob unknown", err, store.ErrNotFound)
}

func testUserRefreshFamilies(t *testing.T, newStore NewStore) {
	ctx := t.Context
	s := newStore(t)
	for i := range 5 {
		f := family(fmt.Sprintf("f%d", i), "u1", fmt.Sprintf("c%d", i%2))
		f.CreatedAt = at(time.Duration(i) * time.Second)
		if i == 3 {
			f.ExpiresAt = at(time.Minute)
		}
		must(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), f, token(fmt.Sprintf("h%d", i))))
	}
	must(t, "CreateRefreshFamily other user", s.CreateRefreshFamily(ctx(), family("g", "u2", "c0"), token("hg")))
	must(t, "RevokeRefreshFamilyByID", s.RevokeRefreshFamilyByID(ctx(), "f1", at(time.Hour)))
	must(t, "RevokeRefreshFamilyByID twice", s.RevokeRefreshFamilyByID(ctx(), "f1", at(2*time.Hour)))
	wantErr(t, "RevokeRefreshFamilyByID unknown", s.RevokeRefreshFamilyByID(ctx(), "none", at(0)), store.ErrNotFound)
	f, err := s.GetRefreshFamily(ctx(), "f1")
	must(t, "GetRefreshFamily", err)
	if !f.RevokedAt.Equal(at(time.Hour)) {
		t.Errorf("RevokedAt: got %v, want the first revocation's time", f.RevokedAt)
	}
	_, err = s.GetRefreshFamily(ctx(), "none")
	wantErr(t, "GetRefreshFamily unknown", err, store.ErrNotFound)
	// f1 is revoked and f3 expired at now; the rest come oldest first, two a page.
	now := at(2 * time.Minute)
	var all []string
	after := ""
	for range 3 {
		fs, next, err := s.ListUserRefreshFamilies(ctx(), "u1", now, store.Page{Limit: 2, After: after})
		must(t, "ListUserRefreshFamilies", err)
		all = append(all, ids(fs, familyID)...)
		if next == "" {
			break
		}
		after = next
	}
	diff(t, "live families", all, []string{"f0", "f2", "f4"})
}

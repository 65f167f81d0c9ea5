package compat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/management"
	"github.com/auth0/go-auth0/v3/management/client"
)

// managementClient returns go-auth0's Management API client for the M2M client, after
// granting that client the management scopes these tests use (with the CLI, as an operator
// would).
func managementClient(t *testing.T) *client.Management {
	t.Helper()
	// The tenant file's management client: its grant names an Auth0 tenant's Management API.
	return newManagement(t, mgmtClientID, mgmtClientSecret)
}

func TestGoAuth0ManagementUsers(t *testing.T) {
	m := managementClient(t)
	ctx := t.Context()
	str := func(s string) *string { return &s }

	created, err := m.Users.Create(ctx, &management.CreateUserRequestContent{Connection: realm, Email: str("Mgmt.User@Example.com"),
		Password: str(password), UserMetadata: &management.UserMetadata{"plan": "gold", "lang": "en"}})
	if err != nil {
		t.Fatalf("Users.Create: %v", err)
	}
	id := created.GetUserID()
	if created.GetEmail() != "mgmt.user@example.com" || !strings.HasPrefix(id, "auth0|") {
		t.Fatalf("created user: id %q email %q", id, created.GetEmail())
	}
	updated, err := m.Users.Update(ctx, id, &management.UpdateUserRequestContent{UserMetadata: &management.UserMetadata{"plan": nil, "team": "a"}})
	if err != nil {
		t.Fatalf("Users.Update: %v", err)
	}
	if md := updated.GetUserMetadata(); md["plan"] != nil || md["lang"] != "en" || md["team"] != "a" {
		t.Errorf("merged user_metadata: got %v", md)
	}
	got, err := m.Users.Get(ctx, id, &management.GetUserRequestParameters{})
	if err != nil || got.GetEmail() != "mgmt.user@example.com" {
		t.Fatalf("Users.Get: %v %v", got, err)
	}
	byEmail, err := m.Users.ListUsersByEmail(ctx, &management.ListUsersByEmailRequestParameters{Email: "MGMT.USER@example.com"})
	if err != nil || len(byEmail) != 1 || byEmail[0].GetUserID() != id {
		t.Errorf("Users.ListUsersByEmail: got %d users, %v", len(byEmail), err)
	}
	page, err := m.Users.List(ctx, &management.ListUsersRequestParameters{Q: str(`email:"mgmt.user@example.com"`)})
	if err != nil || len(page.Results) != 1 {
		t.Errorf("Users.List q=email: got %v, %v", page, err)
	}
	blocks, err := m.UserBlocks.ListByIdentifier(ctx, &management.ListUserBlocksByIdentifierRequestParameters{Identifier: "mgmt.user@example.com"})
	if err != nil || len(blocks.GetBlockedFor()) != 0 {
		t.Errorf("UserBlocks.ListByIdentifier: got %v, %v", blocks, err)
	}
	if err := m.UserBlocks.DeleteByIdentifier(ctx, &management.DeleteUserBlocksByIdentifierRequestParameters{Identifier: "mgmt.user@example.com"}); err != nil {
		t.Errorf("UserBlocks.DeleteByIdentifier: %v", err)
	}
	if err := m.Users.Delete(ctx, id); err != nil {
		t.Fatalf("Users.Delete: %v", err)
	}
	if _, err := m.Users.Get(ctx, id, &management.GetUserRequestParameters{}); err == nil {
		t.Errorf("Users.Get after delete: got no error")
	}

	// Logs: every write above is a sapi event; the log writer batches them, so wait for it.
	var logs []*management.Log
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p, err := m.Logs.List(ctx, &management.ListLogsRequestParameters{Search: str("type:sapi"), PerPage: intp(5)})
		if err != nil {
			t.Fatalf("Logs.List: %v", err)
		}
		if logs = p.Results; len(logs) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(logs) == 0 || logs[0].GetType() != "sapi" {
		t.Fatalf("Logs.List type:sapi: got %d events", len(logs))
	}
	one, err := m.Logs.Get(ctx, logs[0].GetLogID())
	if err != nil || one.GetType() != "sapi" {
		t.Errorf("Logs.Get: got %v, %v", one, err)
	}
}

func intp(n int) *int { return &n }

// TestGoAuth0ManagementUserPaging imports 1,000 users with a users-imports job and pages
// through them with go-auth0's iterator (offset paging, Auth0's 1000-user window).
func TestGoAuth0ManagementUserPaging(t *testing.T) {
	m := managementClient(t)
	ctx := t.Context()
	const domain = "paging.compat.test"
	importPagingUsers(t, m, domain, 1000)
	it, err := m.Users.List(context.WithoutCancel(ctx), &management.ListUsersRequestParameters{Q: str2(`email:*@` + domain), PerPage: intp(100), Sort: str2("email:1")})
	if err != nil {
		t.Fatalf("Users.List: %v", err)
	}
	seen := 0
	iter := it.Iterator()
	for iter.Next(ctx) {
		if want := fmt.Sprintf("bulk%04d@%s", seen, domain); iter.Current().GetEmail() != want {
			t.Fatalf("user %d: got %s, want %s", seen, iter.Current().GetEmail(), want)
		}
		seen++
	}
	if err := iter.Err(); err != nil || seen != 1000 {
		t.Errorf("paged through %d users (err %v), want 1000", seen, err)
	}
}

// importPagingUsers creates n users bulkNNNN@domain in the realm with one users-imports job
// (what an operator does for many users, and far quicker than n API calls) and waits for it.
func importPagingUsers(t *testing.T, m *client.Management, domain string, n int) {
	t.Helper()
	ctx := t.Context()
	conns, err := srv.command(ctx, "connections", "list", "--json").Output()
	if err != nil {
		t.Fatalf("connections list: %v", err)
	}
	var list []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(conns, &list); err != nil {
		t.Fatalf("connections list: %v: %s", err, conns)
	}
	connID := ""
	for _, c := range list {
		if c.Name == realm {
			connID = c.ID
		}
	}
	var file strings.Builder
	file.WriteString("[")
	for i := range n {
		if i > 0 {
			file.WriteString(",")
		}
		fmt.Fprintf(&file, `{"email":"bulk%04d@%s","user_metadata":{"n":%d}}`, i, domain, i)
	}
	file.WriteString("]")
	job, err := m.Jobs.UsersImports.Create(ctx, &management.CreateImportUsersRequestContent{Users: strings.NewReader(file.String()), ConnectionID: connID})
	if err != nil {
		t.Fatalf("Jobs.UsersImports.Create: %v", err)
	}
	status := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		j, err := m.Jobs.Get(ctx, job.GetID())
		if err != nil {
			t.Fatalf("Jobs.Get: %v", err)
		}
		if status = j.GetStatus(); status == "completed" || status == "failed" {
			break
		}
	}
	if status != "completed" {
		t.Fatalf("import job: status %q", status)
	}
}

func str2(s string) *string { return &s }

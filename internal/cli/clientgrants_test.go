package cli_test

import (
	"strings"
	"testing"
)

func TestClientGrantsCommands(t *testing.T) {
	h := newHarness(t)
	h.ok("", "migrate")
	h.ok("", "clients", "create", "--name", "Backend", "--client-id", "m2m", "--app-type", "non_interactive", "--grant-types", "client_credentials")
	h.ok("", "apis", "create", "--identifier", "https://api.example.com", "--scopes", "read:x,write:x")

	var g struct {
		ID       string   `json:"id"`
		ClientID string   `json:"client_id"`
		Audience string   `json:"audience"`
		Scope    []string `json:"scope"`
	}
	h.okJSON(&g, "", "client-grants", "create", "--client-id", "m2m", "--audience", "https://api.example.com", "--scope", "read:x")
	if !strings.HasPrefix(g.ID, "cgr_") || g.ClientID != "m2m" || g.Audience != "https://api.example.com" || strings.Join(g.Scope, " ") != "read:x" {
		t.Errorf("created %+v, want a cgr_ grant of m2m for the API with read:x", g)
	}
	// The rules are admin.Service's: the same answers as the tenant file and the API.
	h.fails("already exists", "", "client-grants", "create", "--client-id", "m2m", "--audience", "https://api.example.com")
	h.fails("not a scope of the API", "", "client-grants", "create", "--client-id", "m2m", "--audience", "https://api.example.com", "--scope", "admin")
	h.fails(`client "nobody" not found`, "", "client-grants", "create", "--client-id", "nobody", "--audience", "https://api.example.com")
	h.fails("not found", "", "client-grants", "create", "--client-id", "m2m", "--audience", "https://none")

	var list []struct {
		ID string `json:"id"`
	}
	h.okJSON(&list, "", "client-grants", "list", "--client-id", "m2m")
	if len(list) != 1 || list[0].ID != g.ID {
		t.Errorf("list: got %+v, want the one grant", list)
	}
	if out := h.ok("", "client-grants", "list"); !strings.Contains(out, g.ID) || !strings.Contains(out, "read:x") {
		t.Errorf("list table: got %q, want the grant's id and scope", out)
	}
	h.ok("", "client-grants", "delete", g.ID)
	h.okJSON(&list, "", "client-grants", "list")
	if len(list) != 0 {
		t.Errorf("list after delete: got %+v, want none", list)
	}
	h.fails("not found", "", "client-grants", "delete", g.ID)
}

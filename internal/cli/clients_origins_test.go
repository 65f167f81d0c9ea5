package cli_test

import (
	"slices"
	"testing"
)

func TestClientsWebOrigins(t *testing.T) {
	h := newHarness(t)
	var c struct {
		ClientID   string   `json:"client_id"`
		WebOrigins []string `json:"web_origins"`
	}
	h.okJSON(&c, "", "clients", "create", "--name", "SPA", "--app-type", "spa", "--web-origins", "https://App.example.com/,https://*.example.org")
	if !slices.Equal(c.WebOrigins, []string{"https://app.example.com", "https://*.example.org"}) {
		t.Errorf("clients create --web-origins: got %v, want them normalised", c.WebOrigins)
	}
	h.okJSON(&c, "", "clients", "update", c.ClientID, "--web-origins", "http://localhost:3000")
	if !slices.Equal(c.WebOrigins, []string{"http://localhost:3000"}) {
		t.Errorf("clients update --web-origins: got %v, want [http://localhost:3000]", c.WebOrigins)
	}
	h.fails("must not have a path", "", "clients", "update", c.ClientID, "--web-origins", "https://x.test/app")
	h.fails("nothing to update", "", "clients", "update", c.ClientID)
	h.fails("not found", "", "clients", "update", "ghost", "--web-origins", "https://x.test")
	h.okJSON(&c, "", "clients", "update", c.ClientID, "--web-origins", "")
	if len(c.WebOrigins) != 0 || c.WebOrigins == nil {
		t.Errorf("clients update --web-origins '': got %v, want []", c.WebOrigins)
	}
}

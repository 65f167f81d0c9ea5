package cli_test

import "testing"

// TestConnectionsCreatePasswordless: `sesame connections create --strategy email|sms --options`
// stores a passwordless connection with Auth0's options, refuses options it cannot honour, and
// `sesame clients create` takes the passwordless grant's short form.
func TestConnectionsCreatePasswordless(t *testing.T) {
	h := newHarness(t)
	var app struct {
		ClientID   string   `json:"client_id"`
		GrantTypes []string `json:"grant_types"`
	}
	h.okJSON(&app, "", "clients", "create", "--name", "Mobile", "--app-type", "native", "--grant-types", "passwordless-otp,refresh_token")
	if len(app.GrantTypes) != 2 || app.GrantTypes[0] != "http://auth0.com/oauth/grant-type/passwordless/otp" {
		t.Fatalf("clients create: grant types %v", app.GrantTypes)
	}
	var c struct {
		Strategy       string         `json:"strategy"`
		EnabledClients []string       `json:"enabled_clients"`
		Options        map[string]any `json:"options"`
	}
	h.okJSON(&c, "", "connections", "create", "--name", "email", "--strategy", "email", "--enable-client", app.ClientID,
		"--options", `{"totp":{"length":8,"time_step":300},"disable_signup":true}`)
	if c.Strategy != "email" || len(c.EnabledClients) != 1 || c.Options["disable_signup"] != true {
		t.Errorf("connections create: got %+v", c)
	}
	h.fails("options.totp.time_step", "", "connections", "create", "--name", "sms", "--strategy", "sms", "--options", `{"totp":{"time_step":5}}`)
	h.fails("--options: not a JSON object", "", "connections", "create", "--name", "sms", "--strategy", "sms", "--options", `[1]`)
	h.fails("not supported", "", "connections", "create", "--name", "wa", "--strategy", "whatsapp")
}

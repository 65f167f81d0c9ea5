package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/config"
)

// TestParseTenantFilePasswordless: connections of strategy email and sms are read with their
// options; a database section cannot hold them; strategies Sesame does not serve are still
// reported as ignored.
func TestParseTenantFilePasswordless(t *testing.T) {
	tf, err := config.ParseTenantFile([]byte(`clients:
  - name: Mobile
    grant_types: ["http://auth0.com/oauth/grant-type/passwordless/otp"]
connections:
  - {name: email, strategy: email, enabled_clients: [Mobile], options: {totp: {length: 6}}}
  - {name: sms, strategy: sms}
  - {name: corp, strategy: waad}
`), config.TenantOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tf.Connections) != 2 || tf.Connections[0].Strategy != "email" || tf.Connections[1].Strategy != "sms" ||
		tf.Connections[0].Options["totp"] == nil {
		t.Fatalf("connections: %+v", tf.Connections)
	}
	if len(tf.Clients) != 1 || len(tf.Clients[0].GrantTypes) != 1 {
		t.Errorf("the passwordless grant was dropped: %+v", tf.Clients)
	}
	if !strings.Contains(strings.Join(tf.Ignored, "\n"), `connections[2]: strategy "waad" is not supported`) {
		t.Errorf("ignored: %v", tf.Ignored)
	}
	_, err = config.ParseTenantFile([]byte("databases: [{name: email, strategy: email}]\n"), config.TenantOptions{})
	var te *config.TenantFileError
	if !errors.As(err, &te) || !strings.Contains(te.Error(), "databases[0].strategy: must be auth0") {
		t.Errorf("email in databases: got %v", err)
	}
}

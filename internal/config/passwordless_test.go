package config_test

import (
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/config"
)

// TestParseTenantFilePasswordless: connections of strategy email and sms are read with their
// options; strategies Sesame does not serve are still reported as ignored. (That a databases
// section holds only auth0 connections is admin's rule: TestApplyFileRules.)
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
}

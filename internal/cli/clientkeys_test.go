package cli_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePublicKey writes pub as a PKIX PEM file in the harness directory and returns its path
// and text.
func (h *harness) writePublicKey(name string, pub crypto.PublicKey) (string, string) {
	h.t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		h.t.Fatal(err)
	}
	text := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	path := filepath.Join(h.dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return path, text
}

// TestClientPublicKeys checks that `clients create --public-key` and `apply` hold client keys
// to the rule that verifies assertions: RSA under 2048 bits is refused by both, with the
// reason, and nothing is written; Ed25519 (EdDSA assertions) is accepted.
func TestClientPublicKeys(t *testing.T) {
	h := newHarness(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	smallFile, smallPEM := h.writePublicKey("rsa1024.pem", &small.PublicKey)
	edFile, _ := h.writePublicKey("ed25519.pem", edPub)
	const want1024 = "RSA key has 1024 bits, at least 2048 are required"

	h.fails(want1024, "", "clients", "create", "--name", "Weak", "--app-type", "non_interactive",
		"--auth-method", "private_key_jwt", "--public-key", smallFile)
	var ed clientOut
	h.okJSON(&ed, "", "clients", "create", "--name", "Edwards", "--app-type", "non_interactive",
		"--auth-method", "private_key_jwt", "--public-key", edFile)
	if ed.AuthMethod != "private_key_jwt" {
		t.Errorf("clients create with an Ed25519 key: got %+v, want private_key_jwt", ed)
	}

	tenant := filepath.Join(h.dir, "tenant.yaml")
	indented := "              " + strings.ReplaceAll(strings.TrimSpace(smallPEM), "\n", "\n              ")
	yaml := `clients:
  - name: Weak From File
    app_type: non_interactive
    token_endpoint_auth_method: private_key_jwt
    client_authentication_methods:
      private_key_jwt:
        credentials:
          - name: small
            credential_type: public_key
            pem: |
` + indented + "\n"
	if err := os.WriteFile(tenant, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	h.fails("clients[0].client_authentication_methods.private_key_jwt.credentials[0].pem: "+want1024, "", "apply", "-f", tenant)

	var list []clientOut
	h.okJSON(&list, "", "clients", "list")
	if len(list) != 1 || list[0].Name != "Edwards" {
		t.Errorf("clients list: got %+v, want only Edwards (the refused clients written nowhere)", list)
	}
}

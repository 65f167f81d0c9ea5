package oauthserver_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store"
)

// TestEd25519ClientKeyFromTenantFile registers an Ed25519 key the way an operator does, with a
// tenant file applied by the admin service, and authenticates with an EdDSA client assertion
// (RFC 8037) at /oauth/token: a key the file accepts is a key that works.
func TestEd25519ClientKeyFromTenantFile(t *testing.T) {
	e := newEnv(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	const edClient = "app-ed25519-jwt-00000000000000004"
	tf, err := config.ParseTenantFile([]byte(`clients:
  - name: Edwards
    client_id: `+edClient+`
    app_type: non_interactive
    grant_types: [password]
    token_endpoint_auth_method: private_key_jwt
    client_authentication_methods:
      private_key_jwt:
        credentials:
          - name: ed
            credential_type: public_key
            pem: |
              `+strings.ReplaceAll(pubPEM, "\n", "\n              ")+`
databases:
  - name: `+connName+`
    enabled_clients: [`+appID+`, `+spaID+`, `+edClient+`]
`), config.TenantOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := &admin.Service{Store: e.st, Hasher: e.hasher, Box: e.box, Now: e.clock.Now}
	if _, err := svc.Apply(t.Context(), tf); err != nil {
		t.Fatalf("apply: %v", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: edClient, Subject: edClient, Audience: jwt.Audience{e.issuer},
		ID: store.NewID("", 8), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	r := e.postForm("/oauth/token", passwordForm("client_id", "", "client_secret", "", "client_assertion", assertion,
		"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
	if r.Status != http.StatusOK {
		t.Fatalf("EdDSA assertion: got %d %s, want 200", r.Status, r.Raw)
	}
	if got := e.verify(r.str("access_token")).Claims["azp"]; got != edClient {
		t.Errorf("access token azp: got %v, want %s", got, edClient)
	}
}

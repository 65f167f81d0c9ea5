package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/config"
)

const ldapTenantFile = `
clients:
  - name: Staff App
    app_type: native
    grant_types: [password]
connections:
  - name: employees
    strategy: ad
    enabled_clients: [Staff App]
    options:
      ldap_url: ldap://ldap.acme.internal:389
      ldap_starttls: true
      ldap_ca: ./ldap-ca.pem
      ldap_bind_user: cn=sesame,ou=services,dc=acme,dc=internal
      ldap_bind_credentials: BIND
      ldap_base: ou=people,dc=acme,dc=internal
      ldap_disabled_attributes: [pwdAccountLockedTime, nsAccountLock]
tenant:
  default_directory: employees
`

// TestApplyLDAPConnection: an ad connection in the tenant file is stored with its CA file
// inlined and its bind password sealed; applying the same file again changes nothing; a
// changed password is sealed anew; bad options are problems at their path.
func TestApplyLDAPConnection(t *testing.T) {
	svc, _ := crudService(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ldap-ca.pem"), testCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	apply := func(yaml string) (*[]string, error) {
		tf, err := config.ParseTenantFile([]byte(yaml), config.TenantOptions{BaseDir: dir})
		if err != nil {
			return nil, err
		}
		rep, err := svc.Apply(t.Context(), tf)
		if err != nil {
			return nil, err
		}
		return &rep.Changed, nil
	}
	if _, err := apply(strings.Replace(ldapTenantFile, "BIND", "first-secret", 1)); err != nil {
		t.Fatalf("apply: %v", err)
	}
	c, err := svc.GetConnection(t.Context(), "employees")
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := c.Options["ldap_bind_credentials_sealed"].(string)
	if ca, _ := c.Options["ldap_ca"].(string); !strings.HasPrefix(ca, "-----BEGIN CERTIFICATE-----") || sealed == "" ||
		c.Options["ldap_bind_credentials"] != nil {
		t.Fatalf("stored options: %v", c.Options)
	}
	changed, err := apply(strings.Replace(ldapTenantFile, "BIND", "first-secret", 1))
	if err != nil || len(*changed) != 0 {
		t.Errorf("second apply: changed %v, %v; want nothing changed", changed, err)
	}
	changed, err = apply(strings.Replace(ldapTenantFile, "BIND", "second-secret", 1))
	if err != nil || len(*changed) != 1 {
		t.Errorf("new password: changed %v, %v; want the connection", changed, err)
	}
	if c, _ = svc.GetConnection(t.Context(), "employees"); c.Options["ldap_bind_credentials_sealed"] == sealed {
		t.Error("a new bind password kept the old sealed one")
	}
	bad := strings.NewReplacer("BIND", "x", "ldap://ldap.acme.internal:389", "https://nope", "./ldap-ca.pem", "./missing.pem").Replace(ldapTenantFile)
	_, err = apply(bad)
	for _, want := range []string{"connections[0].options.ldap_url", "connections[0].options.ldap_ca"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad options: got %v, want a problem at %s", err, want)
		}
	}
}

func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

package compat_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auth0/go-auth0/v3/authentication/oauth"
)

// The LDAP realm of these tests: a real OpenLDAP (Debian's slapd, started by the test on a
// loopback port, seeded with ldapadd) behind an ad connection made with `sesame connections
// create` against the running server's database. The clients see a realm like any other.
const (
	ldapSuffix   = "dc=compat,dc=test"
	ldapService  = "cn=sesame,ou=services," + ldapSuffix
	ldapSvcPass  = "compat-service-secret"
	ldapUser     = "lena"
	ldapUserMail = "lena@ldap.compat.test"
	ldapUserPass = "Lena's LDAP password 7"
)

// startLDAPRealm starts slapd and creates the ad connection name for the confidential client.
// It skips when slapd or ldap-utils are not installed.
func startLDAPRealm(t *testing.T, name string) {
	t.Helper()
	if !slapdInstalled() {
		t.Skip("LDAP realm tests: install slapd and ldap-utils (apt-get install slapd ldap-utils), as .ci/run does")
	}
	createLDAPConnection(t, srv, startSlapd(t), name, "--enable-client", clientID)
}

// slapdInstalled tells whether Debian's slapd and ldap-utils are there to start a directory.
func slapdInstalled() bool {
	for _, bin := range []string{"/usr/sbin/slapd", "ldapadd"} {
		if _, err := exec.LookPath(bin); err != nil {
			return false
		}
	}
	return true
}

// startSlapd starts a seeded slapd on a loopback port for the test and returns its URL.
func startSlapd(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
database mdb
suffix "%[2]s"
rootdn "cn=admin,%[2]s"
rootpw admin-secret
directory %[1]s
maxsize 10485760
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="%[3]s" read by self read by * none
`, dir, ldapSuffix, ldapService)
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	url := "ldap://127.0.0.1:" + port
	var logs bytes.Buffer
	cmd := exec.Command("/usr/sbin/slapd", "-d", "0", "-f", filepath.Join(dir, "slapd.conf"), "-h", url+"/")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not start:\n%s", logs.String())
		}
	}
	ldif := fmt.Sprintf(`dn: %[1]s
objectClass: dcObject
objectClass: organization
o: Compat
dc: compat

dn: ou=people,%[1]s
objectClass: organizationalUnit
ou: people

dn: ou=groups,%[1]s
objectClass: organizationalUnit
ou: groups

dn: ou=services,%[1]s
objectClass: organizationalUnit
ou: services

dn: %[2]s
objectClass: person
cn: sesame
sn: service
userPassword: %[3]s

dn: uid=%[4]s,ou=people,%[1]s
objectClass: inetOrgPerson
uid: %[4]s
cn: Lena Lindqvist
givenName: Lena
sn: Lindqvist
mail: %[5]s
userPassword: %[6]s

dn: cn=engineering,ou=groups,%[1]s
objectClass: groupOfNames
cn: engineering
member: uid=%[4]s,ou=people,%[1]s
`, ldapSuffix, ldapService, ldapSvcPass, ldapUser, ldapUserMail, ldapUserPass)
	add := exec.Command("ldapadd", "-x", "-H", url, "-D", "cn=admin,"+ldapSuffix, "-w", "admin-secret")
	add.Stdin = strings.NewReader(ldif)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ldapadd: %v\n%s", err, out)
	}
	return url
}

// createLDAPConnection makes the ad connection name on server s for the directory at url.
func createLDAPConnection(t *testing.T, s *sesameServer, url, name string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	args := append([]string{"connections", "create", "--name", name, "--strategy", "ad"}, extra...)
	create := s.command(ctx, append(args,
		"--option", "ldap_url="+url, "--option", "ldap_bind_user="+ldapService, "--bind-credentials-env", "COMPAT_LDAP_BIND",
		"--option", "ldap_base=ou=people,"+ldapSuffix, "--option", "ldap_user_by_name=(uid={0})",
		"--option", "ldap_id_attribute=entryUUID", "--option", "ldap_base_groups=ou=groups,"+ldapSuffix,
		"--option", "ldap_email_verified=true")...)
	create.Env = append(create.Env, "COMPAT_LDAP_BIND="+ldapSvcPass)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("sesame connections create: %v\n%s", err, out)
	}
}

// TestGoAuth0LDAPRealm: go-auth0's authentication client logs a directory user in with the
// LDAP connection as the realm, refreshes, and reads the wrong-password error as Auth0's.
func TestGoAuth0LDAPRealm(t *testing.T) {
	const conn = "ldap-goauth0"
	startLDAPRealm(t, conn)
	a := newAuth0Secret(t)
	tok, err := a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{Username: ldapUser, Password: ldapUserPass,
		Scope: "openid profile email offline_access", Audience: apiID, Realm: conn}, oauth.IDTokenValidationOptions{})
	if err != nil {
		t.Fatalf("LoginWithPassword: %v", err)
	}
	_, id := decodeJWT(t, tok.IDToken)
	sub, _ := id["sub"].(string)
	if !strings.HasPrefix(sub, "ad|"+conn+"|") || id["email"] != ldapUserMail || id["name"] != "Lena Lindqvist" {
		t.Errorf("id token: got %v, want sub ad|%s|…, the directory's email and name", id, conn)
	}
	next, err := a.OAuth.RefreshToken(t.Context(), oauth.RefreshTokenRequest{RefreshToken: tok.RefreshToken}, oauth.IDTokenValidationOptions{})
	if err != nil || next.AccessToken == "" {
		t.Fatalf("RefreshToken: %v", err)
	}
	_, err = a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{Username: ldapUser, Password: "not the password",
		Realm: conn}, oauth.IDTokenValidationOptions{})
	wantAuth0Error(t, err, http.StatusForbidden, "invalid_grant", wrongDesc)
	_, err = a.OAuth.LoginWithPassword(t.Context(), oauth.LoginWithPasswordRequest{Username: "*)(uid=*", Password: ldapUserPass,
		Realm: conn}, oauth.IDTokenValidationOptions{})
	wantAuth0Error(t, err, http.StatusForbidden, "invalid_grant", wrongDesc)
}

// TestNodeAuth0LDAPRealm: the Auth0 Node SDK (current and v4) logs a directory user in with
// the LDAP connection as the realm, refreshes, and gets Auth0's wrong-password error.
func TestNodeAuth0LDAPRealm(t *testing.T) {
	const conn = "ldap-node"
	startLDAPRealm(t, conn)
	r := runNode(t, "auth0-ldap.cjs", ldapUser, "SESAME_REALM="+conn, "SESAME_PASSWORD="+ldapUserPass)
	type tokens struct {
		HasRefreshToken bool     `json:"has_refresh_token"`
		IDToken         jwtParts `json:"id_token"`
	}
	for _, flavour := range []string{"current", "v4"} {
		for _, step := range []string{"password_realm", "refresh"} {
			got := ok[tokens](t, r, flavour+"/"+step)
			sub, _ := got.IDToken.Claims["sub"].(string)
			if !got.HasRefreshToken || !strings.HasPrefix(sub, "ad|"+conn+"|") || got.IDToken.Claims["email"] != ldapUserMail {
				t.Errorf("%s/%s: got refresh token %v, id token %v", flavour, step, got.HasRefreshToken, got.IDToken.Claims)
			}
		}
		checkFields(t, flavour+" wrong password", failed(t, r, flavour+"/wrong_password"), map[string]any{
			"error": "invalid_grant", "error_description": wrongDesc, "statusCode": 403,
		})
	}
}

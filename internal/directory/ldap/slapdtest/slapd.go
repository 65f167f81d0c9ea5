// Package slapdtest runs a real OpenLDAP server (Debian's slapd) for tests: its own process on
// a loopback port, with a temporary configuration, a test CA for StartTLS, and a seeded
// directory of people, groups and a service account. Tests that need it skip, saying how to
// install slapd, when it is absent.
package slapdtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// The seeded directory.
const (
	Suffix       = "dc=acme,dc=test"
	People       = "ou=people," + Suffix
	Groups       = "ou=groups," + Suffix
	ServiceDN    = "cn=sesame,ou=services," + Suffix
	ServicePass  = "service-secret"
	adminDN      = "cn=admin," + Suffix
	adminPass    = "admin-secret"
	AlicePass    = "alice-pw-1"
	BobPass      = "bob-pw-1"
	CarolPass    = "carol-pw-1"
	DupPass      = "dup-pw-1"
	slapdBinary  = "/usr/sbin/slapd"
	schemaFolder = "/etc/ldap/schema"
	moduleFolder = "/usr/lib/ldap"
)

// Slapd is a running test directory.
type Slapd struct {
	t    testing.TB
	dir  string
	port int
	// CAPEM is the PEM of the CA that signed the server's certificate (for StartTLS).
	CAPEM []byte
	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
}

// Start starts a seeded slapd for the test and stops it at the end. It skips the test when
// slapd is not installed.
func Start(t testing.TB) *Slapd {
	t.Helper()
	if _, err := os.Stat(slapdBinary); err != nil {
		t.Skip("OpenLDAP tests: install slapd and ldap-utils (apt-get install slapd ldap-utils), as .ci/run does")
	}
	s := &Slapd{t: t, dir: t.TempDir()}
	s.writeCerts()
	s.writeConfig()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.Restart()
	t.Cleanup(s.Stop)
	s.seed()
	return s
}

// URL is the plain ldap:// URL (use StartTLS with CAPEM for TLS).
func (s *Slapd) URL() string { return fmt.Sprintf("ldap://127.0.0.1:%d", s.port) }

// Options are the options of an ad connection to this directory, service account included.
func (s *Slapd) Options() map[string]any {
	return map[string]any{
		"ldap_url":              s.URL(),
		"ldap_bind_user":        ServiceDN,
		"ldap_bind_credentials": ServicePass,
		"ldap_base":             People,
		"ldap_user_by_name":     "(uid={0})",
		"ldap_id_attribute":     "entryUUID",
		"ldap_base_groups":      Groups,
		"ldap_search_groups":    "(member={0})",
		"group_property":        "cn",
		"ldap_timeout_ms":       1500,
	}
}

func (s *Slapd) writeConfig() {
	conf := fmt.Sprintf(`include %[1]s/core.schema
include %[1]s/cosine.schema
include %[1]s/inetorgperson.schema
include %[1]s/nis.schema
modulepath %[2]s
moduleload back_mdb
moduleload ppolicy
pidfile %[3]s/slapd.pid
TLSCACertificateFile %[3]s/ca.pem
TLSCertificateFile %[3]s/server.pem
TLSCertificateKeyFile %[3]s/server.key
database mdb
suffix "%[4]s"
rootdn "%[5]s"
rootpw %[6]s
directory %[3]s/db
maxsize 10485760
overlay ppolicy
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="%[7]s" read by self read by * none
`, schemaFolder, moduleFolder, s.dir, Suffix, adminDN, adminPass, ServiceDN)
	if err := os.MkdirAll(filepath.Join(s.dir, "db"), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "slapd.conf"), []byte(conf), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// Restart starts slapd (again, on the same port and data) and waits until it answers.
func (s *Slapd) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	var out bytes.Buffer
	cmd := exec.Command(slapdBinary, "-d", "0", "-f", filepath.Join(s.dir, "slapd.conf"), "-h", s.URL()+"/")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting slapd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := goldap.DialURL(s.URL(), goldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			s.t.Fatalf("slapd exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("slapd did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops slapd and waits for it to exit.
func (s *Slapd) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Pause freezes slapd (SIGSTOP): it keeps its port but answers nothing, like a hung server.
// It returns once every thread of slapd is stopped (a signal is delivered asynchronously: a
// thread running on another core could otherwise still answer a request sent right after).
func (s *Slapd) Pause() {
	s.signal(syscall.SIGSTOP)
	s.mu.Lock()
	pid := s.cmd.Process.Pid
	s.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for !allStopped(pid) {
		if time.Now().After(deadline) {
			s.t.Fatalf("slapd (pid %d) did not stop", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// allStopped tells whether every thread of pid is in the stopped state (Linux /proc).
func allStopped(pid int) bool {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		return false
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses: "pid (comm) S ...".
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Resume thaws a paused slapd.
func (s *Slapd) Resume() { s.signal(syscall.SIGCONT) }

func (s *Slapd) signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Admin returns a connection bound as the directory's root, closed at the end of the test.
func (s *Slapd) Admin() *goldap.Conn {
	s.t.Helper()
	c, err := goldap.DialURL(s.URL())
	if err != nil {
		s.t.Fatal(err)
	}
	if err := c.Bind(adminDN, adminPass); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// AddPerson adds a person under ou=people.
func (s *Slapd) AddPerson(uid, password, mail, given, family string) string {
	s.t.Helper()
	dn := "uid=" + goldap.EscapeDN(uid) + "," + People
	s.add(dn, map[string][]string{
		"objectClass":  {"inetOrgPerson"},
		"uid":          {uid},
		"cn":           {given + " " + family},
		"givenName":    {given},
		"sn":           {family},
		"mail":         {mail},
		"userPassword": {password},
	})
	return dn
}

// AddGroup adds a groupOfNames under ou=groups.
func (s *Slapd) AddGroup(name string, members ...string) {
	s.t.Helper()
	s.add("cn="+goldap.EscapeDN(name)+","+Groups, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {name}, "member": members})
}

// Delete deletes an entry.
func (s *Slapd) Delete(dn string) {
	s.t.Helper()
	if err := s.Admin().Del(goldap.NewDelRequest(dn, nil)); err != nil {
		s.t.Fatalf("deleting %s: %v", dn, err)
	}
}

// Lock locks an entry the way OpenLDAP's password policy does (pwdAccountLockedTime).
func (s *Slapd) Lock(dn string) {
	s.t.Helper()
	m := goldap.NewModifyRequest(dn, nil)
	m.Replace("pwdAccountLockedTime", []string{"000001010000Z"})
	if err := s.Admin().Modify(m); err != nil {
		s.t.Fatalf("locking %s: %v", dn, err)
	}
}

func (s *Slapd) add(dn string, attrs map[string][]string) {
	s.t.Helper()
	r := goldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		r.Attribute(k, v)
	}
	if err := s.Admin().Add(r); err != nil {
		s.t.Fatalf("adding %s: %v", dn, err)
	}
}

// seed adds the tree, the service account, alice (groups engineering and admins), bob
// (engineering), carol (no group) and two entries sharing the uid "dup".
func (s *Slapd) seed() {
	s.add(Suffix, map[string][]string{"objectClass": {"dcObject", "organization"}, "o": {"Acme"}, "dc": {"acme"}})
	for _, ou := range []string{"people", "groups", "services", "contractors"} {
		s.add("ou="+ou+","+Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {ou}})
	}
	s.add(ServiceDN, map[string][]string{"objectClass": {"person"}, "cn": {"sesame"}, "sn": {"service"}, "userPassword": {ServicePass}})
	alice := s.AddPerson("alice", AlicePass, "alice@acme.test", "Alice", "Archer")
	bob := s.AddPerson("bob", BobPass, "bob@acme.test", "Bob", "Baker")
	s.AddPerson("carol", CarolPass, "carol@acme.test", "Carol", "Cooper")
	s.AddPerson("dup", DupPass, "dup1@acme.test", "Dup", "One")
	s.add("ou=sub,"+People, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"sub"}})
	s.add("uid=dup,ou=sub,"+People, map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {"dup"}, "cn": {"Dup Two"},
		"sn": {"Two"}, "mail": {"dup2@acme.test"}, "userPassword": {DupPass}})
	s.AddGroup("engineering", alice, bob)
	s.AddGroup("admins", alice)
}

// writeCerts makes a test CA and a server certificate for 127.0.0.1 and localhost.
func (s *Slapd) writeCerts() {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slapdtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		s.t.Fatal(err)
	}
	s.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for name, data := range map[string][]byte{
		"ca.pem":     s.CAPEM,
		"server.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	} {
		if err := os.WriteFile(filepath.Join(s.dir, name), data, 0o600); err != nil {
			s.t.Fatal(err)
		}
	}
}

// EntryUUID returns the entryUUID of an entry.
func (s *Slapd) EntryUUID(dn string) string {
	s.t.Helper()
	res, err := s.Admin().Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 5, false,
		"(objectClass=*)", []string{"entryUUID"}, nil))
	if err != nil || len(res.Entries) != 1 {
		s.t.Fatalf("reading entryUUID of %s: %v", dn, err)
	}
	return strings.TrimSpace(res.Entries[0].GetAttributeValue("entryUUID"))
}

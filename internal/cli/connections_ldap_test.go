package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/directory/ldap/slapdtest"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// TestConnectionsLDAP: an ad connection made with the CLI stores its bind password sealed and
// never shows it, and `connections test` explains a login against a real slapd step by step.
func TestConnectionsLDAP(t *testing.T) {
	sl := slapdtest.Start(t)
	h := newHarness(t)
	h.env["LDAP_BIND"] = slapdtest.ServicePass
	h.env["ALICE_PW"] = slapdtest.AlicePass
	h.ok("", "migrate")
	args := []string{"connections", "create", "--name", "employees", "--strategy", "ad", "--bind-credentials-env", "LDAP_BIND"}
	for k, v := range sl.Options() {
		if k == "ldap_bind_credentials" {
			continue
		}
		args = append(args, "--option", k+"="+strings.TrimSpace(jsonText(v)))
	}
	out := h.ok("", append(args, "--json")...)
	if strings.Contains(out, slapdtest.ServicePass) || strings.Contains(out, "ldap_bind_credentials") {
		t.Errorf("create shows the bind credentials: %s", out)
	}
	st, err := sqlstore.Open(t.Context(), "sqlite://"+h.db)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.GetConnection(t.Context(), "employees")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c.Options)
	if strings.Contains(string(raw), slapdtest.ServicePass) || c.Options["ldap_bind_credentials_sealed"] == nil {
		t.Errorf("stored options %s: want the bind password sealed", raw)
	}

	out = h.ok(slapdtest.AlicePass+"\n", "connections", "test", "employees", "--username", "alice")
	for _, want := range []string{"connect", "service bind", "search", "uid=alice,ou=people,dc=acme,dc=test", "user bind",
		"admins, engineering", "Login succeeded: user_id ad|employees|"} {
		if !strings.Contains(out, want) {
			t.Errorf("test output lacks %q:\n%s", want, out)
		}
	}
	h.fails("wrong password", "nope\n", "connections", "test", "employees", "--username", "alice")
	h.fails("no entry matches", "x\n", "connections", "test", "employees", "--username", "*)(uid=*")
	h.fails("empty password", "\n", "connections", "test", "employees", "--username", "alice")

	// An update that does not name the secret keeps it; a bad option is refused with its key.
	h.ok("", "connections", "update", "employees", "--option", "ldap_timeout_ms=2000")
	h.ok("", "connections", "test", "employees", "--username", "alice", "--password-env", "ALICE_PW")
	h.fails("options.ldap_timeout_ms", "", "connections", "update", "employees", "--option", "ldap_timeout_ms=5")
	h.fails("options.ldap_bind_user: is required", "", "connections", "create", "--name", "anon", "--strategy", "ad",
		"--option", "ldap_url="+sl.URL(), "--option", "ldap_base="+slapdtest.People)

	sl.Stop()
	h.fails("could not be reached", slapdtest.AlicePass+"\n", "connections", "test", "employees", "--username", "alice")
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// TestDemoPasswordMeetsPolicy guards the README's first command: the demo user's password is
// random, and a draw that missed a character class once made `sesame demo` fail to start.
func TestDemoPasswordMeetsPolicy(t *testing.T) {
	for _, policy := range []string{"none", "low", "fair", "good"} {
		for range 2000 {
			if pw := demoPassword(); admin.CheckPassword(policy, 8, pw) != nil {
				t.Fatalf("demo password %q fails policy %s: %v", pw, policy, admin.CheckPassword(policy, 8, pw))
			}
		}
	}
}

// TestDemoConsoleAdmin: every start of the demo (which applies the demo tenant again, and with
// it the connection's list of applications) leaves the console able to sign the demo user in,
// as an administrator, and the banner says where.
func TestDemoConsoleAdmin(t *testing.T) {
	ctx := t.Context()
	const issuer = "http://127.0.0.1:8080/"
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	svc := &admin.Service{Store: st, Box: box, ManagementAudience: admin.ManagementAudience(issuer),
		Hasher: password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 1)}
	for start := range 2 {
		tf, err := config.ParseTenantFile(demoTenant, config.TenantOptions{Vars: map[string]string{"DEMO_PASSWORD": demoPassword()}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Apply(ctx, tf); err != nil {
			t.Fatalf("start %d: applying the demo tenant: %v", start, err)
		}
		if err := prepareDemoConsole(ctx, svc, issuer); err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		conn, err := svc.GetConnection(ctx, demoConnection)
		if err != nil || !slices.Contains(conn.EnabledClients, admin.ConsoleClientID) {
			t.Errorf("start %d: the console may not use %s (%v, %v)", start, demoConnection, conn.EnabledClients, err)
		}
	}
	us, err := svc.FindUsers(ctx, demoUserEmail)
	if err != nil || len(us) != 1 {
		t.Fatalf("FindUsers: %v %v", us, err)
	}
	if n := len(us[0].Permissions); n != len(admin.ManagementScopes) {
		t.Errorf("the demo user holds %d permissions, want all %d of the Management API", n, len(admin.ManagementScopes))
	}
	var banner strings.Builder
	if err := printDemoBanner(&banner, issuer, demoCredentials{}, false, "", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(banner.String(), "Web console: "+issuer+"console/ (sign in as "+demoUserEmail) {
		t.Errorf("the banner does not say where the console is:\n%s", banner.String())
	}
}

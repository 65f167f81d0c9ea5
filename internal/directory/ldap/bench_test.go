package ldap_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/sesameauth/sesame/internal/directory/ldap"
	"github.com/sesameauth/sesame/internal/directory/ldap/slapdtest"
)

// The cost of an LDAP login in Sesame against the directory's own round trips, on one slapd:
//
//	go test -run '^$' -bench . -benchtime 2000x ./internal/directory/ldap/
//
// BenchmarkDirectSearchBind is the floor: go-ldap alone, on two connections opened before the
// loop, doing the search and the user bind a login needs. BenchmarkAuthenticate is Sesame's
// login (pooled connections, escaping, exactly-one check, profile), without and with the group
// search (one more round trip). BenchmarkDialPerLogin is what a login costs when it opens its
// connections (and StartTLS) each time, which the pool avoids. BenchmarkRefusal compares an
// unknown user with a wrong password.

func benchOpts(sl *slapdtest.Slapd, groups, startTLS bool) map[string]any {
	o := sl.Options()
	if !groups {
		delete(o, "ldap_base_groups")
	}
	if startTLS {
		o["ldap_starttls"], o["ldap_ca"] = true, string(sl.CAPEM)
	}
	return o
}

func BenchmarkDirectSearchBind(b *testing.B) {
	sl := slapdtest.Start(b)
	svc, err := goldap.DialURL(sl.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	if err := svc.Bind(slapdtest.ServiceDN, slapdtest.ServicePass); err != nil {
		b.Fatal(err)
	}
	user, err := goldap.DialURL(sl.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer user.Close()
	b.ResetTimer()
	for b.Loop() {
		res, err := svc.Search(goldap.NewSearchRequest(slapdtest.People, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 2, 5, false,
			"(uid=bob)", []string{"entryUUID", "mail", "cn", "givenName", "sn", "uid"}, nil))
		if err != nil || len(res.Entries) != 1 {
			b.Fatal(err)
		}
		if err := user.Bind(res.Entries[0].DN, slapdtest.BobPass); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	sl := slapdtest.Start(b)
	for _, bc := range []struct {
		name             string
		groups, startTLS bool
	}{
		{"plain", false, false},
		{"plain+groups", true, false},
		{"starttls", false, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg, err := ldap.ParseConfig("employees", "ad", benchOpts(sl, bc.groups, bc.startTLS), nil)
			if err != nil {
				b.Fatal(err)
			}
			d, err := ldap.New(cfg, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			for b.Loop() {
				if _, err := d.Authenticate(b.Context(), "bob", slapdtest.BobPass); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRefusal: an unknown user and a wrong password cost the same round trips (a search
// and a bind), so that the time of the answer does not tell whether the user exists.
func BenchmarkRefusal(b *testing.B) {
	sl := slapdtest.Start(b)
	cfg, err := ldap.ParseConfig("employees", "ad", benchOpts(sl, false, false), nil)
	if err != nil {
		b.Fatal(err)
	}
	d, err := ldap.New(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, user := range []string{"bob", "nobody"} {
		name := map[string]string{"bob": "wrong-password", "nobody": "unknown-user"}[user]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Authenticate(b.Context(), user, "wrong"); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func BenchmarkDialPerLogin(b *testing.B) {
	sl := slapdtest.Start(b)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(sl.CAPEM)
	for _, startTLS := range []bool{false, true} {
		name := "plain"
		if startTLS {
			name = "starttls"
		}
		b.Run(name, func(b *testing.B) {
			dial := func() *goldap.Conn {
				c, err := goldap.DialURL(sl.URL())
				if err != nil {
					b.Fatal(err)
				}
				if startTLS {
					if err := c.StartTLS(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}); err != nil {
						b.Fatal(err)
					}
				}
				return c
			}
			for b.Loop() {
				svc := dial()
				if err := svc.Bind(slapdtest.ServiceDN, slapdtest.ServicePass); err != nil {
					b.Fatal(err)
				}
				res, err := svc.Search(goldap.NewSearchRequest(slapdtest.People, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 2, 5, false,
					"(uid=bob)", []string{"entryUUID"}, nil))
				if err != nil || len(res.Entries) != 1 {
					b.Fatal(err)
				}
				svc.Close()
				user := dial()
				if err := user.Bind(res.Entries[0].DN, slapdtest.BobPass); err != nil {
					b.Fatal(err)
				}
				user.Close()
			}
		})
	}
}

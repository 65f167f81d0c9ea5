package hooks_test

import (
	"testing"

	"github.com/sesameauth/sesame/internal/hooks"
)

// BenchmarkTypicalAction is one execution of a roles-claim action with an await, with the
// memory guard (the default) and without it, to show what the guard costs.
func BenchmarkTypicalAction(b *testing.B) {
	for _, bc := range []struct {
		name  string
		limit int64
	}{{"guard", 0}, {"noguard", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			e := hooks.NewEngine(hooks.Options{MemoryLimit: bc.limit})
			f, err := e.Flow(nil, []hooks.Action{{Name: "roles", Code: `exports.onExecutePostLogin = async (event, api) => {
  const namespace = 'https://example.com';
  const roles = await Promise.resolve(event.user.app_metadata.roles || []);
  api.idToken.setCustomClaim(namespace + '/roles', roles);
  api.accessToken.setCustomClaim(namespace + '/roles', roles);
};`}})
			if err != nil {
				b.Fatal(err)
			}
			ev := event()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.PostLogin(b.Context(), ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package hooks_test

import (
	"testing"

	"github.com/sesameauth/sesame/internal/hooks"
)

// BenchmarkTypicalAction is one execution of a roles-claim action with an await.
func BenchmarkTypicalAction(b *testing.B) {
	e := hooks.NewEngine(hooks.Options{})
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
}

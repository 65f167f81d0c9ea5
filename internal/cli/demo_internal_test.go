package cli

import (
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
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

package mfa

import (
	"strings"
	"testing"
)

// FuzzHashSecret checks that a presented mfa_token or oob_code never panics and is accepted
// only in the shape newSecret makes.
func FuzzHashSecret(f *testing.F) {
	raw, _ := newSecret()
	for _, s := range []string{raw, "", "x", strings.Repeat("A", 43), strings.Repeat("=", 43), raw[:42] + "!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := hashSecret(s)
		if ok && (len(s) != 43 || len(h) != 64) {
			t.Errorf("hashSecret(%q): got ok with hash %q, want a 43-char token and a 64-hex hash", s, h)
		}
	})
}

// FuzzNormalizeRecoveryCode checks that normalising is idempotent and strips separators.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{"abcd-efgh ijkl", newRecoveryCode(), "", " - "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeRecoveryCode(s)
		if normalizeRecoveryCode(n) != n {
			t.Errorf("normalizeRecoveryCode not idempotent on %q: %q", s, n)
		}
		if strings.ContainsAny(n, " -") {
			t.Errorf("normalizeRecoveryCode(%q) = %q: got separators, want none", s, n)
		}
	})
}

package passwordless_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sesameauth/sesame/internal/passwordless"
)

// FuzzNormalize feeds arbitrary recipients: a normalised one is a bare address or an E.164
// number, never with a line break, a comma or a display name (it goes into mail headers and
// gateway requests), and normalising it again changes nothing.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Ann@Example.com", "a <a@b.c>", "a@b.c, d@e.f", "+1 (415) 555-0100", "a@b.c\r\nBcc: x@y.z", "\"a b\"@c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, strategy := range []string{"email", "sms"} {
			got, err := passwordless.Normalize(strategy, s)
			if err != nil {
				continue
			}
			if !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n,<> \"") || len(got) > passwordless.MaxEmailLength {
				t.Fatalf("%s %q normalised to %q", strategy, s, got)
			}
			if again, err := passwordless.Normalize(strategy, got); err != nil || again != got {
				t.Fatalf("%s %q: normalising %q again gave %q, %v", strategy, s, got, again, err)
			}
		}
	})
}

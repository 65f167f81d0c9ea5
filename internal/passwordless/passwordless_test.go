package passwordless_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		strategy string
		opts     map[string]any
		want     func(o passwordless.Options) bool
		errs     []string
	}{
		{"defaults", "email", nil, func(o passwordless.Options) bool {
			return o.Length == 6 && o.TimeStep == 180*time.Second && o.BruteForceProtection && !o.DisableSignup
		}, nil},
		{"auth0 values from JSON", "email", map[string]any{"totp": map[string]any{"length": float64(8), "time_step": float64(300)},
			"disable_signup": true, "brute_force_protection": false,
			"email": map[string]any{"from": "a@example.com", "subject": "Hi", "body": "<p>{{ code }}</p>", "syntax": "liquid"}},
			func(o passwordless.Options) bool {
				return o.Length == 8 && o.TimeStep == 300*time.Second && o.DisableSignup && !o.BruteForceProtection &&
					o.From == "a@example.com" && o.Subject == "Hi" && o.Body == "<p>{{ code }}</p>"
			}, nil},
		{"values from YAML", "sms", map[string]any{"totp": map[string]any{"length": 4, "time_step": 60}, "template": "code @@password@@"},
			func(o passwordless.Options) bool {
				return o.Length == 4 && o.TimeStep == time.Minute && o.SMS == "code @@password@@"
			}, nil},
		{"every problem at once", "email", map[string]any{"totp": map[string]any{"length": 3, "time_step": 59},
			"email": map[string]any{"subject": "a\nb", "body": "no code here"}, "disable_signup": "yes"}, nil,
			[]string{"options.totp.length", "options.totp.time_step", "options.email.subject", "options.disable_signup", "options.email.body"}},
		{"sms template needs the code", "sms", map[string]any{"template": "hello"}, nil, []string{"options.template"}},
		{"totp not an object", "email", map[string]any{"totp": "6"}, nil, []string{"options.totp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, errs := passwordless.ParseOptions(tc.strategy, tc.opts)
			if len(errs) != len(tc.errs) {
				t.Fatalf("got errors %v, want %d naming %v", errs, len(tc.errs), tc.errs)
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), tc.errs[i]+":") {
					t.Errorf("error %d: got %q, want it about %s", i, e, tc.errs[i])
				}
			}
			if tc.want != nil && !tc.want(o) {
				t.Errorf("got %+v", o)
			}
		})
	}
}

func TestRender(t *testing.T) {
	v := passwordless.Vars{Code: "012345", ApplicationName: "Shop & Co", Email: "<b>@example.com", TimeStep: 5 * time.Minute}
	for _, tc := range []struct {
		name, tmpl string
		html       bool
		want       string
	}{
		{"liquid", "{{code}} for {{ application.name }} ({{ email }}), {{ expires_in_minutes }} min{{ unknown }}", false,
			"012345 for Shop & Co (<b>@example.com), 5 min"},
		{"html escapes values", "<p>{{ code }} {{ application.name }} {{ user.email }}</p>", true,
			"<p>012345 Shop &amp; Co &lt;b&gt;@example.com</p>"},
		{"old sms syntax", "Your code is @@password@@", false, "Your code is 012345"},
		{"filters are ignored", "{{ application.name | upcase }}", false, "Shop & Co"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := passwordless.Render(tc.tmpl, v, tc.html); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		strategy, in, want string
	}{
		{"email", " Ann@Example.COM ", "ann@example.com"},
		{"email", "Ann <ann@example.com>", ""},
		{"email", "ann@example.com, bob@example.com", ""},
		{"email", "ann@localhost", ""},
		{"email", "ann@example.com\r\nBcc: x@example.com", ""},
		{"email", strings.Repeat("a", 250) + "@example.com", ""},
		{"sms", "+1 (555) 010-0100", "+15550100100"},
		{"sms", "5550100100", ""},
		{"sms", "+0123456789", ""},
		{"sms", "+1555010010012345", ""},
	} {
		got, err := passwordless.Normalize(tc.strategy, tc.in)
		if tc.want == "" {
			if !errors.Is(err, passwordless.ErrBadRecipient) {
				t.Errorf("%s %q: got %q, %v; want ErrBadRecipient", tc.strategy, tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %q: got %q, %v; want %q", tc.strategy, tc.in, got, err, tc.want)
		}
	}
}

// TestCodes issues and verifies codes against a real store: a code works once, not after its
// validity, not after MaxAttempts tries, not after a newer code replaced it, and no more than
// MaxAttempts of many parallel guesses are ever compared.
func TestCodes(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := &passwordless.Codes{Store: st, Key: []byte("k"), Now: clock}
	o, _ := passwordless.ParseOptions("email", nil)
	ctx := t.Context()
	issue := func(to string) string {
		code, err := c.Issue(ctx, "email", to, o)
		if err != nil || len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("issue: got %q, %v", code, err)
		}
		return code
	}
	wrong := func(code string) string {
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}
	t.Run("once", func(t *testing.T) {
		code := issue("a@example.com")
		if err := c.Verify(ctx, "email", "a@example.com", code); err != nil {
			t.Fatalf("first use: %v", err)
		}
		if err := c.Verify(ctx, "email", "a@example.com", code); !errors.Is(err, passwordless.ErrWrongCode) {
			t.Fatalf("replay: got %v, want ErrWrongCode", err)
		}
	})
	t.Run("expires", func(t *testing.T) {
		code := issue("b@example.com")
		advance(o.TimeStep)
		if err := c.Verify(ctx, "email", "b@example.com", code); !errors.Is(err, passwordless.ErrWrongCode) {
			t.Fatalf("expired: got %v, want ErrWrongCode", err)
		}
	})
	t.Run("third wrong try kills it", func(t *testing.T) {
		code := issue("c@example.com")
		for range passwordless.MaxAttempts {
			if err := c.Verify(ctx, "email", "c@example.com", wrong(code)); !errors.Is(err, passwordless.ErrWrongCode) {
				t.Fatalf("wrong: got %v", err)
			}
		}
		if err := c.Verify(ctx, "email", "c@example.com", code); !errors.Is(err, passwordless.ErrWrongCode) {
			t.Fatalf("right code after 3 wrong: got %v, want ErrWrongCode", err)
		}
	})
	t.Run("a new code replaces the old", func(t *testing.T) {
		old := issue("d@example.com")
		code := issue("d@example.com")
		if old != code {
			if err := c.Verify(ctx, "email", "d@example.com", old); !errors.Is(err, passwordless.ErrWrongCode) {
				t.Fatalf("old code: got %v, want ErrWrongCode", err)
			}
		}
		if err := c.Verify(ctx, "email", "d@example.com", code); err != nil {
			t.Fatalf("new code: %v", err)
		}
	})
	t.Run("bound to its recipient", func(t *testing.T) {
		code := issue("e@example.com")
		if err := c.Verify(ctx, "email", "f@example.com", code); !errors.Is(err, passwordless.ErrWrongCode) {
			t.Fatalf("other recipient: got %v", err)
		}
	})
}

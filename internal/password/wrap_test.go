package password

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestWrap(t *testing.T) {
	sum := sha256.Sum256([]byte("NaCl" + "secret"))
	sshaSum := sha1.Sum([]byte("secret" + "NaCl"))
	mac := hmac.New(sha256.New, []byte("k3y"))
	mac.Write([]byte("secret" + "NaCl"))
	latin1 := sha256.Sum256([]byte{'p', 0xe4})
	tests := []struct {
		name, custom, password, wantScheme string
	}{
		{"sha256 prefix", fmt.Sprintf(`{"algorithm":"sha256","hash":{"value":"%x","encoding":"hex"},"salt":{"value":"NaCl"}}`, sum), "secret", "wrap-sha256-salted"},
		{"ldap ssha", fmt.Sprintf(`{"algorithm":"ldap","hash":{"value":"{SSHA}%s"}}`, base64.StdEncoding.EncodeToString(append(sshaSum[:], "NaCl"...))), "secret", "wrap-sha1-salted"},
		{"hmac suffix", fmt.Sprintf(`{"algorithm":"hmac","hash":{"value":"%x","encoding":"hex","digest":"sha256","key":{"value":"k3y"}},"salt":{"value":"NaCl","position":"suffix"}}`, mac.Sum(nil)), "secret", "wrap-hmac-sha256"},
		{"latin1 unsalted", fmt.Sprintf(`{"algorithm":"sha256","hash":{"value":"%x","encoding":"hex"},"password":{"encoding":"latin1"}}`, latin1), "pä", "wrap-sha256-salted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHasher(cheap, 1)
			legacy, err := FromAuth0CustomHash([]byte(tt.custom))
			if err != nil {
				t.Fatal(err)
			}
			wrapped, err := h.Wrap(t.Context(), legacy)
			if err != nil {
				t.Fatal(err)
			}
			if s, err := Identify(wrapped); err != nil || s != tt.wantScheme {
				t.Errorf("Identify(%s) = %q, %v; want %q", wrapped, s, err, tt.wantScheme)
			}
			// The legacy digest is not kept: only argon2id of it.
			digest := legacy[strings.LastIndexByte(legacy, '$')+1:]
			if strings.Contains(wrapped, digest) {
				t.Errorf("wrapped hash %s still holds the legacy digest %s", wrapped, digest)
			}
			if v, err := parse(wrapped); err != nil || v.String() != wrapped {
				t.Errorf("parse(%s).String() = %v, %v; want it back", wrapped, v, err)
			}
			if ok, rehash, err := h.Verify(t.Context(), wrapped, tt.password); !ok || !rehash || err != nil {
				t.Errorf("Verify(right password) = %v, %v, %v; want true, true (rehash to argon2id), nil", ok, rehash, err)
			}
			if ok, _, err := h.Verify(t.Context(), wrapped, tt.password+"x"); ok || err != nil {
				t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
	t.Run("slow schemes stay", func(t *testing.T) {
		h := NewHasher(cheap, 1)
		bc := bcryptOf(t, "secret", 4)
		if got, err := h.Wrap(t.Context(), bc); got != bc || err != nil {
			t.Errorf("Wrap(bcrypt) = %q, %v; want it unchanged", got, err)
		}
		if _, err := h.Wrap(t.Context(), "$sha256-salted$pos=middle$$AA"); err == nil {
			t.Errorf("Wrap(malformed) = nil error, want one")
		}
	})
}

// TestWrappedCostsWhatTheDummyCosts checks, on the work rather than the time, that a wrapped
// hash and the unknown user's dummy are the same class of argon2id: the Hasher's own
// parameters and key length.
func TestWrappedCostsWhatTheDummyCosts(t *testing.T) {
	h := NewHasher(cheap, 1)
	w, err := h.Wrap(t.Context(), "$md5-salted$pos=prefix$$"+b64enc(make([]byte, 16)))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := parse(w)
	d, _ := parse(h.dummy)
	if got, want := v.(wrappedHash).outer.class(), d.class(); got != want {
		t.Errorf("wrapped argon2id class %q, dummy %q: want the same work", got, want)
	}
}

// fakeClock is a scripted clock: now returns the queued instants in turn, and sleep records
// what it was asked to wait.
type fakeClock struct {
	t       *testing.T
	instant []time.Duration
	slept   []time.Duration
}

func (c *fakeClock) install(h *Hasher) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time {
		if len(c.instant) == 0 {
			c.t.Fatal("clock read more often than scripted")
		}
		d := c.instant[0]
		c.instant = c.instant[1:]
		return base.Add(d)
	}
	h.sleep = func(_ context.Context, d time.Duration) { c.slept = append(c.slept, d) }
}

// TestTimingFloor checks the hold on failed verifications with a scripted clock: a failed
// verification of a cheap hash, and the dummy, wait out the slowest class's estimate (RFC
// 6298's smoothed time plus four deviations), measured from when the verification began; a
// success does not wait.
func TestTimingFloor(t *testing.T) {
	h := NewHasher(cheap, 1)
	c := &fakeClock{t: t}
	c.install(h)
	ms := time.Millisecond
	bc := bcryptOf(t, "secret", 4)
	salted := "$sha256-salted$pos=prefix$$" + b64enc(make([]byte, 32))

	c.instant = []time.Duration{0, 80 * ms} // bcrypt takes 80 ms: bound 80 + 4·10 = 120 ms
	if err := h.Calibrate(t.Context(), bc); err != nil {
		t.Fatal(err)
	}
	c.instant = []time.Duration{0} // known class: not measured again
	if err := h.Calibrate(t.Context(), bc); err != nil || len(c.instant) != 1 {
		t.Fatalf("Calibrate of a known class read the clock or failed: %v", err)
	}
	c.instant = []time.Duration{100 * ms, 101 * ms, 102 * ms} // a wrong password of a 1 ms hash
	if ok, _, _ := h.Verify(t.Context(), salted, "wrong"); ok {
		t.Fatal("Verify(wrong) = true")
	}
	c.instant = []time.Duration{200 * ms, 230 * ms, 230 * ms} // the dummy, 30 ms
	if err := h.VerifyDummy(t.Context(), "pw"); err != nil {
		t.Fatal(err)
	}
	c.instant = []time.Duration{300 * ms, 380 * ms, 381 * ms} // bcrypt again, wrong: bound stays 80 + 4·7.5
	if ok, _, _ := h.Verify(t.Context(), bc, "wrong"); ok {
		t.Fatal("Verify(wrong) = true")
	}
	c.instant = []time.Duration{400 * ms, 480 * ms} // right password: no hold, no third reading
	if ok, _, _ := h.Verify(t.Context(), bc, "secret"); !ok {
		t.Fatal("Verify(right) = false")
	}
	want := []time.Duration{120*ms - 2*ms, 120*ms - 30*ms, 110*ms - 81*ms}
	if fmt.Sprint(c.slept) != fmt.Sprint(want) {
		t.Errorf("holds: got %v, want %v", c.slept, want)
	}
}

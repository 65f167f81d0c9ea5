package mfa

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a Sender that keeps what it was asked to deliver (a test double for the
// delivery channel only; the SMTP and webhook senders have their own tests).
type recorder struct {
	mu   sync.Mutex
	msgs []Message
}

func (r *recorder) Send(_ context.Context, m Message) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	return nil
}

func (r *recorder) last() Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs[len(r.msgs)-1]
}

type fixture struct {
	svc   *Service
	clock *fakeClock
	sent  *recorder
	tx    store.MFATransaction
	token string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: &fakeClock{t: time.Unix(1_700_000_000, 0).UTC()}, sent: &recorder{}}
	f.svc = New(st, box, f.sent, f.clock.Now)
	f.token, err = f.svc.Start(t.Context(), store.MFATransaction{UserID: "auth0|1", ClientID: "app", Connection: "db", Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	if f.tx, err = f.svc.Transaction(t.Context(), f.token); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTransaction(t *testing.T) {
	cases := []struct {
		name    string
		token   func(f *fixture) string
		advance time.Duration
		consume bool
		want    error
	}{
		{"live token", func(f *fixture) string { return f.token }, 0, false, nil},
		{"malformed", func(*fixture) string { return "not-a-token" }, 0, false, ErrMalformedToken},
		{"well formed but never issued", func(*fixture) string { r, _ := newSecret(); return r }, 0, false, ErrMalformedToken},
		{"expired after 10 minutes", func(f *fixture) string { return f.token }, TokenLifetime, false, ErrExpiredToken},
		{"consumed", func(f *fixture) string { return f.token }, 0, true, ErrExpiredToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.clock.Advance(c.advance)
			if c.consume {
				if err := f.svc.Consume(t.Context(), f.tx); err != nil {
					t.Fatal(err)
				}
				if err := f.svc.Consume(t.Context(), f.tx); !errors.Is(err, ErrExpiredToken) {
					t.Errorf("second Consume: got %v, want ErrExpiredToken", err)
				}
			}
			if _, err := f.svc.Transaction(t.Context(), c.token(f)); !errors.Is(err, c.want) {
				t.Errorf("Transaction: got %v, want %v", err, c.want)
			}
		})
	}
}

func TestOTPEnrolmentAndVerification(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	req, err := f.svc.Requirements(ctx, "auth0|1", store.MFAFactors{})
	if err != nil {
		t.Fatal(err)
	}
	if got := req["enroll"]; len(got) != 1 || got[0].Type != "otp" {
		t.Errorf("requirements before enrolment: got %v, want enroll [otp]", req)
	}
	en, err := f.svc.Associate(ctx, f.tx, EnrolRequest{Types: []string{"otp"}, Issuer: "Acme", Account: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	wantURI := "otpauth://totp/Acme:alice@example.com?secret=" + en.Secret + "&issuer=Acme&algorithm=SHA1&digits=6&period=30"
	if en.BarcodeURI != wantURI {
		t.Errorf("barcode_uri: got %q, want %q", en.BarcodeURI, wantURI)
	}
	if len(en.RecoveryCodes) != 1 || !regexp.MustCompile(`^[A-Z0-9]{24}$`).MatchString(en.RecoveryCodes[0]) {
		t.Errorf("recovery codes: got %v, want one of 24 uppercase alphanumerics", en.RecoveryCodes)
	}
	now := f.clock.Now()
	steps := []struct {
		name string
		code string
		want error
	}{
		{"wrong code", "000000", ErrInvalidOTP},
		{"right code confirms", f.code(t, en.Secret, now), nil},
		{"same step replayed", f.code(t, en.Secret, now), ErrInvalidOTP},
		{"previous step is older than the used one", f.code(t, en.Secret, now.Add(-30*time.Second)), ErrInvalidOTP},
		{"next step (drift) accepted", f.code(t, en.Secret, now.Add(30*time.Second)), nil},
		{"two steps ahead refused", f.code(t, en.Secret, now.Add(90*time.Second)), ErrInvalidOTP},
	}
	for i, s := range steps {
		r, err := f.svc.VerifyOTP(ctx, f.tx, s.code)
		if !errors.Is(err, s.want) {
			t.Errorf("%s: got %v, want %v", s.name, err, s.want)
		}
		if i == 1 && !r.Enrolled {
			t.Errorf("%s: got Enrolled false, want true", s.name)
		}
	}
	req, _ = f.svc.Requirements(ctx, "auth0|1", store.MFAFactors{})
	if got := req["challenge"]; len(got) != 2 || got[0].Type != "otp" || got[1].Type != "recovery-code" {
		t.Errorf("requirements after enrolment: got %v, want challenge [otp recovery-code]", req)
	}
	if _, err := f.svc.Associate(ctx, f.tx, EnrolRequest{Types: []string{"otp"}}); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Errorf("second enrolment: got %v, want ErrAlreadyEnrolled", err)
	}
	// Recovery code: used once, replaced by a new one.
	next := ""
	if _, next, err = f.svc.VerifyRecoveryCode(ctx, f.tx, strings.ToLower(en.RecoveryCodes[0])); err != nil {
		t.Fatalf("recovery code: got %v, want nil", err)
	}
	if _, _, err := f.svc.VerifyRecoveryCode(ctx, f.tx, en.RecoveryCodes[0]); !errors.Is(err, ErrInvalidRecoveryCode) {
		t.Errorf("used recovery code: got %v, want ErrInvalidRecoveryCode", err)
	}
	if _, _, err := f.svc.VerifyRecoveryCode(ctx, f.tx, next); err != nil {
		t.Errorf("rotated recovery code: got %v, want nil", err)
	}
}

func TestOOBEmail(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	factors := store.MFAFactors{Email: true, RecoveryCode: true}
	en, err := f.svc.Associate(ctx, f.tx, EnrolRequest{Types: []string{"oob"}, Channels: []string{"email"}, Email: "alice@example.com", Factors: factors})
	if err != nil {
		t.Fatal(err)
	}
	m := f.sent.last()
	if m.To != "alice@example.com" || m.Channel != "email" || !regexp.MustCompile(`^\d{6}$`).MatchString(m.Code) {
		t.Fatalf("sent: got %+v, want a 6-digit code mailed to alice@example.com", m)
	}
	wrong := "000000"
	if m.Code == wrong {
		wrong = "111111"
	}
	if _, err := f.svc.VerifyOOB(ctx, f.tx, en.OOBCode, wrong); !errors.Is(err, ErrInvalidBinding) {
		t.Errorf("wrong binding: got %v, want ErrInvalidBinding", err)
	}
	if r, err := f.svc.VerifyOOB(ctx, f.tx, en.OOBCode, m.Code); err != nil || !r.Enrolled {
		t.Errorf("right binding: got %+v, %v, want enrolled, nil", r, err)
	}
	if _, err := f.svc.VerifyOOB(ctx, f.tx, en.OOBCode, m.Code); !errors.Is(err, ErrInvalidOOBCode) {
		t.Errorf("oob_code reused: got %v, want ErrInvalidOOBCode", err)
	}
	ch, err := f.svc.Challenge(ctx, f.tx, []string{"otp", "oob"}, "", "Acme", nil)
	if err != nil || ch.Type != "oob" || ch.OOBCode == "" {
		t.Fatalf("challenge: got %+v, %v, want oob with a code", ch, err)
	}
	if _, err := f.svc.Challenge(ctx, f.tx, []string{"otp"}, "", "Acme", nil); !errors.Is(err, ErrUnsupportedChallenge) {
		t.Errorf("otp challenge without otp: got %v, want ErrUnsupportedChallenge", err)
	}
	f.clock.Advance(OOBLifetime)
	if _, err := f.svc.VerifyOOB(ctx, f.tx, ch.OOBCode, f.sent.last().Code); !errors.Is(err, ErrInvalidOOBCode) {
		t.Errorf("expired oob_code: got %v, want ErrInvalidOOBCode", err)
	}
}

func TestFailureLimit(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	en, err := f.svc.Associate(ctx, f.tx, EnrolRequest{Types: []string{"otp"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range MaxFailures {
		if _, err := f.svc.VerifyOTP(ctx, f.tx, "000000"); !errors.Is(err, ErrInvalidOTP) {
			t.Fatalf("failure %d: got %v, want ErrInvalidOTP", i+1, err)
		}
	}
	if _, err := f.svc.VerifyOTP(ctx, f.tx, f.code(t, en.Secret, f.clock.Now())); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("right code after 10 failures: got %v, want ErrTooManyAttempts", err)
	}
	f.clock.Advance(Refill)
	if _, err := f.svc.VerifyOTP(ctx, f.tx, f.code(t, en.Secret, f.clock.Now())); err != nil {
		t.Errorf("right code after one refill: got %v, want nil", err)
	}
}

// TestAttemptsCountFailuresOnly checks what each outcome does to the user's attempts: a
// failure keeps the attempt it took, a pass and a refusal leave the count as it was.
func TestAttemptsCountFailuresOnly(t *testing.T) {
	type step struct {
		right   bool          // the right code, else a wrong one
		advance time.Duration // before the step
		want    error
	}
	wrongs := func(n int, want error) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = step{want: want}
		}
		return out
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"a pass gives its attempt back", slices.Concat(wrongs(MaxFailures-1, ErrInvalidOTP),
			[]step{{right: true}, {right: true, advance: 30 * time.Second}, {want: ErrInvalidOTP}, {want: ErrTooManyAttempts}})},
		{"refusals do not lengthen the lockout", slices.Concat(wrongs(MaxFailures, ErrInvalidOTP), wrongs(50, ErrTooManyAttempts),
			[]step{{right: true, advance: Refill}, {want: ErrInvalidOTP}, {want: ErrTooManyAttempts}})},
		{"the whole bucket is back after MaxFailures refills", slices.Concat(wrongs(MaxFailures, ErrInvalidOTP),
			[]step{{advance: MaxFailures * Refill, want: ErrInvalidOTP}}, wrongs(MaxFailures-1, ErrInvalidOTP), wrongs(1, ErrTooManyAttempts))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			en, err := f.svc.Associate(t.Context(), f.tx, EnrolRequest{Types: []string{"otp"}})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range c.steps {
				f.clock.Advance(s.advance)
				code := f.code(t, en.Secret, f.clock.Now())
				if !s.right {
					code = otherCode(code)
				}
				if _, err := f.svc.VerifyOTP(t.Context(), f.tx, code); !errors.Is(err, s.want) {
					t.Fatalf("step %d (right %v): got %v, want %v", i, s.right, err, s.want)
				}
			}
		})
	}
}

// otherCode is a six-digit code other than code.
func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestSendGateRefusalChangesNothing checks that a send the gate refuses stores nothing and
// sends nothing, at enrolment and at a challenge, and that the gate sees each recipient.
func TestSendGateRefusalChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	factors := store.MFAFactors{Email: true}
	refused := errors.New("refused")
	var asked []Delivery
	gate := func(open bool) SendGate {
		return func(_ context.Context, d Delivery) error {
			asked = append(asked, d)
			if !open {
				return refused
			}
			return nil
		}
	}
	req := EnrolRequest{Types: []string{"oob"}, Channels: []string{"email"}, Email: "alice@example.com", Factors: factors}
	if _, err := f.svc.Associate(ctx, f.tx, req); err != nil { // a first, pending enrolment
		t.Fatal(err)
	}
	req.Email, req.Gate = "mallory@example.com", gate(false)
	if _, err := f.svc.Associate(ctx, f.tx, req); !errors.Is(err, refused) {
		t.Fatalf("refused enrolment: got %v, want the gate's error", err)
	}
	auths, err := f.svc.Authenticators(ctx, "auth0|1")
	if err != nil || len(auths) != 1 || auths[0].Name != "alice@example.com" {
		t.Errorf("authenticators after a refused enrolment: got %+v, %v, want alice's pending one only", auths, err)
	}
	if _, err := f.svc.Challenge(ctx, f.tx, []string{"oob"}, "", "Acme", gate(false)); !errors.Is(err, refused) {
		t.Errorf("refused challenge: got %v, want the gate's error", err)
	}
	if _, err := f.svc.Challenge(ctx, f.tx, []string{"oob"}, "", "Acme", gate(true)); err != nil {
		t.Errorf("allowed challenge: got %v, want nil", err)
	}
	f.sent.mu.Lock()
	sent := len(f.sent.msgs)
	f.sent.mu.Unlock()
	if sent != 2 {
		t.Errorf("messages sent: got %d, want 2 (the first enrolment and the allowed challenge)", sent)
	}
	want := []Delivery{{"email", "mallory@example.com", true}, {"email", "alice@example.com", false}, {"email", "alice@example.com", false}}
	if !slices.Equal(asked, want) {
		t.Errorf("gate asked: got %+v, want %+v", asked, want)
	}
}

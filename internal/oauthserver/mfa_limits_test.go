package oauthserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/oauthserver"
	"github.com/sesameauth/sesame/internal/store"
)

// mailbox is the MFA code sender of these tests: it keeps every message it was handed, so a
// test sees what would have gone out through the tenant's sender.
type mailbox struct {
	mu   sync.Mutex
	msgs []mfa.Message
}

func (m *mailbox) Send(_ context.Context, msg mfa.Message) error {
	m.mu.Lock()
	m.msgs = append(m.msgs, msg)
	m.mu.Unlock()
	return nil
}

func (m *mailbox) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.msgs) }

func (m *mailbox) last() mfa.Message { m.mu.Lock(); defer m.mu.Unlock(); return m.msgs[len(m.msgs)-1] }

// burst sends n requests at once; send(i) is the i-th.
func burst(n int, send func(i int) response) []response {
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = send(i) })
	}
	wg.Wait()
	return out
}

// tally counts answers by status and error code ("403 invalid_grant").
func tally(rs []response) map[string]int {
	count := map[string]int{}
	for _, r := range rs {
		count[fmt.Sprintf("%d %s", r.Status, r.str("error"))]++
	}
	return count
}

// otherCode is a six-digit code that is none of codes.
func otherCode(codes ...string) string {
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", i)
		if !strings.Contains(strings.Join(codes, " "), c) {
			return c
		}
	}
}

// TestMFAParallelWrongCodesAreCountedFirst sends, round after round, 60 wrong codes at once
// with one mfa_token, for each kind of factor. A code is verified only when the request
// answers invalid_grant (the factor was checked and failed); the others must be refused
// before any check with 429 too_many_attempts. At most MaxFailures codes may be verified per
// round, and the lockout they leave must be the policy's, not one Refill per request: after
// one Refill the right code passes.
func TestMFAParallelWrongCodesAreCountedFirst(t *testing.T) {
	const rounds, parallel = 20, 60
	type factor struct {
		// wrong and right return the grant parameters of a wrong and a right code for tok.
		wrong, right func(tok string) []string
		// passed is told of the successful grant's answer.
		passed func(r response)
	}
	kinds := []struct {
		name    string
		factors store.MFAFactors
		grant   string
		setup   func(e *env, box *mailbox) factor
	}{
		{"otp", store.MFAFactors{}, grantMFAOTP, func(e *env, _ *mailbox) factor {
			secret := e.confirmOTP()
			code := func() []string {
				now := e.clock.Now()
				return []string{e.otpCode(secret, now.Add(-30e9)), e.otpCode(secret, now), e.otpCode(secret, now.Add(30e9))}
			}
			return factor{
				wrong:  func(tok string) []string { return []string{"mfa_token", tok, "otp", otherCode(code()...)} },
				right:  func(tok string) []string { return []string{"mfa_token", tok, "otp", code()[1]} },
				passed: func(response) {},
			}
		}},
		{"recovery-code", store.MFAFactors{}, grantMFARecovery, func(e *env, _ *mailbox) factor {
			tok, _ := e.mfaToken()
			secret, recovery := e.enrolOTP(tok)
			if r := e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", e.otpCode(secret, e.clock.Now())); r.Status != http.StatusOK {
				e.t.Fatalf("mfa-otp: got %d %s", r.Status, r.Raw)
			}
			return factor{
				wrong:  func(tok string) []string { return []string{"mfa_token", tok, "recovery_code", strings.Repeat("A", 24)} },
				right:  func(tok string) []string { return []string{"mfa_token", tok, "recovery_code", recovery} },
				passed: func(r response) { recovery = r.str("recovery_code") },
			}
		}},
		{"oob binding code", store.MFAFactors{Email: true}, grantMFAOOB, func(e *env, box *mailbox) factor {
			tok, _ := e.mfaToken()
			r := e.bearer(http.MethodPost, "/mfa/associate", tok, `{"authenticator_types":["oob"],"oob_channels":["email"],"email":"`+aliceEmail+`"}`)
			if r.Status != http.StatusOK {
				e.t.Fatalf("associate: got %d %s", r.Status, r.Raw)
			}
			if r := e.mfaGrant(grantMFAOOB, "mfa_token", tok, "oob_code", r.str("oob_code"), "binding_code", box.last().Code); r.Status != http.StatusOK {
				e.t.Fatalf("mfa-oob: got %d %s", r.Status, r.Raw)
			}
			// Each check gets its own challenge: an oob_code lives 5 minutes, less than a Refill.
			challenge := func(tok string) (string, string) {
				r := e.postForm("/mfa/challenge", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "mfa_token": {tok}, "challenge_type": {"oob"}})
				if r.Status != http.StatusOK {
					e.t.Fatalf("challenge: got %d %s", r.Status, r.Raw)
				}
				return r.str("oob_code"), box.last().Code
			}
			return factor{
				wrong: func(tok string) []string {
					oob, code := challenge(tok)
					return []string{"mfa_token", tok, "oob_code", oob, "binding_code", otherCode(code)}
				},
				right: func(tok string) []string {
					oob, code := challenge(tok)
					return []string{"mfa_token", tok, "oob_code", oob, "binding_code", code}
				},
				passed: func(response) {},
			}
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			e := mfaEnv(t, k.factors)
			box := &mailbox{}
			e.mfaSender.set(box)
			f := k.setup(e, box)
			var verified []int
			for round := range rounds {
				// A full bucket: even had every request of the round before counted a failure,
				// all have come back.
				e.clock.Advance(parallel * mfa.Refill)
				tok, _ := e.mfaToken()
				wrong := f.wrong(tok)
				got := tally(burst(parallel, func(int) response { return e.mfaGrant(k.grant, wrong...) }))
				verified = append(verified, got["403 invalid_grant"])
				if got["403 invalid_grant"] != mfa.MaxFailures || got["429 too_many_attempts"] != parallel-mfa.MaxFailures {
					t.Errorf("round %d: %d parallel wrong codes: got %v, want %d × 403 invalid_grant (codes checked) and %d × 429 too_many_attempts",
						round, parallel, got, mfa.MaxFailures, parallel-mfa.MaxFailures)
				}
				// The lockout is the policy's: one attempt is back after one Refill.
				e.clock.Advance(mfa.Refill)
				r := e.mfaGrant(k.grant, f.right(tok)...)
				if r.Status != http.StatusOK {
					t.Errorf("round %d: right code one refill after the burst: got %d %s, want 200", round, r.Status, r.Raw)
					continue
				}
				f.passed(r)
			}
			t.Logf("codes verified per round of %d parallel wrong codes (limit %d): %v", parallel, mfa.MaxFailures, verified)
		})
	}
}

// confirmOTP enrols and confirms alice's TOTP authenticator and returns its secret.
func (e *env) confirmOTP() string {
	e.t.Helper()
	tok, _ := e.mfaToken()
	secret, _ := e.enrolOTP(tok)
	if r := e.mfaGrant(grantMFAOTP, "mfa_token", tok, "otp", e.otpCode(secret, e.clock.Now())); r.Status != http.StatusOK {
		e.t.Fatalf("mfa-otp: got %d %s", r.Status, r.Raw)
	}
	return secret
}

// TestMFASendLimits sends, round after round, 25 requests at once that would each send an
// email code, and counts what reached the sender: never more than the limit at work, the rest
// answered 429 too_many_requests with WIRE.md's headers. Each case turns the other limits off
// to see one at a time; the defaults are those of a server that sets none.
func TestMFASendLimits(t *testing.T) {
	const rounds, parallel = 20, 25
	associate := func(e *env, tok string, i int) response {
		return e.bearer(http.MethodPost, "/mfa/associate", tok,
			fmt.Sprintf(`{"authenticator_types":["oob"],"oob_channels":["email"],"email":"victim%d@example.com"}`, i))
	}
	associateAlice := func(e *env, tok string, _ int) response {
		return e.bearer(http.MethodPost, "/mfa/associate", tok, `{"authenticator_types":["oob"],"oob_channels":["email"],"email":"`+aliceEmail+`"}`)
	}
	challenge := func(e *env, tok string, _ int) response {
		return e.postForm("/mfa/challenge", url.Values{"client_id": {appID}, "client_secret": {appSecret}, "mfa_token": {tok}, "challenge_type": {"oob"}})
	}
	cases := []struct {
		name     string
		limits   oauthserver.MFASendLimits
		enrolled bool // alice has a confirmed email factor, so challenges send codes
		send     func(e *env, tok string, i int) response
		limit    int
		exact    bool // buckets grant exactly limit; the recipient set at most limit
		// refusers are the limits a 429 may report in X-RateLimit-Limit (nil: limit).
		refusers []int
	}{
		{"per mfa_token (default)", oauthserver.MFASendLimits{PerUserPerHour: -1, PerIPPerHour: -1, RecipientsPerHour: -1},
			false, associateAlice, oauthserver.DefaultMFASendsPerToken, true, nil},
		{"per mfa_token, challenges", oauthserver.MFASendLimits{PerToken: 3, PerUserPerHour: -1, PerIPPerHour: -1},
			true, challenge, 3, true, nil},
		{"per user (default)", oauthserver.MFASendLimits{PerToken: -1, PerIPPerHour: -1, RecipientsPerHour: -1},
			true, challenge, oauthserver.DefaultMFASendsPerUserPerHour, true, nil},
		{"per IP", oauthserver.MFASendLimits{PerToken: -1, PerUserPerHour: -1, PerIPPerHour: 4, RecipientsPerHour: -1},
			true, challenge, 4, true, nil},
		{"distinct recipients of an enrolment (default)", oauthserver.MFASendLimits{PerToken: -1, PerUserPerHour: -1, PerIPPerHour: -1},
			false, associate, oauthserver.DefaultMFARecipientsPerHour, false, nil},
		{"all defaults, 25 recipients", oauthserver.MFASendLimits{}, false, associate, oauthserver.DefaultMFARecipientsPerHour, false,
			[]int{oauthserver.DefaultMFARecipientsPerHour, oauthserver.DefaultMFASendsPerToken}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := mfaEnv(t, store.MFAFactors{Email: true}, func(cfg *oauthserver.Config) { cfg.MFASendLimits = c.limits })
			box := &mailbox{}
			e.mfaSender.set(box)
			if c.enrolled {
				tok, _ := e.mfaToken()
				r := associateAlice(e, tok, 0)
				if r := e.mfaGrant(grantMFAOOB, "mfa_token", tok, "oob_code", r.str("oob_code"), "binding_code", box.last().Code); r.Status != http.StatusOK {
					t.Fatalf("mfa-oob: got %d %s", r.Status, r.Raw)
				}
			}
			var sent []int
			for round := range rounds {
				// Every bucket and the recipient set of the round before have lapsed.
				e.clock.Advance(time.Hour + mfa.TokenLifetime)
				tok, _ := e.mfaToken()
				before := box.count()
				rs := burst(parallel, func(i int) response { return c.send(e, tok, i) })
				got, n := tally(rs), box.count()-before
				sent = append(sent, n)
				if got["200 "] != n || got["200 "]+got["429 too_many_requests"] != parallel {
					t.Errorf("round %d: got %v and %d codes sent, want one code per 200 and 429 too_many_requests for the rest", round, got, n)
				}
				if n > c.limit || (c.exact && n != c.limit) || n == 0 {
					t.Errorf("round %d: %d codes sent, want %s %d", round, n, map[bool]string{true: "exactly", false: "1 to"}[c.exact], c.limit)
				}
				for _, r := range rs {
					if r.Status != http.StatusTooManyRequests {
						continue
					}
					wantError(t, "refused send", r, http.StatusTooManyRequests, "too_many_requests",
						"Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.")
					reset, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
					limit, _ := strconv.Atoi(r.Header.Get("X-RateLimit-Limit"))
					if !slices.Contains(append(c.refusers, c.limit), limit) || r.Header.Get("X-RateLimit-Remaining") != "0" ||
						err != nil || reset <= e.clock.Now().Unix() || r.Header.Get("Retry-After") == "" {
						t.Errorf("round %d: 429 headers: got %v, want X-RateLimit-Limit one of %d, -Remaining 0, -Reset in the future and Retry-After",
							round, r.Header, append(c.refusers, c.limit))
					}
					break
				}
			}
			t.Logf("codes sent per round of %d (limit %d): %v", parallel, c.limit, sent)
			// api_limit is logged once a round for each limit that refused (refusers, else limit).
			e.mfaLogs(map[string]int{"api_limit": rounds * max(1, len(c.refusers))})
		})
	}
}

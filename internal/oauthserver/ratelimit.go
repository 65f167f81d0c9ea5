package oauthserver

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/store"
)

// RateLimits are the request rate limits of POST /oauth/token, each in requests a minute per
// bucket, all of which may come at once; 0 turns a limit off. The buckets are counters in the
// store, so the limits hold for a cluster as a whole, not per node.
type RateLimits struct {
	// PerClient limits each client. A confidential client (one that authenticated with a
	// secret or an assertion) has one bucket; a public client (token_endpoint_auth_method
	// none) one per end-user IP address, since anyone who knows its client_id could
	// otherwise spend its bucket for every user of the application.
	PerClient int
	// PerIP limits each IP address: the end user's when the client is trusted to send it
	// (auth0-forwarded-for), else the caller's (the TCP peer, or the X-Forwarded-For hop that a
	// trusted proxy names). IPv6 addresses are counted per network (Config.IPv6ClientPrefix).
	PerIP int
	// PerRefreshToken limits the redemptions of one refresh-token family (one login).
	PerRefreshToken int
}

// rateNote is the rate-limit state a token response reports in X-RateLimit-* headers: the
// tightest bucket the request was counted in.
type rateNote struct {
	d   guard.Decision
	set bool
}

func (n *rateNote) note(d guard.Decision) {
	if !n.set || d.Remaining < n.d.Remaining || !d.Allowed {
		n.d, n.set = d, true
	}
}

// header adds X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds,
// as Auth0 sends them) when the request was counted in a bucket.
func (n *rateNote) header(h http.Header) {
	if !n.set {
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(n.d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(n.d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(n.d.ResetUnix(), 10))
}

// limitRequest counts a token request against its IP's and its client's buckets; a full
// bucket refuses it with 429 too_many_requests. authenticated says whether ex.client
// authenticated: only then is the client's bucket used (an unauthenticated client_id could
// otherwise spend a real client's budget) and only then is a forwarded end-user IP trusted.
// A public client proves nothing but its client_id, so its bucket is per end-user IP.
func (s *Server) limitRequest(ctx context.Context, ex *exchange, authenticated bool) error {
	if r := guard.PerMinute(s.rateLimits().PerIP); r.On() {
		ip := ex.peer
		if authenticated {
			ip = ex.ip
		}
		if err := s.takeRate(ctx, ex, s.guard.IPRateKey(ip), r, "Rate limit exceeded for this IP address"); err != nil {
			return err
		}
	}
	if r := guard.PerMinute(s.rateLimits().PerClient); r.On() && authenticated {
		key := guard.ClientRateKey(ex.client.ClientID)
		if !ex.client.Confidential {
			key = s.guard.PublicClientRateKey(ex.client.ClientID, ex.ip)
		}
		if err := s.takeRate(ctx, ex, key, r, "Rate limit exceeded for this client"); err != nil {
			return err
		}
	}
	return nil
}

// limitRefresh counts one redemption of a refresh-token family.
func (s *Server) limitRefresh(ctx context.Context, ex *exchange, familyID string) error {
	r := guard.PerMinute(s.rateLimits().PerRefreshToken)
	if !r.On() {
		return nil
	}
	return s.takeRate(ctx, ex, guard.RefreshRateKey(familyID), r, "Rate limit exceeded for this refresh token")
}

// takeRate takes one request from a bucket.
func (s *Server) takeRate(ctx context.Context, ex *exchange, key string, r guard.Rate, description string) error {
	d, err := s.guard.Take(ctx, key, r)
	if err != nil {
		return err
	}
	return s.rateDecision(ex, d, description)
}

// rateDecision notes d for the X-RateLimit-* headers and turns a refusal into 429
// too_many_requests with Retry-After. A refusal is logged as api_limit once a minute per
// bucket (Auth0's code for a rate limit of its Authentication API).
func (s *Server) rateDecision(ex *exchange, d guard.Decision, description string) error {
	ex.rate.note(d)
	if d.Allowed {
		return nil
	}
	if d.Log {
		s.emit(ex, "api_limit", description)
	}
	e := *errRateLimited // a copy: the header is this request's
	e.Header = http.Header{"Retry-After": {retryAfter(d.RetryAt.Sub(s.now()))}}
	return &e
}

// MFASendLimits bound the email and SMS codes that POST /mfa/associate and POST
// /mfa/challenge send. Each send costs the tenant (SMS tolls) and, at enrolment, goes to an
// address or number the caller chose, so without limits a password alone would let anyone
// mail-bomb or text-bomb through the tenant's sender. A field at 0 takes its default; a
// negative one turns that limit off. The buckets are counters in the store, so the limits
// hold for a cluster as a whole.
type MFASendLimits struct {
	// PerToken is how many codes one mfa_token may have sent (default 5; a token lives 10
	// minutes, a user who needs more logs in again).
	PerToken int
	// PerUserPerHour is how many codes one user may be sent an hour (default 10), all of
	// which may come at once.
	PerUserPerHour int
	// PerIPPerHour is how many codes requests from one IP address may have sent an hour
	// (default 60): the end user's address when a trusted client forwards it.
	PerIPPerHour int
	// RecipientsPerHour is how many distinct addresses and numbers one user's enrolments may
	// try (default 3) until an hour passes without an enrolment: enough for a typo or two,
	// not for spraying codes at strangers.
	RecipientsPerHour int
}

// The defaults of MFASendLimits.
const (
	DefaultMFASendsPerToken       = 5
	DefaultMFASendsPerUserPerHour = 10
	DefaultMFASendsPerIPPerHour   = 60
	DefaultMFARecipientsPerHour   = 3
)

// sendLimit is n, or def when n is 0; a negative n is no limit (0).
func sendLimit(n, def int) int {
	if n == 0 {
		return def
	}
	return max(n, 0)
}

// mfaSendGate limits the codes sent for the holder of the mfa_token of t, who asked from
// ex.ip: per mfa_token, per user and per IP, then, for a recipient given at enrolment, the
// distinct recipients of the user's enrolments. A refusal is 429 too_many_requests, logged as
// api_limit: Auth0's code for its Authentication API's rate limits, which /mfa/* belong to
// (gd_otp_rate_limit_exceed is about checking codes, not sending them).
func (s *Server) mfaSendGate(ex *exchange, t store.MFATransaction) mfa.SendGate {
	l := s.mfaSends
	return func(ctx context.Context, d mfa.Delivery) error {
		if n := sendLimit(l.PerToken, DefaultMFASendsPerToken); n > 0 {
			// n at once, the next one only when the token has expired.
			r := guard.Rate{Burst: n, Every: mfa.TokenLifetime}
			if err := s.takeRate(ctx, ex, guard.MFATokenSendKey(t.ID), r, "Too many MFA codes sent for this mfa_token"); err != nil {
				return err
			}
		}
		if r := guard.PerHour(sendLimit(l.PerUserPerHour, DefaultMFASendsPerUserPerHour)); r.On() {
			if err := s.takeRate(ctx, ex, guard.MFAUserSendKey(t.UserID), r, "Too many MFA codes sent for this user"); err != nil {
				return err
			}
		}
		if r := guard.PerHour(sendLimit(l.PerIPPerHour, DefaultMFASendsPerIPPerHour)); r.On() {
			if err := s.takeRate(ctx, ex, s.guard.MFAIPSendKey(ex.ip), r, "Too many MFA codes sent for this IP address"); err != nil {
				return err
			}
		}
		if !d.Enrolment {
			return nil
		}
		dd, err := s.guard.Distinct(ctx, guard.MFARecipientsKey(t.UserID), d.Channel+":"+d.To,
			sendLimit(l.RecipientsPerHour, DefaultMFARecipientsPerHour), time.Hour)
		if err != nil {
			return err
		}
		return s.rateDecision(ex, dd, "Too many different recipients tried for this user's MFA enrolment")
	}
}

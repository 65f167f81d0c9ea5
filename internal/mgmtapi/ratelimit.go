package mgmtapi

import (
	"net/http"
	"strconv"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// limit counts the request in its caller's bucket (a client, or a user for a user's token):
// every counted answer carries X-RateLimit-Limit, -Remaining and -Reset, and a full bucket
// answers 429 with Retry-After, which the Deploy CLI and the SDKs honour. The first refusal
// of a bucket in a minute is logged as api_limit. The bucket is a counter in the store, so
// the limit holds for a cluster as a whole.
func (a *API) limit(w http.ResponseWriter, r *http.Request, c *Caller) error {
	rate := guard.PerMinute(a.cfg.RatePerMinute)
	if !rate.On() || a.cfg.Limiter == nil {
		return nil
	}
	key := "mgmt|client|" + c.ClientID
	if c.UserID != "" {
		key = "mgmt|user|" + c.UserID
	}
	d, err := a.cfg.Limiter.Take(r.Context(), key, rate)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(d.ResetUnix(), 10))
	if d.Allowed {
		return nil
	}
	if d.Log && a.cfg.Events != nil {
		a.cfg.Events.Emit(store.LogEvent{Type: "api_limit", Description: "Management API rate limit exceeded",
			ClientID: c.ClientID, UserID: c.UserID, IP: a.clientIP(r), UserAgent: r.UserAgent()})
	}
	return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests",
		Message: "Global limit has been reached",
		Header:  http.Header{"Retry-After": {strconv.FormatInt(d.RetryAfter(a.now()), 10)}}}
}

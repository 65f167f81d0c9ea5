package oauthserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/mfa/deliver"
	"github.com/sesameauth/sesame/internal/store"
)

// keyDeriver is the part of seal.Box that derives purpose keys from the key-encryption key.
type keyDeriver interface {
	DeriveKey(purpose string) []byte
}

// notifyTimeout bounds one delivery; a notice is sent off the request path.
const notifyTimeout = 30 * time.Second

// Notices are rate limited so that an attacker who blocks an account from many addresses, or
// trips the IP throttle from many, cannot turn Sesame into a mail cannon: a user gets at most
// one unblock link an hour (one link releases the blocks from every IP), the administrators
// at most 20 alerts an hour.
var (
	userNoticeRate  = guard.Rate{Burst: 1, Every: time.Hour}
	adminNoticeRate = guard.Rate{Burst: 20, Every: 3 * time.Minute}
)

// notify acts on the Notify field of attack-protection events: the user gets an unblock link
// (user_notification), the administrators an alert (admin_notification). Delivery runs in
// the background: the login that triggered it answers at once, and a slow mail relay slows
// nobody's login.
func (s *Server) notify(ctx context.Context, ex *exchange, ev guard.Event, identifier string) {
	if ev.Type == "pwd_leak" {
		s.notifyBreached(ctx, ex, ev.Notify)
		return
	}
	if ev.Notify&guard.NotifyUser != 0 {
		s.notifyUser(ctx, ex, identifier)
	}
	if ev.Notify&guard.NotifyAdmins != 0 {
		s.notifyAdmins(ctx, ex)
	}
}

// notifyBreached tells the user (user_notification) that the password they just logged in with
// is in a breach list, and the administrators (admin_notification) that an account uses one.
// The login's user is known (the password was right), so the mail goes to their address; at
// most one notice an hour per user, whatever the shields say, as for unblock links.
func (s *Server) notifyBreached(ctx context.Context, ex *exchange, who guard.Notify) {
	if who == guard.NotifyNobody || !s.noticeAllowed(ctx, "notice-breached|"+ex.user.UserID, userNoticeRate) {
		return
	}
	tenant := ex.tenant.FriendlyName
	if who&guard.NotifyUser != 0 && ex.user.Email != "" {
		n := deliver.Notice{Kind: "breached_password", To: ex.user.Email, Tenant: tenant,
			Subject: "Your password was found in a data breach",
			Text: "Hello,\n\nThe password you just used to log in appears in a list of passwords leaked in data " +
				"breaches of other services, so attackers may try it against your account.\n\nPlease change it " +
				"now, and anywhere else you use it.\n"}
		s.deliver(n, "user_id", ex.user.UserID)
	}
	if who&guard.NotifyAdmins != 0 && len(s.adminEmails) > 0 && s.noticeAllowed(ctx, "notice-admins", adminNoticeRate) {
		for _, to := range s.adminEmails {
			n := deliver.Notice{Kind: "breached_password_admin", To: to, Tenant: tenant,
				Subject: "A user logged in with a breached password",
				Text: fmt.Sprintf("Hello,\n\nUser %s logged in from the IP address %s with a password found in a breach list.\n\n"+
					"Review the events with: sesame logs --type pwd_leak\n", ex.user.UserID, ex.ip)}
			s.deliver(n, "user_id", ex.user.UserID)
		}
	}
}

// notifyUser mails a blocked user a single-use unblock link. An identifier that names no user
// of the connection, or a user without an email address, gets nothing (and the login's answer
// is the same either way).
func (s *Server) notifyUser(ctx context.Context, ex *exchange, identifier string) {
	if s.ticketKey == nil {
		s.log.Warn("brute-force block: no key to sign unblock links; user not notified")
		return
	}
	u, err := s.store.FindUser(ctx, ex.connection.Name, identifier)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Email == "") {
		return
	}
	if err != nil {
		s.log.Warn("brute-force block: finding the user to notify", "err", err)
		return
	}
	if !s.noticeAllowed(ctx, "notice-user|"+u.ID, userNoticeRate) {
		return
	}
	ticket, _ := guard.MintTicket(s.ticketKey, u.ID, s.now(), guard.UnblockTicketTTL)
	link := s.issuer + "unblock?" + url.Values{"ticket": {ticket}}.Encode()
	tenant := ex.tenant.FriendlyName
	n := deliver.Notice{Kind: "unblock", To: u.Email, Tenant: tenant, Subject: "Your account has been blocked",
		Text: fmt.Sprintf("Hello,\n\nWe detected too many consecutive failed login attempts to your account from the IP address %s, "+
			"so logins from there are blocked.\n\nIf it was you, you can unblock your account here (the link works once, "+
			"for 24 hours):\n\n%s\n\nIf it was not you, someone may be guessing your password: once unblocked, change it.\n",
			ex.ip, link)}
	s.deliver(n, "user_id", u.ID)
}

// notifyAdmins alerts the configured administrators that an IP address was throttled.
func (s *Server) notifyAdmins(ctx context.Context, ex *exchange) {
	if len(s.adminEmails) == 0 || !s.noticeAllowed(ctx, "notice-admins", adminNoticeRate) {
		return
	}
	for _, to := range s.adminEmails {
		n := deliver.Notice{Kind: "ip_throttled", To: to, Tenant: ex.tenant.FriendlyName,
			Subject: "Suspicious login activity throttled",
			Text: fmt.Sprintf("Hello,\n\nSuspicious IP throttling reached its limit for the IP address %s: too many failed "+
				"logins across accounts. Further login attempts from it are throttled while the tenant's shields say so.\n\n"+
				"Review the events with: sesame logs --type limit_mu\n", ex.ip)}
		s.deliver(n, "ip", ex.ip)
	}
}

// noticeAllowed takes a notice from its bucket; a store failure sends nothing (a notice is
// worth less than the login's answer).
func (s *Server) noticeAllowed(ctx context.Context, key string, r guard.Rate) bool {
	d, err := s.guard.Take(ctx, key, r)
	if err != nil {
		s.log.Warn("attack-protection notice: rate limit", "err", err)
		return false
	}
	return d.Allowed
}

// deliver sends n in the background; a failure is logged with who it was for, never with
// the message (it may hold a link that unblocks an account).
func (s *Server) deliver(n deliver.Notice, who, id string) {
	if s.notifier == nil {
		return
	}
	s.sending.add()
	go func() {
		defer s.sending.done()
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		defer cancel()
		if err := s.notifier.Notify(ctx, n); err != nil {
			s.log.Warn("attack-protection notice not delivered", "kind", n.Kind, who, id, "err", err)
		}
	}()
}

// inFlight counts background deliveries so that Flush can wait for them. Unlike a
// sync.WaitGroup it may be waited on while requests start new deliveries, and the wait ends
// with a context.
type inFlight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to zero; nil while n is zero
}

func (f *inFlight) add() {
	f.mu.Lock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
}

func (f *inFlight) done() {
	f.mu.Lock()
	if f.n--; f.n == 0 {
		close(f.idle)
		f.idle = nil
	}
	f.mu.Unlock()
}

// wait returns once nothing is in flight, or with ctx's error.
func (f *inFlight) wait(ctx context.Context) error {
	f.mu.Lock()
	idle := f.idle
	f.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits (until ctx ends) for what requests leave running behind their answers: the
// attack-protection notices being delivered, then the tenant log events emitted so far when
// the EventSink can flush (logs.Sink can). The server never needs it; tests call it before
// they read the outbox or the tenant log, or assert that nothing was sent or logged, so that
// they wait on the work itself rather than sleep.
func (s *Server) Flush(ctx context.Context) error {
	if err := s.sending.wait(ctx); err != nil {
		return err
	}
	if f, ok := s.events.(interface{ Flush(context.Context) error }); ok {
		return f.Flush(ctx)
	}
	return nil
}

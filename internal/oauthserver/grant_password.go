package oauthserver

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// passwordGrant serves both the password grant (RFC 6749 §4.3) and Auth0's password-realm
// extension: they differ only in where the directory name comes from, and even that is the same
// here, since Auth0's current SDKs send realm with the plain password grant too (WIRE.md §1).
type passwordGrant struct{ s *Server }

// hashWait bounds how long a password grant waits for the hashing pool.
const hashWait = 5 * time.Second

func (passwordGrant) events() (string, string) { return "sepft", "fepft" }

// realm is the realm parameter, else the tenant's default directory.
func (g passwordGrant) realm(_ context.Context, ex *exchange) (string, *Error, error) {
	if _, err := ex.p.require("username"); err != nil {
		return "", nil, err
	}
	if _, err := ex.p.require("password"); err != nil {
		return "", nil, err
	}
	realm := ex.p.get("realm")
	if realm == "" {
		realm = ex.tenant.DefaultDirectory
	}
	if realm == "" {
		return "", nil, errNoDefaultDirectory
	}
	return realm, errUnknownRealm(safeName(realm)), nil
}

func (g passwordGrant) login(ctx context.Context, ex *exchange) error {
	s := g.s
	username, pw := ex.p.get("username"), ex.p.get("password")
	if !slices.Contains(ex.connection.EnabledClients, ex.client.ClientID) {
		return errConnNotEnabled
	}
	// The audience is resolved before the password is checked so that a misconfigured request
	// fails without spending a password hash, and without consuming a brute-force attempt.
	if err := s.resolveAudience(ctx, ex); err != nil {
		return err
	}
	dir := ex.dir
	var err error
	// Attack protection runs before the password is checked: a blocked pair or a throttled IP
	// is refused even with the right password (WIRE.md §5). It counts per user where the
	// directory can name the user without a password, so that the email and the username of
	// one user share one count; a name of nobody is counted as typed, by the same path.
	att := &guard.Attempt{Identifier: username, IP: ex.ip, Tenant: &ex.tenant}
	if r, ok := dir.(directory.Resolver); ok {
		if att.UserID, err = r.Resolve(ctx, username); err != nil {
			return err
		}
	}
	giveBack, err := s.takeAttempt(ctx, ex, att)
	if err != nil {
		return err
	}
	// A login shed or failed before its password was judged was no attempt: give it back.
	defer giveBack()
	// A login that cannot get a password-hashing slot within hashWait is shed with a 503 rather
	// than queued without bound (each argon2id hash holds ~19 MiB while it runs).
	var accountRefusal *directory.AccountError
	authCtx, cancel := context.WithTimeout(ctx, hashWait)
	err = s.stage(authCtx, "directory.authenticate", func(ctx context.Context) (err error) {
		ex.user, err = dir.Authenticate(ctx, username, pw) // the password hash is verified in here
		return err
	})
	cancel()
	switch {
	case errors.Is(err, directory.ErrInvalidCredentials):
		typ := "fp"
		if errors.Is(err, directory.ErrUnknownUser) {
			typ = "fu"
		}
		ex.user.Email = username
		s.emit(ex, typ, "Wrong email or password.")
		// An unknown user counts like a wrong password: the answer must not tell them apart.
		evs, gerr := s.guard.Failure(ctx, att)
		for _, e := range evs {
			s.emit(ex, e.Type, e.Description)
			s.notify(ctx, ex, e, username)
		}
		if gerr != nil {
			s.log.Warn("recording failed login", "err", gerr)
		}
		ex.user = directory.Identity{}
		return errWrongCredentials.withCause(err)
	case errors.Is(err, directory.ErrUnavailable):
		// Shed before the password was judged: the deferred Abandon gives the attempt back.
		return errDirectoryUnavailable.withCause(err)
	case errors.Is(err, directory.ErrOverloaded), errors.Is(err, context.DeadlineExceeded):
		return errOverloaded.withCause(err)
	case errors.As(err, &accountRefusal):
		// The directory refused the account for its state (expired, disabled, locked...): no
		// wrong password, so no brute-force count; the log says what the directory said.
		ex.user.Email = username
		s.emit(ex, "f", accountRefusal.Detail)
		ex.user = directory.Identity{}
		return accountErr(accountRefusal)
	case err != nil:
		return err
	}
	if err := s.guard.Success(ctx, att); err != nil {
		s.log.Warn("resetting failed logins", "user_id", ex.user.UserID, "err", err)
	}
	if ex.user.Blocked {
		return errUserBlocked
	}
	// Breached passwords are looked for only once the password is known to be right, so that
	// the answer says nothing about a wrong one.
	evs, err := s.guard.Breached(ctx, att, pw)
	for _, e := range evs {
		s.emit(ex, e.Type, e.Description)
		s.notify(ctx, ex, e, username)
	}
	if err != nil {
		return guardErr(err)
	}
	ex.authTime = s.now()
	ex.scopes, ex.perms = grantScopes(splitScope(ex.p.get("scope")), ex.api, ex.user.Permissions, ex.client.Client)
	// A failure to count the login must not fail it.
	if err := s.store.RecordLogin(ctx, ex.user.UserID, ex.authTime, ex.ip); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("recording login", "user_id", ex.user.UserID, "err", err)
	}
	return nil
}

// resolveAudience picks the API: the audience parameter, else the tenant's default audience;
// neither leaves ex.api nil (a token good only for /userinfo).
func (s *Server) resolveAudience(ctx context.Context, ex *exchange) error {
	aud := ex.p.get("audience")
	if aud == "" {
		aud = ex.tenant.DefaultAudience
	}
	if aud == "" || aud == s.issuer+"userinfo" {
		return nil
	}
	api, err := s.store.GetResourceServer(ctx, aud)
	if err != nil {
		return storeErr(err, errServiceNotFound(safeName(aud)))
	}
	ex.api = &api
	return nil
}

// takeAttempt takes a brute-force attempt for att before the credential is judged, so that a
// parallel burst cannot verify more than the policy allows (guard.Check; the blocks it reports
// are logged). The returned func gives the attempt back; guard.Success and guard.Failure settle
// it first when the credential was judged, so calling it then changes nothing.
func (s *Server) takeAttempt(ctx context.Context, ex *exchange, att *guard.Attempt) (giveBack func(), err error) {
	if err := s.guard.Check(ctx, att); err != nil {
		var be *guard.BlockedError
		if errors.As(err, &be) {
			for _, e := range be.Events {
				s.emit(ex, e.Type, e.Description)
			}
		}
		return nil, guardErr(err)
	}
	return func() {
		if err := s.guard.Abandon(context.WithoutCancel(ctx), att); err != nil {
			s.log.Warn("giving back a login attempt", "err", err)
		}
	}, nil
}

package oauthserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/store"
)

// grantPasswordlessOTP is Auth0's grant that exchanges a passwordless one-time code.
const grantPasswordlessOTP = "http://auth0.com/oauth/grant-type/passwordless/otp"

// Wrong codes answer as Auth0 does (WIRE.md §11), texts kept exact.
var (
	errWrongEmailCode = oauthErr(http.StatusForbidden, "invalid_grant", "Wrong email or verification code.")
	errWrongPhoneCode = oauthErr(http.StatusForbidden, "invalid_grant", "Wrong phone number or verification code.")
)

// passwordlessGrant serves http://auth0.com/oauth/grant-type/passwordless/otp: username (the
// email address or phone number a code was sent to by POST /passwordless/start), otp, realm
// (the connection: email or sms), audience and scope. It establishes the user and leaves the
// rest to the dispatcher, so its tokens are the password grant's: Rules and Actions, the MFA
// policy and refresh tokens alike. A new address or number signs a user up unless the
// connection disables signups.
type passwordlessGrant struct{ s *Server }

// events are Auth0's codes for a passwordless OTP exchange (its log event type list:
// sepotpft "Successful exchange of Passwordless OTP for Access Token", fepotpft the failure).
func (passwordlessGrant) events() (string, string) { return "sepotpft", "fepotpft" }

// realm is the connection the code was sent through (required: a code belongs to one).
func (passwordlessGrant) realm(_ context.Context, ex *exchange) (string, *Error, error) {
	for _, name := range []string{"username", "otp"} {
		if _, err := ex.p.require(name); err != nil {
			return "", nil, err
		}
	}
	realm, err := ex.p.require("realm")
	if err != nil {
		return "", nil, err
	}
	return realm, errUnknownRealm(safeName(realm)), nil
}

func (g passwordlessGrant) login(ctx context.Context, ex *exchange) error {
	s := g.s
	username, otp, realm := ex.p.get("username"), ex.p.get("otp"), ex.p.get("realm")
	if !passwordless.IsStrategy(ex.connection.Strategy) {
		return errInvalidRequest("The realm " + safeName(realm) + " is not a passwordless connection (strategy email or sms).")
	}
	if !slices.Contains(ex.connection.EnabledClients, ex.client.ClientID) {
		return errConnNotEnabled
	}
	opts, errs := passwordless.ParseOptions(ex.connection.Strategy, ex.connection.Options)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	wrong := errWrongEmailCode
	if ex.connection.Strategy == passwordless.StrategySMS {
		wrong = errWrongPhoneCode
	}
	// As the password grant: a misconfigured request fails before it spends a try.
	if err := s.resolveAudience(ctx, ex); err != nil {
		return err
	}
	recipient, err := passwordless.Normalize(ex.connection.Strategy, username)
	if err != nil {
		return wrong.withCause(err)
	}
	user, err := s.store.FindUser(ctx, ex.connection.Name, recipient)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Brute-force protection counts per user (or per recipient for nobody's) and IP, before
	// the code is judged, as for passwords; the code's own limit of tries holds regardless.
	att := &guard.Attempt{Identifier: recipient, IP: ex.ip, Tenant: &ex.tenant, UserID: user.ID}
	if opts.BruteForceProtection {
		giveBack, err := s.takeAttempt(ctx, ex, att)
		if err != nil {
			return err
		}
		defer giveBack()
	}
	if err := s.codes.Verify(ctx, ex.connection.Name, recipient, otp); err != nil {
		if !errors.Is(err, passwordless.ErrWrongCode) {
			return err
		}
		ex.user.Email = recipient
		if opts.BruteForceProtection {
			evs, gerr := s.guard.Failure(ctx, att)
			for _, e := range evs {
				s.emit(ex, e.Type, e.Description)
			}
			if gerr != nil {
				s.log.Warn("recording failed login", "err", gerr)
			}
		}
		return wrong.withCause(err)
	}
	if opts.BruteForceProtection {
		if err := s.guard.Success(ctx, att); err != nil {
			s.log.Warn("resetting failed logins", "user_id", user.ID, "err", err)
		}
	}
	if !known {
		if opts.DisableSignup { // signups were turned off after the code was sent
			ex.user.Email = recipient
			return wrong.withCause(errors.New("signup disabled"))
		}
		if user, err = s.signUpPasswordless(ctx, ex, recipient); err != nil {
			return err
		}
	} else if err := s.verifyRecipient(ctx, &user); err != nil {
		return err
	}
	if ex.user, err = ex.dir.Lookup(ctx, user.ID); err != nil {
		return err
	}
	if ex.user.Blocked {
		return errUserBlocked
	}
	ex.authTime = s.now()
	ex.scopes, ex.perms = grantScopes(splitScope(ex.p.get("scope")), ex.api, ex.user.Permissions, ex.client.Client)
	if err := s.store.RecordLogin(ctx, ex.user.UserID, ex.authTime, ex.ip); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("recording login", "user_id", ex.user.UserID, "err", err)
	}
	return nil
}

// signUpPasswordless creates the user of a recipient who proved they hold it: email|… with a
// verified email, or sms|… whose phone number is kept as the username (the store has no phone
// column; Auth0's sms users log in by phone number exactly as a username does). Two parallel
// first logins of one recipient: the loser of the insert reads the winner's user.
func (s *Server) signUpPasswordless(ctx context.Context, ex *exchange, recipient string) (store.User, error) {
	now := s.now()
	strategy := ex.connection.Strategy
	u := store.User{ID: strategy + "|" + strings.TrimPrefix(store.NewUserID(), "auth0|"), Connection: ex.connection.Name,
		CreatedAt: now, UpdatedAt: now}
	if strategy == passwordless.StrategySMS {
		u.Username, u.Name = recipient, recipient
	} else {
		u.Email, u.EmailVerified = recipient, true
		u.Name, u.Nickname = recipient, strings.SplitN(recipient, "@", 2)[0]
	}
	err := s.store.CreateUser(ctx, u)
	if errors.Is(err, store.ErrConflict) {
		return s.store.FindUser(ctx, ex.connection.Name, recipient)
	}
	if err != nil {
		return store.User{}, err
	}
	ex.user = directory.Identity{UserID: u.ID, Email: u.Email, Username: u.Username}
	s.emit(ex, "ss", "Successful signup")
	return u, nil
}

// verifyRecipient marks an existing email user's address verified: the code proved it.
func (s *Server) verifyRecipient(ctx context.Context, u *store.User) error {
	if u.Email == "" || u.EmailVerified {
		return nil
	}
	return s.store.UpdateUser(ctx, u.ID, func(cur *store.User) error {
		cur.EmailVerified = true
		return nil
	})
}

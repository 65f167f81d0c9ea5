package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sesameauth/sesame/internal/store"
)

// Lifetimes and limits of WIRE.md §4.
const (
	// TokenLifetime is how long an mfa_token (a paused login) lives.
	TokenLifetime = 10 * time.Minute
	// OOBLifetime is how long an emailed or texted code lives.
	OOBLifetime = 5 * time.Minute
	// MaxFailures failed factors block a user's factor checks...
	MaxFailures = 10
	// ...and one more attempt comes back every Refill: a user is locked out for at most
	// MaxFailures × Refill, however many attempts are refused meanwhile.
	Refill = 6 * time.Minute
	// totpPeriod, totpDigits and totpSkew are RFC 6238's defaults as Auth0 uses them: 30 s
	// steps, 6 digits, one step of clock drift either way (§5.2).
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1
	// recoveryCodeLen is the length of a recovery code, in uppercase alphanumerics.
	recoveryCodeLen = 24
)

// Errors a caller maps to wire errors.
var (
	ErrMalformedToken       = errors.New("mfa: malformed mfa_token")
	ErrExpiredToken         = errors.New("mfa: mfa_token is expired")
	ErrInvalidOTP           = errors.New("mfa: invalid otp code")
	ErrInvalidOOBCode       = errors.New("mfa: invalid oob_code")
	ErrInvalidBinding       = errors.New("mfa: invalid binding code")
	ErrInvalidRecoveryCode  = errors.New("mfa: invalid recovery code")
	ErrTooManyAttempts      = errors.New("mfa: too many failed attempts")
	ErrUnsupportedChallenge = errors.New("mfa: no authenticator for the challenge type")
	// ErrAlreadyEnrolled refuses an enrolment by a user who already has a confirmed factor:
	// an mfa_token proves only the password, so it must not add a factor (that would bypass
	// the one enrolled).
	ErrAlreadyEnrolled = errors.New("mfa: user is already enrolled")
	// ErrFactorDisabled refuses an enrolment of a factor the tenant did not enable.
	ErrFactorDisabled = errors.New("mfa: factor not enabled")
	// ErrConfirmed refuses removing a confirmed authenticator with only an mfa_token.
	ErrConfirmed = errors.New("mfa: authenticator is confirmed")
	// ErrBadRequest is an enrolment request that names nothing usable.
	ErrBadRequest = errors.New("mfa: bad enrolment request")
)

// Sealer seals and opens TOTP secrets with the key-encryption key (seal.Box satisfies it).
type Sealer interface {
	Seal(plaintext, aad []byte) []byte
	Open(sealed, aad []byte) ([]byte, error)
}

// Store is what Service needs of the store: the MFA records, and the token buckets of
// attack protection, where each user's factor attempts are counted (in the store, so that
// every node counts together).
type Store interface {
	store.MFA
	store.Counters
}

// Service runs second factors over the store.
type Service struct {
	store  Store
	box    Sealer
	sender Sender
	now    func() time.Time
}

// New returns a Service; a nil now means time.Now.
func New(st Store, box Sealer, sender Sender, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, box: box, sender: sender, now: now}
}

// Start pauses a login: it stores t (its ID, CreatedAt and ExpiresAt are set here) and
// returns the mfa_token for it. Only the token's hash is stored.
func (s *Service) Start(ctx context.Context, t store.MFATransaction) (string, error) {
	raw, hash := newSecret()
	now := s.now()
	t.ID, t.CreatedAt, t.ExpiresAt = hash, now, now.Add(TokenLifetime)
	if err := s.store.CreateMFATransaction(ctx, t); err != nil {
		return "", err
	}
	return raw, nil
}

// Transaction returns the live paused login an mfa_token names. A token of the wrong shape,
// or one never issued, is ErrMalformedToken; one past its lifetime or already used to issue
// tokens is ErrExpiredToken.
func (s *Service) Transaction(ctx context.Context, token string) (store.MFATransaction, error) {
	hash, ok := hashSecret(token)
	if !ok {
		return store.MFATransaction{}, ErrMalformedToken
	}
	t, err := s.store.GetMFATransaction(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("%w: %w", ErrMalformedToken, err)
	}
	if err != nil {
		return t, err
	}
	if !s.now().Before(t.ExpiresAt) || !t.ConsumedAt.IsZero() {
		return t, ErrExpiredToken
	}
	return t, nil
}

// Consume spends the transaction; a second consumption is ErrExpiredToken.
func (s *Service) Consume(ctx context.Context, t store.MFATransaction) error {
	err := s.store.ConsumeMFATransaction(ctx, t.ID, s.now())
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: %w", ErrExpiredToken, err)
	}
	return err
}

// Requirement is one entry of mfa_requirements.
type Requirement struct {
	Type string `json:"type"`
}

// Requirements is the mfa_requirements of an mfa_required answer: {"challenge": […]} with the
// user's confirmed factors, or {"enroll": […]} with the tenant's factors when there are none.
func (s *Service) Requirements(ctx context.Context, userID string, f store.MFAFactors) (map[string][]Requirement, error) {
	auths, err := s.store.ListMFAAuthenticators(ctx, userID)
	if err != nil {
		return nil, err
	}
	var challenge []Requirement
	for _, a := range confirmed(auths) {
		if r := (Requirement{Type: requirementType(a.Kind)}); !slices.Contains(challenge, r) {
			challenge = append(challenge, r)
		}
	}
	if len(challenge) > 0 {
		return map[string][]Requirement{"challenge": challenge}, nil
	}
	f = Factors(f)
	var enroll []Requirement
	if f.OTP {
		enroll = append(enroll, Requirement{"otp"})
	}
	if f.SMS {
		enroll = append(enroll, Requirement{"phone"})
	}
	if f.Email {
		enroll = append(enroll, Requirement{"email"})
	}
	return map[string][]Requirement{"enroll": enroll}, nil
}

// Factors is f, or OTP with recovery codes when the tenant enabled none.
func Factors(f store.MFAFactors) store.MFAFactors {
	if f == (store.MFAFactors{}) {
		return store.MFAFactors{OTP: true, RecoveryCode: true}
	}
	return f
}

func requirementType(kind string) string {
	switch kind {
	case store.AuthenticatorTOTP:
		return "otp"
	case store.AuthenticatorSMS:
		return "phone"
	}
	return kind
}

// Authenticators lists the user's authenticators.
func (s *Service) Authenticators(ctx context.Context, userID string) ([]store.MFAAuthenticator, error) {
	return s.store.ListMFAAuthenticators(ctx, userID)
}

// Remove deletes a pending authenticator of the user. A confirmed one is ErrConfirmed: an
// mfa_token proves only the password, and removing the factor it stands in front of would
// open the door to enrolling the attacker's own (an administrator resets it instead).
func (s *Service) Remove(ctx context.Context, userID, id string) error {
	a, err := s.store.GetMFAAuthenticator(ctx, id)
	if err != nil {
		return err
	}
	if a.UserID != userID {
		return fmt.Errorf("mfa: authenticator %q: %w", id, store.ErrNotFound)
	}
	if a.Confirmed {
		return ErrConfirmed
	}
	return s.store.DeleteMFAAuthenticator(ctx, userID, id)
}

// Reset deletes every authenticator of the user (an administrator's action).
func (s *Service) Reset(ctx context.Context, userID string) (int, error) {
	return s.store.DeleteMFAAuthenticators(ctx, userID)
}

// EnrolRequest is a POST /mfa/associate body, with what the caller knows of the login.
type EnrolRequest struct {
	// Types are authenticator_types: "otp" or "oob".
	Types []string
	// Channels are oob_channels: "email" or "sms".
	Channels []string
	Email    string
	Phone    string
	// Issuer is the tenant's name and Account the user's, for the otpauth URI.
	Issuer  string
	Account string
	Factors store.MFAFactors
	// Gate, when not nil, may refuse sending a code to Email or Phone.
	Gate SendGate
}

// Enrolment is the answer to an association.
type Enrolment struct {
	// Type is "otp" or "oob"; Channel the oob channel.
	Type    string
	Channel string
	// Secret and BarcodeURI are the TOTP shared secret (base32) and its otpauth:// URI.
	Secret     string
	BarcodeURI string
	// OOBCode names the code just sent, for the mfa-oob grant.
	OOBCode string
	// RecoveryCodes is set on the user's first enrolment only.
	RecoveryCodes []string
	// AuthenticatorID is the new, pending authenticator.
	AuthenticatorID string
}

// Associate enrols a new, pending authenticator; the matching MFA grant confirms it. A user
// with a confirmed factor is refused (ErrAlreadyEnrolled). Pending authenticators of an
// abandoned enrolment are replaced.
func (s *Service) Associate(ctx context.Context, t store.MFATransaction, req EnrolRequest) (Enrolment, error) {
	auths, err := s.store.ListMFAAuthenticators(ctx, t.UserID)
	if err != nil {
		return Enrolment{}, err
	}
	if len(confirmed(auths)) > 0 {
		return Enrolment{}, ErrAlreadyEnrolled
	}
	f := Factors(req.Factors)
	var a store.MFAAuthenticator
	var out Enrolment
	switch {
	case slices.Contains(req.Types, "otp"):
		if !f.OTP {
			return Enrolment{}, fmt.Errorf("%w: otp", ErrFactorDisabled)
		}
		if s.box == nil {
			return Enrolment{}, errors.New("mfa: no key-encryption key to seal TOTP secrets")
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: defaultStr(req.Issuer, "Sesame"),
			AccountName: defaultStr(req.Account, t.UserID), Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return Enrolment{}, fmt.Errorf("mfa: generating TOTP secret: %w", err)
		}
		a = store.MFAAuthenticator{ID: newAuthenticatorID(store.AuthenticatorTOTP), Kind: store.AuthenticatorTOTP}
		a.SecretSealed = s.box.Seal([]byte(key.Secret()), store.MFASecretAAD(a.ID))
		out = Enrolment{Type: "otp", Secret: key.Secret(), BarcodeURI: barcodeURI(defaultStr(req.Issuer, "Sesame"), defaultStr(req.Account, t.UserID), key.Secret())}
	case slices.Contains(req.Types, "oob"):
		switch {
		case slices.Contains(req.Channels, "email") && f.Email:
			if !plausibleEmail(req.Email) {
				return Enrolment{}, fmt.Errorf("%w: email", ErrBadRequest)
			}
			a = store.MFAAuthenticator{ID: newAuthenticatorID(store.AuthenticatorEmail), Kind: store.AuthenticatorEmail, Name: req.Email}
			out = Enrolment{Type: "oob", Channel: "email"}
		case slices.Contains(req.Channels, "sms") && f.SMS:
			if !plausiblePhone(req.Phone) {
				return Enrolment{}, fmt.Errorf("%w: phone_number", ErrBadRequest)
			}
			a = store.MFAAuthenticator{ID: newAuthenticatorID(store.AuthenticatorSMS), Kind: store.AuthenticatorSMS, Name: req.Phone}
			out = Enrolment{Type: "oob", Channel: "sms"}
		default:
			return Enrolment{}, fmt.Errorf("%w: oob channel", ErrFactorDisabled)
		}
	default:
		return Enrolment{}, fmt.Errorf("%w: authenticator_types", ErrBadRequest)
	}
	if out.Type == "oob" {
		if err := req.Gate.allow(ctx, Delivery{Channel: out.Channel, To: a.Name, Enrolment: true}); err != nil {
			return Enrolment{}, err
		}
	}
	// An abandoned enrolment's pending authenticators go: their secrets were shown once and
	// this enrolment shows new ones.
	for _, old := range auths {
		if err := s.store.DeleteMFAAuthenticator(ctx, t.UserID, old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Enrolment{}, err
		}
	}
	a.UserID, a.CreatedAt = t.UserID, s.now()
	if err := s.store.CreateMFAAuthenticator(ctx, a); err != nil {
		return Enrolment{}, err
	}
	out.AuthenticatorID = a.ID
	if f.RecoveryCode {
		code := newRecoveryCode()
		rc := store.MFAAuthenticator{ID: newAuthenticatorID(store.AuthenticatorRecoveryCode), UserID: t.UserID,
			Kind: store.AuthenticatorRecoveryCode, CodeHash: hashCode(code), CreatedAt: a.CreatedAt.Add(time.Nanosecond)}
		if err := s.store.CreateMFAAuthenticator(ctx, rc); err != nil {
			return Enrolment{}, err
		}
		out.RecoveryCodes = []string{code}
	}
	if out.Type == "oob" {
		if out.OOBCode, err = s.sendCode(ctx, t, a, req.Issuer); err != nil {
			return Enrolment{}, err
		}
	}
	return out, nil
}

// barcodeURI is the otpauth:// URI of Google Authenticator's Key Uri Format, parameters in
// Auth0's order.
func barcodeURI(issuer, account, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	return "otpauth://totp/" + label + "?secret=" + secret + "&issuer=" + url.QueryEscape(issuer) +
		"&algorithm=SHA1&digits=6&period=30"
}

// Challenge is the answer to POST /mfa/challenge.
type Challenge struct {
	// Type is "otp" or "oob".
	Type string
	// OOBCode names the code just sent (oob only).
	OOBCode string
}

// Challenge picks a factor of the user for types ("otp", "oob"), the authenticator
// authenticatorID when given; an OOB factor gets a fresh code sent if gate allows it.
func (s *Service) Challenge(ctx context.Context, t store.MFATransaction, types []string, authenticatorID, tenant string, gate SendGate) (Challenge, error) {
	auths, err := s.store.ListMFAAuthenticators(ctx, t.UserID)
	if err != nil {
		return Challenge{}, err
	}
	for _, a := range usable(auths) {
		if authenticatorID != "" && a.ID != authenticatorID {
			continue
		}
		switch a.Kind {
		case store.AuthenticatorTOTP:
			if slices.Contains(types, "otp") {
				return Challenge{Type: "otp"}, nil
			}
		case store.AuthenticatorEmail, store.AuthenticatorSMS:
			if slices.Contains(types, "oob") {
				if err := gate.allow(ctx, Delivery{Channel: channel(a), To: a.Name}); err != nil {
					return Challenge{}, err
				}
				code, err := s.sendCode(ctx, t, a, tenant)
				if err != nil {
					return Challenge{}, err
				}
				return Challenge{Type: "oob", OOBCode: code}, nil
			}
		}
	}
	return Challenge{}, ErrUnsupportedChallenge
}

// sendCode stores a new OOB challenge for a and sends its binding code.
func (s *Service) sendCode(ctx context.Context, t store.MFATransaction, a store.MFAAuthenticator, tenant string) (string, error) {
	if s.sender == nil {
		return "", errors.New("mfa: no sender configured for out-of-band codes")
	}
	raw, hash := newSecret()
	binding := newBindingCode()
	c := store.OOBChallenge{CodeHash: hash, TransactionID: t.ID, AuthenticatorID: a.ID, BindingHash: hashCode(binding),
		ExpiresAt: s.now().Add(OOBLifetime)}
	if err := s.store.CreateOOBChallenge(ctx, c); err != nil {
		return "", err
	}
	if err := s.sender.Send(ctx, Message{Channel: channel(a), To: a.Name, Code: binding, Tenant: tenant}); err != nil {
		return "", err
	}
	return raw, nil
}

// channel is the oob channel of an email or SMS authenticator.
func channel(a store.MFAAuthenticator) string {
	if a.Kind == store.AuthenticatorSMS {
		return "sms"
	}
	return "email"
}

// Result tells what a verified factor did.
type Result struct {
	// Enrolled is set when this use confirmed a pending enrolment.
	Enrolled bool
	// AuthenticatorID is the factor that passed.
	AuthenticatorID string
}

// VerifyOTP checks a TOTP code (RFC 6238 §4) against the user's TOTP authenticators, one step
// of drift either way; a step is accepted once (§5.2).
func (s *Service) VerifyOTP(ctx context.Context, t store.MFATransaction, code string) (Result, error) {
	var res Result
	err := s.attempt(ctx, t.UserID, func() (err error) {
		res, err = s.checkOTP(ctx, t, code)
		return err
	})
	return res, err
}

// checkOTP is VerifyOTP without the attempt limit.
func (s *Service) checkOTP(ctx context.Context, t store.MFATransaction, code string) (Result, error) {
	code = strings.TrimSpace(code)
	auths, err := s.store.ListMFAAuthenticators(ctx, t.UserID)
	if err != nil {
		return Result{}, err
	}
	now := s.now()
	if len(code) == totpDigits && s.box != nil {
		for _, a := range usable(auths) {
			if a.Kind != store.AuthenticatorTOTP {
				continue
			}
			secret, err := s.box.Open(a.SecretSealed, store.MFASecretAAD(a.ID))
			if err != nil {
				return Result{}, fmt.Errorf("mfa: opening TOTP secret: %w", err)
			}
			step, ok := matchStep(string(secret), code, now)
			if !ok {
				continue
			}
			err = s.store.AdvanceTOTPStep(ctx, a.ID, step)
			if errors.Is(err, store.ErrConflict) {
				break // a replayed code counts as a wrong one
			}
			if err != nil {
				return Result{}, err
			}
			return s.passed(ctx, auths, a)
		}
	}
	return Result{}, ErrInvalidOTP
}

// matchStep returns the time step within the skew whose code equals code.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	cur := now.Unix() / totpPeriod
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// VerifyOOB checks an oob_code of this transaction and the binding code the user typed; the
// challenge is then spent.
//
// The oob_code is looked up before an attempt is taken: it is a 256-bit secret that nobody
// guesses, and a stale one says nothing of the binding code. Only the binding code, six
// digits, is checked under the attempt limit.
func (s *Service) VerifyOOB(ctx context.Context, t store.MFATransaction, oobCode, binding string) (Result, error) {
	hash, ok := hashSecret(oobCode)
	if !ok {
		return Result{}, ErrInvalidOOBCode
	}
	c, err := s.store.GetOOBChallenge(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, fmt.Errorf("%w: %w", ErrInvalidOOBCode, err)
	}
	if err != nil {
		return Result{}, err
	}
	if c.TransactionID != t.ID || !c.UsedAt.IsZero() || !s.now().Before(c.ExpiresAt) {
		return Result{}, ErrInvalidOOBCode
	}
	var res Result
	err = s.attempt(ctx, t.UserID, func() (err error) {
		res, err = s.checkBinding(ctx, t, c, binding)
		return err
	})
	return res, err
}

// checkBinding checks the binding code of the OOB challenge c and spends it.
func (s *Service) checkBinding(ctx context.Context, t store.MFATransaction, c store.OOBChallenge, binding string) (Result, error) {
	if subtle.ConstantTimeCompare([]byte(hashCode(strings.TrimSpace(binding))), []byte(c.BindingHash)) != 1 {
		return Result{}, ErrInvalidBinding
	}
	if err := s.store.UseOOBChallenge(ctx, c.CodeHash, s.now()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Result{}, fmt.Errorf("%w: %w", ErrInvalidOOBCode, err)
		}
		return Result{}, err
	}
	auths, err := s.store.ListMFAAuthenticators(ctx, t.UserID)
	if err != nil {
		return Result{}, err
	}
	for _, a := range usable(auths) {
		if a.ID == c.AuthenticatorID {
			return s.passed(ctx, auths, a)
		}
	}
	// The authenticator was removed after the code was sent.
	return Result{}, ErrInvalidOOBCode
}

// VerifyRecoveryCode checks a recovery code; on success it is replaced by the returned one.
func (s *Service) VerifyRecoveryCode(ctx context.Context, t store.MFATransaction, code string) (Result, string, error) {
	var res Result
	var next string
	err := s.attempt(ctx, t.UserID, func() (err error) {
		res, next, err = s.checkRecoveryCode(ctx, t, code)
		return err
	})
	return res, next, err
}

// checkRecoveryCode is VerifyRecoveryCode without the attempt limit.
func (s *Service) checkRecoveryCode(ctx context.Context, t store.MFATransaction, code string) (Result, string, error) {
	auths, err := s.store.ListMFAAuthenticators(ctx, t.UserID)
	if err != nil {
		return Result{}, "", err
	}
	got := hashCode(normalizeRecoveryCode(code))
	for _, a := range confirmed(auths) {
		if a.Kind != store.AuthenticatorRecoveryCode || subtle.ConstantTimeCompare([]byte(got), []byte(a.CodeHash)) != 1 {
			continue
		}
		next := newRecoveryCode()
		err := s.store.ReplaceRecoveryCode(ctx, a.ID, a.CodeHash, hashCode(next))
		if errors.Is(err, store.ErrConflict) {
			break // used concurrently
		}
		if err != nil {
			return Result{}, "", err
		}
		return Result{AuthenticatorID: a.ID}, next, nil
	}
	return Result{}, "", ErrInvalidRecoveryCode
}

// passed confirms a pending enrolment: the authenticator that passed and the recovery code
// issued with it.
func (s *Service) passed(ctx context.Context, auths []store.MFAAuthenticator, a store.MFAAuthenticator) (Result, error) {
	r := Result{AuthenticatorID: a.ID}
	if a.Confirmed {
		return r, nil
	}
	r.Enrolled = true
	for _, b := range auths {
		if b.ID == a.ID || (b.Kind == store.AuthenticatorRecoveryCode && !b.Confirmed) {
			if err := s.store.ConfirmMFAAuthenticator(ctx, b.ID); err != nil {
				return Result{}, err
			}
		}
	}
	return r, nil
}

// attempt runs check, one factor check of the user, under the limit of WIRE.md §4:
// MaxFailures failures, one more allowed every Refill. The attempt is taken from the user's
// bucket before the check, atomically in the store, and given back unless the check failed,
// as guard.Check does for passwords: were failures counted only after the check, a burst of
// parallel guesses would all pass the limit before the first failure was recorded. A refused
// attempt changes nothing, so refusals never lengthen the lockout.
func (s *Service) attempt(ctx context.Context, userID string, check func() error) error {
	key := attemptKey(userID)
	ok, _, _, err := s.store.TakeToken(ctx, key, MaxFailures, Refill, s.now())
	if err != nil {
		return fmt.Errorf("mfa: counting attempt: %w", err)
	}
	if !ok {
		return ErrTooManyAttempts
	}
	err = check()
	if errors.Is(err, ErrInvalidOTP) || errors.Is(err, ErrInvalidBinding) || errors.Is(err, ErrInvalidRecoveryCode) {
		return err // a failure keeps its attempt
	}
	// Passed, or never judged (the store failed): the attempt goes back, even when the
	// client has gone away meanwhile.
	if rerr := s.store.ReturnToken(context.WithoutCancel(ctx), key, Refill, s.now()); rerr != nil {
		return errors.Join(err, fmt.Errorf("mfa: giving back an attempt: %w", rerr))
	}
	return err
}

// attemptKey is the user's bucket of factor attempts among attack protection's buckets.
func attemptKey(userID string) string { return "mfa|" + userID }

// confirmed are the authenticators that passed once.
func confirmed(auths []store.MFAAuthenticator) []store.MFAAuthenticator {
	return slices.DeleteFunc(slices.Clone(auths), func(a store.MFAAuthenticator) bool { return !a.Confirmed })
}

// usable are the authenticators a factor may be checked against: the confirmed ones, or,
// while the user has none, the pending enrolment.
func usable(auths []store.MFAAuthenticator) []store.MFAAuthenticator {
	if c := confirmed(auths); len(c) > 0 {
		return c
	}
	return auths
}

// newSecret returns a random 256-bit token (base64url) and its hex SHA-256.
func newSecret() (raw, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw = base64.RawURLEncoding.EncodeToString(b)
	h, _ := hashSecret(raw)
	return raw, h
}

// hashSecret hashes a token newSecret made; anything of another shape is not one.
func hashSecret(raw string) (string, bool) {
	if len(raw) != 43 {
		return "", false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(raw); err != nil {
		return "", false
	}
	return hashCode(raw), true
}

func hashCode(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func newAuthenticatorID(kind string) string { return store.NewID(kind+"|dev_", 8) }

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newRecoveryCode() string {
	b := make([]byte, recoveryCodeLen)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b[i] = alnum[n.Int64()]
	}
	return string(b)
}

// normalizeRecoveryCode forgives case and the spaces or dashes people type in long codes.
func normalizeRecoveryCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

func newBindingCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func plausibleEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 254 && !strings.ContainsAny(s, " \r\n<>,")
}

func plausiblePhone(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func defaultStr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

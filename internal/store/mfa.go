package store

import (
	"context"
	"time"
)

// Authenticator kinds, the prefix of an authenticator's ID (totp|dev_…).
const (
	AuthenticatorTOTP         = "totp"
	AuthenticatorEmail        = "email"
	AuthenticatorSMS          = "sms"
	AuthenticatorRecoveryCode = "recovery-code"
)

// Tenant MFA policies (Auth0's guardian policies).
const (
	MFANever  = "never"
	MFAAlways = "always"
)

// MFAFactors are the second factors the tenant lets users enrol (Auth0's guardian factors).
// The zero value enables none; package mfa treats an all-false value as OTP with recovery codes.
type MFAFactors struct {
	OTP          bool `json:"otp"`
	Email        bool `json:"email"`
	SMS          bool `json:"sms"`
	RecoveryCode bool `json:"recovery-code"`
}

// MFAAuthenticator is one enrolled (or enrolling) second factor of a user.
type MFAAuthenticator struct {
	// ID is <kind>|dev_<random>, e.g. totp|dev_3f2a….
	ID     string
	UserID string
	// Kind is AuthenticatorTOTP, AuthenticatorEmail, AuthenticatorSMS or AuthenticatorRecoveryCode.
	Kind string
	// Name is the email address or phone number of an OOB authenticator.
	Name string
	// SecretSealed is a TOTP secret sealed with the key-encryption key (see MFASecretAAD).
	SecretSealed []byte
	// CodeHash is the hex SHA-256 of the current recovery code.
	CodeHash string
	// Confirmed is set by the first successful use; unconfirmed authenticators are pending.
	Confirmed bool
	CreatedAt time.Time
	// LastStep is the last TOTP time step accepted (RFC 6238 §5.2: each code is used once).
	LastStep int64
}

// MFATransaction is a login paused for a second factor; its ID is the hash of the mfa_token.
type MFATransaction struct {
	ID         string
	UserID     string
	ClientID   string
	Connection string
	Audience   string
	// Scope is the space-separated scope the paused login was granted.
	Scope     string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	// ConsumedAt is set once the transaction has issued tokens.
	ConsumedAt time.Time
}

// OOBChallenge is a code sent out of band (email, SMS); CodeHash is the hash of the oob_code
// handed to the client, BindingHash the hash of the code sent to the user.
type OOBChallenge struct {
	CodeHash        string
	TransactionID   string
	AuthenticatorID string
	BindingHash     string
	ExpiresAt       time.Time
	UsedAt          time.Time
}

// MFA stores second factors, paused logins and OOB challenges. Only hashes or sealed values
// of secrets are stored.
type MFA interface {
	// CreateMFAAuthenticator fails with ErrConflict when the ID is taken.
	CreateMFAAuthenticator(ctx context.Context, a MFAAuthenticator) error
	GetMFAAuthenticator(ctx context.Context, id string) (MFAAuthenticator, error)
	// ListMFAAuthenticators returns the user's authenticators ordered by creation time.
	ListMFAAuthenticators(ctx context.Context, userID string) ([]MFAAuthenticator, error)
	// ConfirmMFAAuthenticator marks the authenticator confirmed.
	ConfirmMFAAuthenticator(ctx context.Context, id string) error
	// DeleteMFAAuthenticator deletes one authenticator of the user; ErrNotFound if none.
	DeleteMFAAuthenticator(ctx context.Context, userID, id string) error
	// DeleteMFAAuthenticators deletes every authenticator of the user and returns how many.
	DeleteMFAAuthenticators(ctx context.Context, userID string) (int, error)
	// AdvanceTOTPStep records step as used; ErrConflict when that step or a later one was
	// already used. Two concurrent uses of one step: exactly one succeeds.
	AdvanceTOTPStep(ctx context.Context, id string, step int64) error
	// ReplaceRecoveryCode swaps the recovery code hash old for next; ErrConflict when the
	// stored hash is no longer old (the code was used concurrently).
	ReplaceRecoveryCode(ctx context.Context, id, old, next string) error

	CreateMFATransaction(ctx context.Context, t MFATransaction) error
	GetMFATransaction(ctx context.Context, id string) (MFATransaction, error)
	// ConsumeMFATransaction marks the transaction consumed; ErrConflict when it already was.
	ConsumeMFATransaction(ctx context.Context, id string, at time.Time) error

	CreateOOBChallenge(ctx context.Context, c OOBChallenge) error
	GetOOBChallenge(ctx context.Context, codeHash string) (OOBChallenge, error)
	// UseOOBChallenge marks the challenge used; ErrConflict when it already was.
	UseOOBChallenge(ctx context.Context, codeHash string, at time.Time) error

	// DeleteExpiredMFA removes transactions and challenges that expired before t.
	DeleteExpiredMFA(ctx context.Context, before time.Time) (int, error)
}

// MFASecretAAD is the additional data that binds a sealed TOTP secret to its authenticator.
func MFASecretAAD(authenticatorID string) []byte { return []byte("mfa-secret:" + authenticatorID) }

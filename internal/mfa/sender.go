package mfa

import "context"

// Message is a one-time code to deliver to a user out of band.
type Message struct {
	// Channel is "email" or "sms".
	Channel string
	// To is the email address or phone number.
	To string
	// Code is the binding code the user types back.
	Code string
	// Tenant is the tenant's friendly name, for the message text.
	Tenant string
	// Kind names what the code is for: "" for an MFA code, "passwordless" for a passwordless
	// login code, whose connection renders its own message.
	Kind string
	// From, Subject and Text, when Text is set, are the message as the connection's templates
	// rendered it (Text holds the code); HTML says Text is an HTML body. Senders fall back to
	// their own wording when Text is empty.
	From, Subject, Text string
	HTML                bool
}

// Sender delivers out-of-band codes.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Delivery is a code about to be sent out of band, for a SendGate to judge.
type Delivery struct {
	// Channel is "email" or "sms"; To the address or phone number.
	Channel, To string
	// Enrolment is set when To was just given by the caller (POST /mfa/associate), not
	// taken from an authenticator the user already has.
	Enrolment bool
}

// SendGate is asked before each out-of-band code is sent; an error refuses the send and is
// returned as it is, before anything is stored. A send costs the tenant (SMS tolls) and, at
// enrolment, goes wherever a caller who knows only a password says (email bombing), so the
// server limits sends with one (package oauthserver's MFASendLimits). A nil SendGate allows
// every send.
type SendGate func(ctx context.Context, d Delivery) error

func (g SendGate) allow(ctx context.Context, d Delivery) error {
	if g == nil {
		return nil
	}
	return g(ctx, d)
}

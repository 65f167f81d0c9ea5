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
}

// Sender delivers out-of-band codes.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

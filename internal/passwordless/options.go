package passwordless

import (
	"fmt"
	"strings"
	"time"
)

// Strategies of passwordless connections (Auth0's connection.strategy).
const (
	StrategyEmail = "email"
	StrategySMS   = "sms"
)

// IsStrategy reports whether strategy is a passwordless one.
func IsStrategy(strategy string) bool { return strategy == StrategyEmail || strategy == StrategySMS }

// Defaults and bounds of the options, as Auth0 documents them where it does.
const (
	DefaultLength   = 6
	MinLength       = 4
	MaxLength       = 10
	DefaultTimeStep = 180 * time.Second
	// MinTimeStep is the shortest validity Auth0 accepts (totp.time_step ≥ 60).
	MinTimeStep = 60 * time.Second
	MaxTimeStep = 24 * time.Hour
	// MaxAttempts is how many tries one code gets, right or wrong (Auth0: 3).
	MaxAttempts = 3
)

// Default message templates (Liquid syntax, as Auth0 writes them).
const (
	DefaultFrom    = "{{ application.name }} <no-reply@localhost>"
	DefaultSubject = "Your verification code for {{ application.name }}"
	DefaultBody    = "Your verification code for {{ application.name }} is: {{ code }}\n\nIt expires in {{ expires_in_minutes }} minutes. If you did not ask for it, ignore this message.\n"
	DefaultSMS     = "Your verification code is: {{ code }}"
)

// Options are a passwordless connection's settings, read from its Auth0 options:
//
//	options:
//	  totp: {length: 6, time_step: 300}   # digits, validity in seconds (≥ 60)
//	  email:                              # strategy email
//	    from: "{{ application.name }} <login@example.com>"
//	    subject: "Your code for {{ application.name }}"
//	    body: "<p>Your code is {{ code }}</p>"
//	    syntax: liquid
//	  template: "Your code is {{ code }}"  # strategy sms (@@password@@ is accepted too)
//	  disable_signup: false
//	  brute_force_protection: true
type Options struct {
	Length   int
	TimeStep time.Duration
	// From, Subject and Body are the email templates; SMS is the text message template.
	From, Subject, Body string
	SMS                 string
	DisableSignup       bool
	// BruteForceProtection counts failed codes per user and IP under the tenant's brute-force
	// settings (Auth0's default: on).
	BruteForceProtection bool
}

// ParseOptions reads the options of a connection of the given strategy, reporting every
// problem with its path under options. Absent values take their defaults; keys it does not
// know are kept by the caller as they are (Auth0 connections carry many).
func ParseOptions(strategy string, opts map[string]any) (Options, []error) {
	o := Options{Length: DefaultLength, TimeStep: DefaultTimeStep, From: DefaultFrom, Subject: DefaultSubject,
		Body: DefaultBody, SMS: DefaultSMS, BruteForceProtection: true}
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &OptionError{Path: "options." + path, Message: fmt.Sprintf(format, args...)})
	}
	if totp, ok := opts["totp"]; ok && totp != nil {
		m, ok := totp.(map[string]any)
		if !ok {
			bad("totp", "must be an object")
		} else {
			if v, ok := m["length"]; ok && v != nil {
				n, ok := wholeNumber(v)
				if !ok || n < MinLength || n > MaxLength {
					bad("totp.length", "must be a whole number from %d to %d, got %v", MinLength, MaxLength, v)
				} else {
					o.Length = int(n)
				}
			}
			if v, ok := m["time_step"]; ok && v != nil {
				n, ok := wholeNumber(v)
				step := time.Duration(n) * time.Second
				if !ok || step < MinTimeStep || step > MaxTimeStep {
					bad("totp.time_step", "must be a whole number of seconds from %d to %d, got %v", int(MinTimeStep/time.Second), int(MaxTimeStep/time.Second), v)
				} else {
					o.TimeStep = step
				}
			}
		}
	}
	if email, ok := opts["email"]; ok && email != nil {
		m, ok := email.(map[string]any)
		if !ok {
			bad("email", "must be an object")
		} else {
			for _, f := range []struct {
				key string
				dst *string
			}{{"from", &o.From}, {"subject", &o.Subject}, {"body", &o.Body}} {
				if v, ok := m[f.key]; ok && v != nil {
					s, ok := v.(string)
					switch {
					case !ok:
						bad("email."+f.key, "must be a string")
					case f.key != "body" && strings.ContainsAny(s, "\r\n"):
						bad("email."+f.key, "must be one line")
					case s != "":
						*f.dst = s
					}
				}
			}
			if v, ok := m["syntax"]; ok && v != nil && v != "liquid" {
				bad("email.syntax", "only liquid is supported, got %v", v)
			}
		}
	}
	if v, ok := opts["template"]; ok && v != nil {
		s, ok := v.(string)
		switch {
		case !ok:
			bad("template", "must be a string")
		case s != "":
			o.SMS = s
		}
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"disable_signup", &o.DisableSignup}, {"brute_force_protection", &o.BruteForceProtection}} {
		if v, ok := opts[f.key]; ok && v != nil {
			b, ok := v.(bool)
			if !ok {
				bad(f.key, "must be true or false")
			} else {
				*f.dst = b
			}
		}
	}
	if strategy == StrategyEmail && !strings.Contains(liquidVars(o.Body), "code") {
		bad("email.body", "must contain {{ code }}")
	}
	if strategy == StrategySMS && !strings.Contains(liquidVars(o.SMS), "code") && !strings.Contains(o.SMS, "@@password@@") {
		bad("template", "must contain {{ code }}")
	}
	return o, errs
}

// OptionError is one problem with a connection's options; Path is e.g. "options.totp.length".
type OptionError struct {
	Path, Message string
}

func (e *OptionError) Error() string { return e.Path + ": " + e.Message }

// wholeNumber reads a JSON or YAML number (float64 from JSON, int from YAML).
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

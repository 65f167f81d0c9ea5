package passwordless

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
)

// ErrBadRecipient is returned for an email address or phone number that cannot be one.
var ErrBadRecipient = errors.New("passwordless: not a valid recipient")

// MaxEmailLength is RFC 5321's limit on a forward path (§4.5.3.1.3).
const MaxEmailLength = 254

// e164 is an international phone number: +, a country code and up to 15 digits in all (ITU-T E.164).
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// NormalizeEmail returns the address in the form codes are keyed by (lower case, trimmed), or
// ErrBadRecipient for anything but one bare address.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxEmailLength || strings.ContainsAny(s, "<>\r\n\t ,;\"") {
		return "", ErrBadRecipient
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", ErrBadRecipient
	}
	return strings.ToLower(s), nil
}

// NormalizePhone returns the number in E.164 (+ and digits; spaces, dots, hyphens and
// parentheses dropped), or ErrBadRecipient.
func NormalizePhone(s string) (string, error) {
	if len(s) > 32 {
		return "", ErrBadRecipient
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if !e164.MatchString(s) {
		return "", ErrBadRecipient
	}
	return s, nil
}

// Normalize normalises a recipient of a connection of the given strategy.
func Normalize(strategy, s string) (string, error) {
	if strategy == StrategySMS {
		return NormalizePhone(s)
	}
	return NormalizeEmail(s)
}

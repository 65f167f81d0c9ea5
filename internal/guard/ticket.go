package guard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// UnblockTicketTTL is how long an unblock link works. A block lasts up to 30 days, but a link
// lying in a mailbox for weeks is a link someone else may find: a day is long enough to read
// one's mail.
const UnblockTicketTTL = 24 * time.Hour

// maxTicketLen bounds the input ParseTicket looks at; real tickets are about 150 bytes.
const maxTicketLen = 1024

// ErrBadTicket is returned for an unblock ticket that is malformed, forged or expired. One
// error for all: the page that shows it must not help anyone forge one.
var ErrBadTicket = errors.New("guard: invalid or expired unblock ticket")

// Ticket is what an unblock link carries: whose block it releases, its own id (so that it
// can be used once) and when it expires.
type Ticket struct {
	UserID    string
	ID        string
	ExpiresAt time.Time
}

type ticketBody struct {
	Sub string `json:"sub"`
	JTI string `json:"jti"`
	Exp int64  `json:"exp"`
}

// ticketMACPrefix binds the MAC to this use, so that a MAC made with the same key for
// anything else can never pass as an unblock ticket.
const ticketMACPrefix = "sesame-unblock-v1."

// MintTicket returns a signed unblock ticket for the user, valid for ttl from now: the
// base64url JSON body, a dot, and the base64url HMAC-SHA256 of the body under key. It is
// self-contained, so any node of a cluster that shares the key can check it; it is made
// single-use by recording its ID when it is redeemed (store.Replay).
func MintTicket(key []byte, userID string, now time.Time, ttl time.Duration) (string, Ticket) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	t := Ticket{UserID: userID, ID: hex.EncodeToString(id[:]), ExpiresAt: now.Add(ttl).Truncate(time.Second)}
	body, _ := json.Marshal(ticketBody{Sub: t.UserID, JTI: t.ID, Exp: t.ExpiresAt.Unix()})
	b64 := base64.RawURLEncoding.EncodeToString(body)
	return b64 + "." + base64.RawURLEncoding.EncodeToString(ticketMAC(key, b64)), t
}

// ParseTicket checks a ticket's signature (in constant time) and expiry at now and returns
// what it carries; anything wrong is ErrBadTicket.
func ParseTicket(key []byte, s string, now time.Time) (Ticket, error) {
	if len(s) > maxTicketLen {
		return Ticket{}, ErrBadTicket
	}
	b64, sig, ok := strings.Cut(s, ".")
	if !ok {
		return Ticket{}, ErrBadTicket
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(mac, ticketMAC(key, b64)) {
		return Ticket{}, ErrBadTicket
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(b64)
	if err != nil {
		return Ticket{}, ErrBadTicket
	}
	var body ticketBody
	if err := json.Unmarshal(raw, &body); err != nil || body.Sub == "" || body.JTI == "" {
		return Ticket{}, ErrBadTicket
	}
	t := Ticket{UserID: body.Sub, ID: body.JTI, ExpiresAt: time.Unix(body.Exp, 0).UTC()}
	if !now.Before(t.ExpiresAt) {
		return Ticket{}, ErrBadTicket
	}
	return t, nil
}

func ticketMAC(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ticketMACPrefix))
	m.Write([]byte(body))
	return m.Sum(nil)
}

package oauthserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/store"
)

// PasswordlessSendLimits bound the passwordless codes POST /passwordless/start sends. The
// endpoint mails or texts whoever the caller names, so without limits it would let anyone
// mail-bomb an address or run up the tenant's SMS bill. A field at 0 takes its default; a
// negative one turns that limit off. The buckets are counters in the store, so the limits hold
// for a cluster as a whole, and each send takes its tokens before anything is sent.
type PasswordlessSendLimits struct {
	// PerRecipientPerHour is how many codes one address or number may be sent an hour, per
	// connection (default 5), all of which may come at once.
	PerRecipientPerHour int
	// PerIPPerHour is how many codes requests from one IP address may have sent an hour
	// (default 50): the end user's address when a trusted client forwards it. IPv6 addresses
	// count per network (Config.IPv6ClientPrefix).
	PerIPPerHour int
}

// The defaults of PasswordlessSendLimits.
const (
	DefaultPasswordlessSendsPerRecipientPerHour = 5
	DefaultPasswordlessSendsPerIPPerHour        = 50
)

// Errors of POST /passwordless/start. Auth0 answers this endpoint's own refusals with
// error codes of the form bad.<parameter>; the descriptions are Decisions (Auth0's public
// record names the codes, not every text).
var (
	errBadEmail = oauthErr(http.StatusBadRequest, "bad.email", "email is not a valid email address.")
	errBadPhone = oauthErr(http.StatusBadRequest, "bad.phone_number", "phone_number is not a valid phone number: use the international format (E.164), e.g. +14155550100.")
	// errPasswordlessLink refuses magic links: a link is opened in a browser and ends in the
	// authorization code flow (/authorize), which this server, built for the token endpoint
	// flows, does not serve.
	errPasswordlessLink = oauthErr(http.StatusBadRequest, "bad.send",
		"send must be code: magic links need a browser flow (/authorize), which this server does not serve. Ask for send: code and exchange the code with the passwordless/otp grant.")
)

func errBadConnection(description string) *Error {
	return oauthErr(http.StatusBadRequest, "bad.connection", description)
}

// maxStartBody bounds a start request; a real one is a few hundred bytes (a client
// assertion a few KiB).
const maxStartBody = maxBodyBytes

// parseStartParams reads a start request: the same form or JSON body as the token endpoint,
// except that a JSON body may carry authParams, an object (Auth0's SDKs send it; its scope and
// state matter only to magic links, so it is read and set aside).
func parseStartParams(r *http.Request) (params, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" || r.Body == nil {
		return parseParams(r)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxStartBody))
	if err != nil {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: "Request body too large."}
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, errInvalidRequest("Malformed JSON body: a JSON object is expected.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errInvalidRequest("Malformed JSON body: a JSON object is expected.")
	}
	if ap, ok := fields["authParams"]; ok {
		if t := bytes.TrimSpace(ap); len(t) > 0 && t[0] != '{' && !bytes.Equal(t, []byte("null")) {
			return nil, errInvalidRequest("Invalid value for parameter 'authParams': an object is expected.")
		}
		delete(fields, "authParams")
	}
	flat, err := json.Marshal(fields)
	if err != nil {
		return nil, errInvalidRequest("Malformed JSON body.")
	}
	return parseJSONParams(flat)
}

// startResponse is Auth0's answer to a start: the id of the request and the recipient.
// Decision: email_verified (phone_verified) is always false. It says whether the recipient
// has proven it holds the address, which it has not until the code comes back; answering true
// for known users would tell anyone which addresses have accounts.
type startResponse struct {
	ID            string `json:"_id"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	PhoneNumber   string `json:"phone_number,omitempty"`
	PhoneVerified *bool  `json:"phone_verified,omitempty"`
}

// handlePasswordlessStart serves POST /passwordless/start: it sends a one-time code to an
// email address or phone number of a passwordless connection.
func (s *Server) handlePasswordlessStart(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{r: r, header: w.Header(), peer: peerIP(r), ip: peerIP(r), grantType: "passwordless-start"}
	resp, err := s.startPasswordless(r.Context(), ex)
	ex.rate.header(w.Header())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) startPasswordless(ctx context.Context, ex *exchange) (*startResponse, error) {
	p, err := parseStartParams(ex.r)
	if err != nil {
		return nil, err
	}
	ex.p = p
	ex.client, err = s.authenticateClient(ctx, ex.r, p)
	if err == nil {
		ex.ip = endUserIP(ex.r, ex.client)
		err = s.allowOrigin(ex.header, ex.r, ex.client.Client)
	}
	// The token endpoint's request rate limits hold here too (they are the Authentication
	// API's), before any other work.
	if lerr := s.limitRequest(ctx, ex, err == nil); lerr != nil {
		return nil, lerr
	}
	if err != nil {
		return nil, err
	}
	// Only a client allowed to redeem codes may have them sent.
	if !slices.Contains(ex.client.GrantTypes, grantPasswordlessOTP) {
		return nil, errGrantNotAllowed(grantPasswordlessOTP)
	}
	name, err := p.require("connection")
	if err != nil {
		return nil, errBadConnection("Missing required parameter: connection")
	}
	conn, err := s.store.GetConnection(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !passwordless.IsStrategy(conn.Strategy)) {
		return nil, errBadConnection("Connection does not exist or is not a passwordless connection: " + safeName(name))
	}
	if err != nil {
		return nil, err
	}
	ex.connection = conn
	if !slices.Contains(conn.EnabledClients, ex.client.ClientID) {
		return nil, errBadConnection("The connection is not enabled for this client.")
	}
	opts, errs := passwordless.ParseOptions(conn.Strategy, conn.Options)
	if len(errs) > 0 {
		return nil, errors.Join(errs...) // stored options are checked on write; a 500 if not
	}
	var recipient string
	resp := &startResponse{ID: store.NewID("", 12)}
	no := false
	switch conn.Strategy {
	case passwordless.StrategyEmail:
		// Auth0 sends a magic link when send is absent; only codes are served here.
		if send := p.get("send"); send != "code" {
			return nil, errPasswordlessLink
		}
		if recipient, err = passwordless.NormalizeEmail(p.get("email")); err != nil {
			return nil, errBadEmail
		}
		resp.Email, resp.EmailVerified = recipient, &no
	default:
		if send := p.get("send"); send != "" && send != "code" {
			return nil, errPasswordlessLink
		}
		if recipient, err = passwordless.NormalizePhone(p.get("phone_number")); err != nil {
			return nil, errBadPhone
		}
		resp.PhoneNumber, resp.PhoneVerified = recipient, &no
	}
	if ex.tenant, err = s.store.GetTenant(ctx); err != nil {
		return nil, err
	}
	ex.user.Email = recipient
	// The send is counted before anything else is done for it, so that a burst sends no more
	// than the buckets hold.
	if err := s.takePasswordlessSend(ctx, ex, recipient); err != nil {
		return nil, err
	}
	// With signups off, a recipient who is nobody's is sent no code, and gets the same answer
	// after the same work (a code is stored all the same; the grant refuses strangers): the
	// answer must not tell which addresses have accounts.
	stranger := false
	if opts.DisableSignup {
		_, err := s.store.FindUser(ctx, conn.Name, recipient)
		if stranger = errors.Is(err, store.ErrNotFound); err != nil && !stranger {
			return nil, err
		}
	}
	code, err := s.codes.Issue(ctx, conn.Name, recipient, opts)
	if err != nil {
		return nil, err
	}
	if stranger {
		s.emit(ex, "fs", "Public signup is disabled")
		return resp, nil
	}
	s.sendPasswordlessCode(conn, opts, ex.client.Name, ex.client.ClientID, recipient, code)
	typ, what := "cls", "Passwordless login code has been sent by email"
	if conn.Strategy == passwordless.StrategySMS {
		typ, what = "cs", "Passwordless login code has been sent by SMS"
	}
	s.emit(ex, typ, what)
	return resp, nil
}

// takePasswordlessSend takes one send from the IP's bucket, then the recipient's; a full one
// answers 429 too_many_requests, logged as api_limit.
func (s *Server) takePasswordlessSend(ctx context.Context, ex *exchange, recipient string) error {
	l := s.pwlSends
	if r := guard.PerHour(sendLimit(l.PerIPPerHour, DefaultPasswordlessSendsPerIPPerHour)); r.On() {
		if err := s.takeRate(ctx, ex, "pwlsend|"+s.guard.IPRateKey(ex.ip), r, "Too many passwordless codes sent for this IP address"); err != nil {
			return err
		}
	}
	if r := guard.PerHour(sendLimit(l.PerRecipientPerHour, DefaultPasswordlessSendsPerRecipientPerHour)); r.On() {
		key := "pwlsend|to|" + ex.connection.Name + "|" + recipient
		if err := s.takeRate(ctx, ex, key, r, "Too many passwordless codes sent to this recipient"); err != nil {
			return err
		}
	}
	return nil
}

// sendPasswordlessCode delivers the code in the message the connection's templates make, in
// the background: the answer then takes the same time whether or not a code went out, and a
// slow relay holds no request. A failure is logged without the code.
func (s *Server) sendPasswordlessCode(conn store.Connection, o passwordless.Options, appName, clientID, recipient, code string) {
	v := passwordless.Vars{Code: code, ApplicationName: appName, ClientID: clientID, Connection: conn.Name, TimeStep: o.TimeStep}
	m := mfa.Message{Channel: conn.Strategy, To: recipient, Code: code, Kind: "passwordless"}
	if conn.Strategy == passwordless.StrategySMS {
		v.PhoneNumber = recipient
		m.Text = passwordless.Render(o.SMS, v, false)
	} else {
		v.Email = recipient
		m.From = passwordless.OneLine(passwordless.Render(o.From, v, false))
		m.Subject = passwordless.OneLine(passwordless.Render(o.Subject, v, false))
		m.HTML = passwordless.IsHTML(o.Body)
		m.Text = passwordless.Render(o.Body, v, m.HTML)
	}
	s.sending.add()
	go func() {
		defer s.sending.done()
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		defer cancel()
		if err := s.sender.Send(ctx, m); err != nil {
			s.log.Warn("passwordless code not delivered", "connection", conn.Name, "channel", m.Channel, "err", err)
		}
	}()
}

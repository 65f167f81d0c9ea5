package oauthserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/store"
)

// MFA grant types of WIRE.md §1 and §4.
const (
	grantMFAOTP          = "http://auth0.com/oauth/grant-type/mfa-otp"
	grantMFAOOB          = "http://auth0.com/oauth/grant-type/mfa-oob"
	grantMFARecoveryCode = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
)

// mfaGate pauses a login that needs a second factor: the client gets mfa_required and an
// mfa_token to resume the login with an MFA grant.
//
// A password login needs one under the tenant policy always, or when a Rule or Action asks
// (context.multifactor, api.multifactor.enable). A refresh exchange is not held to the tenant
// policy (its family was issued after MFA if the login needed it), but a Rule or Action that
// asks for MFA on it is obeyed, never ignored: the exchange fails closed with the same 403
// mfa_required (+ mfa_token, mfa_requirements) as a password login, and spends nothing (the
// dispatcher redeems the refresh token only after this gate). This is Auth0's answer: its
// "Use refresh tokens" page (auth0.com/docs/secure/tokens/refresh-tokens/use-refresh-tokens)
// says an MFA-enabling Action makes the refresh exchange fail unless it returns early for
// event.transaction.protocol "oauth2-refresh-token", and that the refresh token flow returns
// mfa_required with an mfa_token for the MFA API; auth0/docs#3943 ("MFA is now supported in
// /oauth/token with grant_type:refresh_token"); Auth0.Android#562 and auth0-react#501 show
// SDKs receiving "403 mfa_required" from a refresh. Decision: the MFA grant that completes
// such a transaction resumes it like a paused password login: new tokens, and a new refresh
// family when offline_access was granted; the presented refresh token is left as it was.
func (s *Server) mfaGate(ctx context.Context, ex *exchange) error {
	need := false
	switch ex.grantType {
	case grantPassword, grantPasswordRealm, grantPasswordlessOTP:
		need = ex.mfaRequired || ex.tenant.MFAPolicy == store.MFAAlways
	case grantRefreshToken:
		need = ex.mfaRequired
	}
	if !need {
		return nil
	}
	t := store.MFATransaction{UserID: ex.user.UserID, ClientID: ex.client.ClientID, Connection: ex.connection.Name,
		Scope: strings.Join(ex.scopes, " "), AuthTime: ex.authTime}
	if ex.api != nil {
		t.Audience = ex.api.Identifier
	}
	raw, err := s.mfa.Start(ctx, t)
	if err != nil {
		return err
	}
	req, err := s.mfa.Requirements(ctx, ex.user.UserID, ex.tenant.MFAFactors)
	if err != nil {
		return err
	}
	s.emit(ex, "mfar", "Multifactor authentication required")
	e := *errMFARequired
	e.Extra = map[string]any{"mfa_token": raw, "mfa_requirements": req}
	return &e
}

// mfaGrant serves Auth0's three MFA grants: each resumes a login paused by mfaGate once the
// user passes a factor. kind is "otp", "oob" or "recovery-code".
type mfaGrant struct {
	s    *Server
	kind string
}

func (g mfaGrant) events() (string, string) {
	switch g.kind {
	case "otp":
		return "seotpft", "feotpft"
	case "oob":
		return "seoobft", "feoobft"
	}
	return "sercft", "fercft"
}

// realm resumes the MFA transaction: the login's connection is the realm.
func (g mfaGrant) realm(ctx context.Context, ex *exchange) (string, *Error, error) {
	raw, err := ex.p.require("mfa_token")
	if err != nil {
		return "", nil, err
	}
	t, err := g.s.mfaTransaction(ctx, raw, ex.client.ClientID)
	if err != nil {
		return "", nil, err
	}
	ex.mfaTx = &t
	return t.Connection, errMFAMalformed, nil
}

func (g mfaGrant) login(ctx context.Context, ex *exchange) error {
	s := g.s
	t := *ex.mfaTx
	if err := s.currentUser(ctx, ex, t.UserID, errMFAMalformed, errUserBlocked); err != nil {
		return err
	}
	var res mfa.Result
	switch g.kind {
	case "otp":
		code, err := ex.p.require("otp")
		if err != nil {
			return err
		}
		res, err = s.mfa.VerifyOTP(ctx, t, code)
		if err != nil {
			return s.mfaFailed(ex, err)
		}
	case "oob":
		oob, err := ex.p.require("oob_code")
		if err != nil {
			return err
		}
		// Email and SMS codes are always bound with binding_method prompt.
		binding, err := ex.p.require("binding_code")
		if err != nil {
			return err
		}
		if res, err = s.mfa.VerifyOOB(ctx, t, oob, binding); err != nil {
			return s.mfaFailed(ex, err)
		}
	default:
		code, err := ex.p.require("recovery_code")
		if err != nil {
			return err
		}
		if res, ex.recoveryCode, err = s.mfa.VerifyRecoveryCode(ctx, t, code); err != nil {
			return s.mfaFailed(ex, err)
		}
	}
	// The transaction is spent before tokens are minted: of two concurrent grants with
	// different valid codes only one issues tokens.
	if err := s.mfa.Consume(ctx, t); err != nil {
		return mfaErr(err)
	}
	switch {
	case res.Enrolled:
		s.emit(ex, "gd_enrollment_complete", "Guardian - Enrollment complete")
	case g.kind == "recovery-code":
		s.emit(ex, "gd_recovery_succeed", "Recovery succeed")
	default:
		s.emit(ex, "gd_auth_succeed", "Second factor authentication succeeded")
	}
	if t.Audience != "" {
		api, err := s.store.GetResourceServer(ctx, t.Audience)
		if err != nil {
			return storeErr(err, errServiceNotFound(safeName(t.Audience)))
		}
		ex.api = &api
	}
	ex.scopes = splitScope(t.Scope)
	if ex.api != nil && ex.api.EnforcePolicies {
		_, ex.perms = grantScopes(nil, ex.api, ex.user.Permissions, ex.client.Client)
	}
	ex.authTime, ex.amr = t.AuthTime, []string{"mfa"}
	return nil
}

// mfaFailed logs a failed factor and maps it to its wire error.
func (s *Server) mfaFailed(ex *exchange, err error) error {
	switch {
	case errors.Is(err, mfa.ErrTooManyAttempts):
		s.emit(ex, "gd_otp_rate_limit_exceed", "Too many failed codes")
	case errors.Is(err, mfa.ErrInvalidRecoveryCode):
		s.emit(ex, "gd_recovery_failed", "Invalid recovery code")
	case errors.Is(err, mfa.ErrInvalidOTP), errors.Is(err, mfa.ErrInvalidBinding), errors.Is(err, mfa.ErrInvalidOOBCode):
		s.emit(ex, "gd_auth_failed", "Second factor authentication failed")
	}
	return mfaErr(err)
}

// mfaTransaction resolves an mfa_token presented by clientID.
func (s *Server) mfaTransaction(ctx context.Context, raw, clientID string) (store.MFATransaction, error) {
	t, err := s.mfa.Transaction(ctx, raw)
	if err != nil {
		return t, mfaErr(err)
	}
	if t.ClientID != clientID {
		return t, errMFAMalformed.withCause(errors.New("mfa_token of another client"))
	}
	return t, nil
}

// mfaErr maps package mfa's errors to WIRE.md §4's; others pass through.
func mfaErr(err error) error {
	switch {
	case errors.Is(err, mfa.ErrMalformedToken):
		return errMFAMalformed.withCause(err)
	case errors.Is(err, mfa.ErrExpiredToken):
		return errMFAExpired.withCause(err)
	case errors.Is(err, mfa.ErrInvalidOTP):
		return errMFAInvalidOTP.withCause(err)
	case errors.Is(err, mfa.ErrInvalidBinding):
		return errMFAInvalidBinding.withCause(err)
	case errors.Is(err, mfa.ErrInvalidOOBCode):
		return errMFAInvalidOOB.withCause(err)
	case errors.Is(err, mfa.ErrInvalidRecoveryCode):
		return errMFAInvalidRecovery.withCause(err)
	case errors.Is(err, mfa.ErrTooManyAttempts):
		return errMFATooManyAttempts.withCause(err)
	case errors.Is(err, mfa.ErrUnsupportedChallenge):
		return errMFAUnsupportedChallenge.withCause(err)
	case errors.Is(err, mfa.ErrAlreadyEnrolled):
		return errMFAAlreadyEnrolled.withCause(err)
	case errors.Is(err, mfa.ErrConfirmed):
		return errMFAConfirmed.withCause(err)
	case errors.Is(err, mfa.ErrFactorDisabled), errors.Is(err, mfa.ErrBadRequest):
		return errInvalidRequest("Invalid authenticator: " + strings.TrimPrefix(err.Error(), "mfa: ")).withCause(err)
	}
	return err
}

// bearerTransaction resolves the mfa_token of an Authorization: Bearer header (RFC 6750 §2.1).
func (s *Server) bearerTransaction(r *http.Request) (store.MFATransaction, error) {
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return store.MFATransaction{}, errMFAMissingBearer
	}
	t, err := s.mfa.Transaction(r.Context(), strings.TrimSpace(raw))
	if err != nil {
		return t, mfaErr(err)
	}
	return t, nil
}

// authenticatorJSON is one entry of GET /mfa/authenticators.
type authenticatorJSON struct {
	ID                string `json:"id"`
	AuthenticatorType string `json:"authenticator_type"`
	Active            bool   `json:"active"`
	OOBChannel        string `json:"oob_channel,omitempty"`
	Name              string `json:"name,omitempty"`
	CreatedAt         string `json:"created_at,omitempty"`
}

func toAuthenticatorJSON(a store.MFAAuthenticator) authenticatorJSON {
	j := authenticatorJSON{ID: a.ID, Active: a.Confirmed, CreatedAt: a.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")}
	switch a.Kind {
	case store.AuthenticatorTOTP:
		j.AuthenticatorType = "otp"
	case store.AuthenticatorEmail, store.AuthenticatorSMS:
		j.AuthenticatorType, j.OOBChannel, j.Name = "oob", a.Kind, maskName(a.Kind, a.Name)
	default:
		j.AuthenticatorType = a.Kind
	}
	return j
}

// maskName shows enough of an email address or phone number to recognise it (a…@example.com,
// XXXXXXXX0100) without disclosing it to a holder of the password alone.
func maskName(kind, name string) string {
	if kind == store.AuthenticatorEmail {
		local, domain, ok := strings.Cut(name, "@")
		if !ok || local == "" {
			return "…"
		}
		return local[:1] + "…@" + domain
	}
	if len(name) <= 4 {
		return name
	}
	return strings.Repeat("X", len(name)-4) + name[len(name)-4:]
}

// handleListAuthenticators serves GET /mfa/authenticators.
func (s *Server) handleListAuthenticators(w http.ResponseWriter, r *http.Request) {
	t, err := s.bearerTransaction(r)
	if err == nil {
		err = s.allowOriginOf(r.Context(), w.Header(), r, t.ClientID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	auths, err := s.mfa.Authenticators(r.Context(), t.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]authenticatorJSON, 0, len(auths))
	for _, a := range auths {
		out = append(out, toAuthenticatorJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleDeleteAuthenticator serves DELETE /mfa/authenticators/{id}.
func (s *Server) handleDeleteAuthenticator(w http.ResponseWriter, r *http.Request) {
	t, err := s.bearerTransaction(r)
	if err == nil {
		err = s.allowOriginOf(r.Context(), w.Header(), r, t.ClientID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.mfa.Remove(r.Context(), t.UserID, r.PathValue("id")); err != nil {
		s.writeError(w, r, storeErr(mfaErr(err), errAuthenticatorNotFound))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// associateRequest is a POST /mfa/associate body.
type associateRequest struct {
	AuthenticatorTypes []string `json:"authenticator_types"`
	OOBChannels        []string `json:"oob_channels"`
	Email              string   `json:"email"`
	PhoneNumber        string   `json:"phone_number"`
	ClientID           string   `json:"client_id"`
	ClientSecret       string   `json:"client_secret"`
}

// maxAssociateBody bounds the associate body; a real one is a few hundred bytes.
const maxAssociateBody = 16 << 10

// parseAssociate reads a JSON or form associate body; in a form, list parameters may be
// repeated or space-separated.
func parseAssociate(contentType string, body []byte) (associateRequest, error) {
	var req associateRequest
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return req, errInvalidRequest("Malformed form body.")
		}
		for _, s := range v["authenticator_types"] {
			req.AuthenticatorTypes = append(req.AuthenticatorTypes, strings.Fields(s)...)
		}
		for _, s := range v["oob_channels"] {
			req.OOBChannels = append(req.OOBChannels, strings.Fields(s)...)
		}
		req.Email, req.PhoneNumber = v.Get("email"), v.Get("phone_number")
		req.ClientID, req.ClientSecret = v.Get("client_id"), v.Get("client_secret")
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&req); err != nil {
			return req, errInvalidRequest("Malformed JSON body.")
		}
		if _, err := dec.Token(); err != io.EOF {
			return req, errInvalidRequest("Malformed JSON body.")
		}
	}
	if len(req.AuthenticatorTypes) == 0 {
		return req, errMissing("authenticator_types")
	}
	return req, nil
}

type associateResponse struct {
	AuthenticatorType string   `json:"authenticator_type"`
	Secret            string   `json:"secret,omitempty"`
	BarcodeURI        string   `json:"barcode_uri,omitempty"`
	OOBChannel        string   `json:"oob_channel,omitempty"`
	OOBCode           string   `json:"oob_code,omitempty"`
	BindingMethod     string   `json:"binding_method,omitempty"`
	RecoveryCodes     []string `json:"recovery_codes,omitempty"`
}

// handleAssociate serves POST /mfa/associate: it enrols a pending authenticator, confirmed
// by the first MFA grant that passes with it.
func (s *Server) handleAssociate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, err := s.bearerTransaction(r)
	if err == nil {
		err = s.allowOriginOf(r.Context(), w.Header(), r, t.ClientID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAssociateBody))
	if err != nil {
		s.writeError(w, r, errInvalidRequest("Request body too large."))
		return
	}
	req, err := parseAssociate(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant, err := s.store.GetTenant(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ex := &exchange{r: r, peer: peerIP(r), ip: peerIP(r), grantType: "mfa-associate"}
	ex.client.ClientID, ex.user.UserID = t.ClientID, t.UserID
	account := t.UserID
	// The account name of an authenticator app is a nicety: without the user's profile (a
	// directory that cannot answer now), the user id does.
	if err := s.useRealm(ctx, ex, t.Connection, errMFAMalformed); err == nil {
		if u, err := ex.dir.Lookup(ctx, t.UserID); err == nil {
			ex.user = u
			account = defaultString(u.Email, defaultString(u.Username, u.UserID))
		}
	}
	en, err := s.mfa.Associate(ctx, t, mfa.EnrolRequest{Types: req.AuthenticatorTypes, Channels: req.OOBChannels,
		Email: req.Email, Phone: req.PhoneNumber, Issuer: defaultString(tenant.FriendlyName, "Sesame"), Account: account,
		Factors: tenant.MFAFactors, Gate: s.mfaSendGate(ex, t)})
	ex.rate.header(w.Header())
	if err != nil {
		s.writeError(w, r, mfaErr(err))
		return
	}
	s.emit(ex, "gd_start_enroll", fmt.Sprintf("Guardian - Enrollment started (%s)", en.Type))
	resp := associateResponse{AuthenticatorType: en.Type, Secret: en.Secret, BarcodeURI: en.BarcodeURI,
		OOBChannel: en.Channel, OOBCode: en.OOBCode, RecoveryCodes: en.RecoveryCodes}
	if en.Type == "oob" {
		resp.BindingMethod = "prompt"
	}
	writeJSON(w, http.StatusOK, resp)
}

type challengeResponse struct {
	ChallengeType string `json:"challenge_type"`
	OOBCode       string `json:"oob_code,omitempty"`
	BindingMethod string `json:"binding_method,omitempty"`
}

// handleChallenge serves POST /mfa/challenge: which factor the client should ask the user
// for, sending an email or SMS code when that is the one.
func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := parseParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := s.authenticateClient(ctx, r, p)
	if err == nil {
		err = s.allowOrigin(w.Header(), r, client.Client)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	raw, err := p.require("mfa_token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.mfaTransaction(ctx, raw, client.ClientID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	types := strings.Fields(p.get("challenge_type"))
	if len(types) == 0 {
		types = []string{"otp", "oob"}
	}
	tenant, err := s.store.GetTenant(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ex := &exchange{r: r, p: p, peer: peerIP(r), ip: endUserIP(r, client), grantType: "mfa-challenge", client: client}
	ex.user.UserID = t.UserID
	ch, err := s.mfa.Challenge(ctx, t, types, p.get("authenticator_id"), defaultString(tenant.FriendlyName, "Sesame"), s.mfaSendGate(ex, t))
	ex.rate.header(w.Header())
	if err != nil {
		s.writeError(w, r, mfaErr(err))
		return
	}
	resp := challengeResponse{ChallengeType: ch.Type, OOBCode: ch.OOBCode}
	if ch.Type == "oob" {
		resp.BindingMethod = "prompt"
	}
	writeJSON(w, http.StatusOK, resp)
}

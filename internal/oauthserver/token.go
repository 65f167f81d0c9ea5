package oauthserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// Grant types of WIRE.md §1.
const (
	grantPassword      = "password"
	grantPasswordRealm = "http://auth0.com/oauth/grant-type/password-realm"
	grantRefreshToken  = "refresh_token"
)

// grant is what is unique to one grant type: establishing who the user is and what they were
// granted. Everything shared (parsing, client authentication, the grant-type check, issuance,
// logging) is the dispatcher's.
type grant interface {
	// realm names the connection the grant works in, whose directory the dispatcher resolves
	// into ex.connection and ex.dir before login, and the answer when it does not exist; ""
	// for a grant without a user (client_credentials). It may read what it needs to know the
	// realm (a refresh token's family) and leave it in the exchange for login.
	realm(ctx context.Context, ex *exchange) (name string, notFound *Error, err error)
	login(ctx context.Context, ex *exchange) error
	// events are the tenant log codes for success and failure.
	events() (success, failure string)
}

// exchange is one token request as it moves through the pipeline.
type exchange struct {
	r         *http.Request
	header    http.Header // the response's headers (CORS is decided once the client is known)
	p         params
	grantType string
	client    authenticatedClient
	tenant    store.Tenant
	ip        string // the end user's IP (see endUserIP)
	peer      string // the TCP peer

	// Set by the grant's realm for its login: the refresh token presented, the MFA
	// transaction resumed.
	presented *presentedRefresh
	mfaTx     *store.MFATransaction

	// Set by the grant's login.
	user directory.Identity
	// subject is the access token's sub when no user logged in (CLIENT_ID@clients).
	subject    string
	connection store.Connection
	dir        directory.Directory   // the connection's directory (set with connection)
	api        *store.ResourceServer // nil: a token for /userinfo only
	scopes     []string              // granted scopes, in response order
	perms      []string              // RBAC permissions claim; nil when not applicable
	authTime   time.Time
	amr        []string             // authentication methods; Auth0 sends amr only after MFA ("mfa")
	family     *store.RefreshFamily // the refresh family continued by a refresh grant
	refresh    string               // a refresh token already minted by the grant (rotation)
	// spend, when set, consumes what the grant redeemed (a refresh token). The dispatcher
	// calls it after every stage that can refuse the exchange (Rules, Actions, the MFA gate),
	// so that a refused exchange spends nothing.
	spend func(ctx context.Context) error

	// Set by the post-login stages (Rules and Actions, the MFA gate).
	accessClaims map[string]any // custom claims for the access token, already filtered
	idClaims     map[string]any // custom claims for the ID token, already filtered
	mfaRequired  bool           // a second factor must be passed before tokens are issued
	// recoveryCode is the recovery code that replaces the one a recovery-code grant used.
	recoveryCode string
	// requestedScope is what the client asked for, for logs.
	requestedScope string
	// hookRuns are the Rules and Actions executed, for the tenant log's details.actions.
	hookRuns []hooks.Execution
	// rate is what the X-RateLimit-* headers report (see limitRequest).
	rate rateNote
}

// tokenResponse is RFC 6749 §5.1's successful response, with Auth0's fields.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
	// RecoveryCode is the new recovery code after the mfa-recovery-code grant.
	RecoveryCode string `json:"recovery_code,omitempty"`
}

// handleToken is the token endpoint dispatcher (RFC 6749 §3.2).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ex := &exchange{r: r, header: w.Header(), peer: peerIP(r), ip: peerIP(r)}
	resp, g, err := s.exchangeToken(ctx, ex)
	ex.rate.header(w.Header())
	if err != nil {
		// A login paused for MFA has not failed: mfaGate logged mfar.
		if g != nil && asError(err).Code != errMFARequired.Code {
			_, failure := g.events()
			s.emit(ex, failure, asError(err).Description)
		}
		s.writeError(w, r, err)
		s.observe(ex, err)
		return
	}
	success, _ := g.events()
	s.emit(ex, success, "")
	writeJSON(w, http.StatusOK, resp)
	s.observe(ex, nil)
}

func (s *Server) exchangeToken(ctx context.Context, ex *exchange) (*tokenResponse, grant, error) {
	p, err := parseParams(ex.r)
	if err != nil {
		return nil, nil, err
	}
	ex.p = p
	ex.grantType, err = p.require("grant_type")
	if err != nil {
		return nil, nil, err
	}
	g, ok := s.grants[ex.grantType]
	if !ok {
		return nil, nil, errUnsupportedGrant(safeName(ex.grantType))
	}
	err = s.stage(ctx, "client_authentication", func(ctx context.Context) (err error) {
		ex.client, err = s.authenticateClient(ctx, ex.r, p)
		return err
	})
	if err == nil {
		ex.ip = endUserIP(ex.r, ex.client)
		// A browser on an origin the client does not list is refused before any grant work.
		err = s.allowOrigin(ex.header, ex.r, ex.client.Client)
	}
	// A rate-limited request is refused before any grant work, and is no grant failure: it
	// logs api_limit once a minute instead of a failure line per request.
	if lerr := s.limitRequest(ctx, ex, err == nil); lerr != nil {
		return nil, nil, lerr
	}
	if err != nil {
		return nil, g, err
	}
	if !slices.Contains(ex.client.GrantTypes, ex.grantType) {
		return nil, g, errGrantNotAllowed(ex.grantType)
	}
	if err := s.stage(ctx, "store.get_tenant", func(ctx context.Context) (err error) {
		ex.tenant, err = s.store.GetTenant(ctx)
		return err
	}); err != nil {
		return nil, g, err
	}
	ex.requestedScope = p.get("scope")
	name, notFound, err := g.realm(ctx, ex)
	if err != nil {
		return nil, g, err
	}
	if name != "" {
		if err := s.useRealm(ctx, ex, name, notFound); err != nil {
			return nil, g, err
		}
	}
	if err := s.stage(ctx, "grant."+safeName(ex.grantType), func(ctx context.Context) error { return g.login(ctx, ex) }); err != nil {
		return nil, g, err
	}
	// Post-login stages run here, in Auth0's order: Rules, then Actions, then the MFA gate.
	if err := s.stage(ctx, "hooks", func(ctx context.Context) error { return s.runHooks(ctx, ex) }); err != nil {
		return nil, g, err
	}
	if err := s.mfaGate(ctx, ex); err != nil {
		return nil, g, err
	}
	if ex.spend != nil {
		if err := s.stage(ctx, "store.redeem_refresh_token", ex.spend); err != nil {
			return nil, g, err
		}
	}
	var resp *tokenResponse
	err = s.stage(ctx, "issue", func(ctx context.Context) (err error) {
		resp, err = s.issue(ctx, ex)
		return err
	})
	return resp, g, err
}

// issue mints the tokens the exchange earned.
func (s *Server) issue(ctx context.Context, ex *exchange) (*tokenResponse, error) {
	resp := &tokenResponse{TokenType: "Bearer", Scope: strings.Join(ex.scopes, " ")}
	// A client acting for itself gets an access token only (RFC 6749 §4.4.3).
	machine := ex.grantType == grantClientCredentials
	openid := slices.Contains(ex.scopes, "openid") && !machine
	gty := ex.grantType
	switch gty {
	case grantPasswordRealm, grantPasswordlessOTP:
		// Decision: a passwordless login's tokens are the password grant's, gty included.
		gty = grantPassword
	case grantClientCredentials:
		gty = "client-credentials" // Auth0's gty for this grant
	}
	at := token.AccessToken{
		Subject:   defaultString(ex.subject, ex.user.UserID),
		ClientID:  ex.client.ClientID,
		Audience:  s.issuer + "userinfo",
		Scope:     resp.Scope,
		GrantType: gty,
		Lifetime:  86400 * time.Second,
		Alg:       "RS256",
		Dialect:   "access_token",
		AuthTime:  ex.authTime,
		Custom:    ex.accessClaims,
	}
	if api := ex.api; api != nil {
		at.Audience = api.Identifier
		at.Alg = defaultString(api.SigningAlg, "RS256")
		at.Dialect = defaultString(api.TokenDialect, "access_token")
		if api.TokenLifetime > 0 {
			at.Lifetime = time.Duration(api.TokenLifetime) * time.Second
		}
		// WIRE.md §2: with openid the token also serves /userinfo, which only reads RS256.
		at.UserinfoAudience = openid && at.Alg == "RS256"
		at.Permissions = ex.perms
		if at.Alg == "HS256" {
			secret, err := s.box.Open(api.SigningSecretSealed, store.APISecretAAD(api.Identifier))
			if err != nil {
				return nil, err
			}
			at.HMACSecret = secret
		}
	}
	var err error
	if resp.AccessToken, resp.ExpiresIn, err = s.minter.AccessToken(ctx, at); err != nil {
		return nil, err
	}
	if openid {
		if resp.IDToken, err = s.idToken(ctx, ex); err != nil {
			return nil, err
		}
	}
	resp.RefreshToken = ex.refresh
	resp.RecoveryCode = ex.recoveryCode
	if resp.RefreshToken == "" && ex.family == nil && !machine && slices.Contains(ex.scopes, "offline_access") {
		if resp.RefreshToken, err = s.startFamily(ctx, ex); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (s *Server) idToken(ctx context.Context, ex *exchange) (string, error) {
	c := ex.client
	it := token.IDToken{
		Subject:  ex.user.UserID,
		ClientID: c.ClientID,
		Alg:      "RS256",
		Lifetime: 36000 * time.Second,
		AuthTime: ex.authTime,
		AMR:      ex.amr,
		Profile:  profileClaims(ex.user, ex.scopes),
		Custom:   ex.idClaims,
	}
	if c.IDTokenLifetime > 0 {
		it.Lifetime = time.Duration(c.IDTokenLifetime) * time.Second
	}
	// HS256 ID tokens are signed with the client secret, so only a confidential client that
	// asked for them gets one; public clients always get RS256 (WIRE.md §2). PS256, which
	// Auth0 also offers, is signed with the tenant's PS256 key.
	if c.IDTokenAlg == "PS256" {
		it.Alg = "PS256"
	}
	if c.IDTokenAlg == "HS256" && c.Confidential && len(c.SecretSealed) > 0 {
		secret, err := s.box.Open(c.SecretSealed, store.ClientSecretAAD(c.ClientID))
		if err != nil {
			return "", err
		}
		it.Alg, it.HMACSecret = "HS256", secret
	}
	return s.minter.IDToken(ctx, it)
}

// startFamily begins a refresh-token family for a fresh login.
func (s *Server) startFamily(ctx context.Context, ex *exchange) (string, error) {
	now := s.now()
	pol := ex.client.RefreshToken
	f := store.RefreshFamily{
		ID:         store.NewID("rtf_", 12),
		ClientID:   ex.client.ClientID,
		UserID:     ex.user.UserID,
		Connection: ex.connection.Name,
		Audience:   ex.api.Identifier,
		Scope:      strings.Join(ex.scopes, " "),
		AuthTime:   ex.authTime,
		AMR:        ex.amr,
		CreatedAt:  now,
	}
	if pol.ExpirationType != "non-expiring" && !pol.InfiniteTokenLifetime {
		f.ExpiresAt = now.Add(time.Duration(defaultInt(pol.TokenLifetime, 2592000)) * time.Second)
	}
	raw, hash := token.NewRefreshToken()
	first := store.RefreshToken{Hash: hash, FamilyID: f.ID, CreatedAt: now, IdleExpiresAt: idleExpiry(pol, now)}
	if err := s.stage(ctx, "store.create_refresh_family", func(ctx context.Context) error {
		return s.store.CreateRefreshFamily(ctx, f, first)
	}); err != nil {
		return "", err
	}
	return raw, nil
}

// idleExpiry is when a refresh token issued now dies unused (zero: never).
func idleExpiry(pol store.RefreshTokenPolicy, now time.Time) time.Time {
	if pol.ExpirationType == "non-expiring" || pol.InfiniteIdleTokenLifetime {
		return time.Time{}
	}
	return now.Add(time.Duration(defaultInt(pol.IdleTokenLifetime, 1296000)) * time.Second)
}

// profileClaims are the standard claims the granted scopes release (OpenID Connect Core §5.4).
func profileClaims(u directory.Identity, scopes []string) map[string]any {
	c := map[string]any{}
	if slices.Contains(scopes, "profile") {
		name, nickname := u.Name, u.Nickname
		if name == "" {
			name = defaultString(u.Email, u.Username)
		}
		if nickname == "" {
			nickname = defaultString(u.Username, strings.SplitN(u.Email, "@", 2)[0])
		}
		c["name"] = name
		c["nickname"] = nickname
		if u.Picture != "" {
			c["picture"] = u.Picture
		}
		if u.GivenName != "" {
			c["given_name"] = u.GivenName
		}
		if u.FamilyName != "" {
			c["family_name"] = u.FamilyName
		}
		if !u.UpdatedAt.IsZero() {
			c["updated_at"] = u.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
		}
	}
	if slices.Contains(scopes, "email") && u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	return c
}

// emit records the exchange in the tenant log.
func (s *Server) emit(ex *exchange, typ, description string) {
	if s.events == nil || typ == "" {
		return
	}
	e := store.LogEvent{
		Type:        typ,
		Description: description,
		ClientID:    ex.client.ClientID,
		ClientName:  ex.client.Name,
		Connection:  ex.connection.Name,
		IP:          ex.ip,
		ClientIP:    ex.peer,
		UserAgent:   truncate(ex.r.UserAgent(), 256),
		UserID:      ex.user.UserID,
		UserName:    defaultString(ex.user.Email, ex.user.Username),
		Scope:       strings.Join(ex.scopes, " "),
		Details:     map[string]any{"grant_type": ex.grantType},
	}
	if len(ex.hookRuns) > 0 {
		e.Details["actions"] = hookDetails(ex.hookRuns)
	}
	if e.ClientID == "" {
		e.ClientID = truncate(ex.p.get("client_id"), 128)
	}
	if e.UserName == "" && ex.p != nil {
		e.UserName = truncate(ex.p.get("username"), 256)
	}
	e.ConnectionID = ex.connection.ID
	if ex.api != nil {
		e.Audience = ex.api.Identifier
	}
	s.events.Emit(e)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func defaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func defaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// storeErr maps the store's not-found to err, passing other failures through.
func storeErr(err error, notFound *Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound.withCause(err)
	}
	return err
}

package oauthserver

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/mfa"
	"github.com/sesameauth/sesame/internal/mfa/deliver"
	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// Directories gives the Directory behind a connection; the composition root maps strategies
// to implementations.
type Directories interface {
	Directory(conn store.Connection) (directory.Directory, error)
}

// EventSink receives tenant log events (logs.Sink satisfies it).
type EventSink interface {
	Emit(e store.LogEvent)
}

// Config holds the Server's dependencies.
type Config struct {
	// Issuer is the public base URL with a trailing slash (https://host/).
	Issuer      string
	Store       Store
	Directories Directories
	Keys        *token.Keys
	Box         Opener
	Events      EventSink
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Hooks runs Rules and Actions; nil means an engine with the default limits.
	Hooks *hooks.Engine
	// MFASender delivers MFA email and SMS codes; nil logs them (development only).
	MFASender mfa.Sender
	// RateLimits are the request rate limits of the token endpoint (zero: none).
	RateLimits RateLimits
	// MFASendLimits bound the MFA codes sent by email and SMS (zero: the defaults).
	MFASendLimits MFASendLimits
	// PasswordlessSendLimits bound the passwordless login codes sent (zero: the defaults).
	PasswordlessSendLimits PasswordlessSendLimits
	// TrustedProxies are the load balancers and reverse proxies whose X-Forwarded-For is
	// believed: a request from one of them is taken to come from the rightmost address of that
	// header that is not itself a trusted proxy. Empty: the TCP peer is the caller.
	TrustedProxies []netip.Prefix
	// Notifier delivers attack-protection notices (unblock links, admin alerts); nil means
	// MFASender when it can (every sender of package deliver can).
	Notifier deliver.Notifier
	// AdminEmails receive the admin_notification notices.
	AdminEmails []string
	// IPv6ClientPrefix is the length of the IPv6 network that attack protection and the
	// per-IP rate limits count as one client (0: guard.DefaultIPv6Prefix, a /64).
	IPv6ClientPrefix int
	// Observer is told each token request's outcome (metrics); nil means nobody.
	Observer Observer
	// Tracer spans the token pipeline's stages (tracing); nil means none.
	Tracer Tracer
}

// Store is the part of the storage the public endpoints use. It leaves out what they reach
// another way or never: signing keys (through Keys), the tenant log (through Events), search,
// jobs, and the store's lifetime (Ping, Close), which belongs to the composition root.
type Store interface {
	store.Tenants
	store.Clients
	store.ResourceServers
	store.ClientGrants
	store.Connections
	store.Users
	store.RefreshTokens
	store.Replay
	store.Hooks
	// Attack protection (guard.Store), second factors (mfa.Store), passwordless codes.
	store.Counters
	store.BreachedPasswords
	store.MFA
	store.PasswordlessCodes
}

// Opener opens values sealed with the key-encryption key (seal.Box satisfies it).
type Opener interface {
	Open(sealed, aad []byte) ([]byte, error)
}

// Server serves the public endpoints.
type Server struct {
	issuer string
	store  Store
	dirs   Directories
	keys   *token.Keys
	minter *token.Minter
	box    Opener
	events EventSink
	log    *slog.Logger
	clock  func() time.Time
	grants map[string]grant
	guard  *guard.Guard
	hooks  *hooks.Engine
	// hookCache and ccHookCache are this node's compiled post-login and credentials-exchange
	// flows (see hooksRecheck).
	hookCache   hookCache
	ccHookCache hookCache
	mfa         *mfa.Service
	limits      atomic.Pointer[RateLimits] // SetRateLimits swaps them while serving
	mfaSends    MFASendLimits
	// sender delivers MFA and passwordless codes; codes issues and checks passwordless codes.
	sender   mfa.Sender
	codes    *passwordless.Codes
	pwlSends PasswordlessSendLimits
	proxies  []netip.Prefix
	// ticketKey signs unblock links; nil when Box cannot derive keys (no links then).
	ticketKey   []byte
	notifier    deliver.Notifier
	adminEmails []string
	// origin is the issuer's origin: requests from it need no CORS.
	origin string
	// origins is this node's copy of the tenant's web origins, for preflights (cors.go).
	origins originCache
	// sending counts notices being delivered in the background (see Flush).
	sending inFlight
	// observer is Config.Observer (observe.go).
	observer Observer
	tracer   Tracer
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		issuer:  cfg.Issuer,
		store:   cfg.Store,
		dirs:    cfg.Directories,
		keys:    cfg.Keys,
		box:     cfg.Box,
		events:  cfg.Events,
		log:     cfg.Logger,
		clock:   cfg.Now,
		proxies: cfg.TrustedProxies,
		origin:  originOf(cfg.Issuer),
	}
	s.observer, s.tracer = cfg.Observer, cfg.Tracer
	s.SetRateLimits(cfg.RateLimits)
	s.mfaSends = cfg.MFASendLimits
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	// Attack protection keeps its counters in the store, so every node shares them.
	s.guard = guard.New(cfg.Store, s.now, guard.Options{IPv6Prefix: cfg.IPv6ClientPrefix})
	s.hooks = cfg.Hooks
	if s.hooks == nil {
		s.hooks = hooks.NewEngine(hooks.Options{})
	}
	s.minter = &token.Minter{Keys: cfg.Keys, Issuer: cfg.Issuer, Now: s.now}
	sender := cfg.MFASender
	if sender == nil {
		sender = deliver.LogSender{Log: s.log}
	}
	// TOTP secrets are sealed with the key-encryption key; an Opener that cannot seal leaves
	// OTP enrolment refused.
	sealer, _ := cfg.Box.(mfa.Sealer)
	s.mfa = mfa.New(cfg.Store, sealer, sender, s.now)
	s.sender, s.pwlSends = sender, cfg.PasswordlessSendLimits
	// Passwordless codes are hashed with a key of their own, derived from the KEK on every node.
	s.codes = &passwordless.Codes{Store: cfg.Store, Now: s.now}
	if kd, ok := cfg.Box.(keyDeriver); ok {
		s.codes.Key = kd.DeriveKey("passwordless-code")
	}
	s.notifier, s.adminEmails = cfg.Notifier, cfg.AdminEmails
	if s.notifier == nil {
		s.notifier, _ = sender.(deliver.Notifier)
	}
	if kd, ok := cfg.Box.(keyDeriver); ok {
		s.ticketKey = kd.DeriveKey("unblock-ticket")
	}
	pw := passwordGrant{s: s}
	s.grants = map[string]grant{
		grantPassword:          pw,
		grantPasswordRealm:     pw,
		grantRefreshToken:      refreshGrant{s: s},
		grantClientCredentials: clientCredentialsGrant{s: s},
		grantMFAOTP:            mfaGrant{s: s, kind: "otp"},
		grantMFAOOB:            mfaGrant{s: s, kind: "oob"},
		grantMFARecoveryCode:   mfaGrant{s: s, kind: "recovery-code"},
		grantPasswordlessOTP:   passwordlessGrant{s: s},
	}
	return s
}

func (s *Server) now() time.Time { return s.clock().UTC() }

// SetRateLimits replaces the token endpoint's rate limits; requests from then on use them (the
// server's SIGHUP reload calls it).
func (s *Server) SetRateLimits(l RateLimits) { s.limits.Store(&l) }

func (s *Server) rateLimits() RateLimits { return *s.limits.Load() }

// Handler routes the public endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// The endpoints a browser app calls answer CORS (cors.go); introspection is for
	// confidential clients and the /.well-known documents carry no CORS headers.
	for _, rt := range []struct {
		path    string
		methods []string
		handle  http.HandlerFunc
	}{
		{"/oauth/token", []string{"POST"}, s.handleToken},
		{"/oauth/revoke", []string{"POST"}, s.handleRevoke},
		{"/userinfo", []string{"GET", "POST"}, s.handleUserinfo},
		{"/mfa/authenticators", []string{"GET"}, s.handleListAuthenticators},
		{"/mfa/authenticators/{id}", []string{"DELETE"}, s.handleDeleteAuthenticator},
		{"/mfa/associate", []string{"POST"}, s.handleAssociate},
		{"/mfa/challenge", []string{"POST"}, s.handleChallenge},
		{"/passwordless/start", []string{"POST"}, s.handlePasswordlessStart},
	} {
		for _, m := range rt.methods {
			mux.HandleFunc(m+" "+rt.path, corsRoute(rt.handle))
		}
		mux.HandleFunc("OPTIONS "+rt.path, s.preflight(rt.methods))
	}
	mux.HandleFunc("POST /oauth/introspect", s.handleIntrospect)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleDiscovery)
	mux.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	mux.HandleFunc("GET /unblock", s.handleUnblockPage)
	mux.HandleFunc("POST /unblock", s.handleUnblock)
	return s.recoverPanics(s.forwardedFor(mux))
}

// recoverPanics turns a panic into a 500 server_error: no stack reaches a client.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", v)
				s.writeError(w, r, errServer)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// peerIP is the TCP peer's address.
func peerIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ap.Addr().Unmap().String()
}

// endUserIP is the IP the request speaks for: the peer, or the auth0-forwarded-for header when
// a confidential client that the tenant trusts sent it (WIRE.md §1, §5).
func endUserIP(r *http.Request, c authenticatedClient) string {
	if c.Confidential && c.IsTokenEndpointIPHeaderTrusted {
		if h := strings.TrimSpace(r.Header.Get("auth0-forwarded-for")); h != "" {
			if a, err := netip.ParseAddr(h); err == nil {
				return a.Unmap().String()
			}
		}
	}
	return peerIP(r)
}

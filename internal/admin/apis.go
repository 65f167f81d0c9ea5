package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

// API defaults and choices (Auth0's resource server object).
const (
	DefaultTokenLifetime = 86400
	// MaxTokenLifetime is Auth0's ceiling for an access token's lifetime (30 days).
	MaxTokenLifetime = 2592000
)

// SigningAlgs are the access-token algorithms an API may choose: Auth0's four, and the opt-in
// ES256 and EdDSA.
var SigningAlgs = []string{"RS256", "PS256", "RS512", "HS256", "ES256", "EdDSA"}

// TokenDialects are Auth0's access-token profiles.
var TokenDialects = []string{"access_token", "access_token_authz", "rfc9068_profile", "rfc9068_profile_authz"}

// APIInput describes a new API (resource server). Zero fields take Auth0's defaults.
type APIInput struct {
	// Identifier is the audience; required and unique, usually a URL.
	Identifier string
	// Name defaults to the identifier.
	Name   string
	Scopes []store.Scope
	// SigningAlg defaults to RS256.
	SigningAlg         string
	AllowOfflineAccess bool
	// TokenLifetime defaults to 86400 seconds.
	TokenLifetime int
	// TokenDialect defaults to access_token.
	TokenDialect    string
	EnforcePolicies bool
}

// CreateAPI creates an API. An HS256 API gets a generated signing secret, sealed with the
// key-encryption key; an API with an asymmetric algorithm gets signing keys for it when the
// service has Keys.
func (s *Service) CreateAPI(ctx context.Context, in APIInput) (store.ResourceServer, error) {
	now := s.now()
	rs := store.ResourceServer{
		ID:                 store.NewID("", 12),
		Identifier:         strings.TrimSpace(in.Identifier),
		Name:               strings.TrimSpace(in.Name),
		Scopes:             slices.Clone(in.Scopes),
		SigningAlg:         in.SigningAlg,
		AllowOfflineAccess: in.AllowOfflineAccess,
		TokenLifetime:      in.TokenLifetime,
		TokenDialect:       in.TokenDialect,
		EnforcePolicies:    in.EnforcePolicies,
		CreatedAt:          now,
		UpdatedAt:          now,
	}
	if rs.Name == "" {
		rs.Name = rs.Identifier
	}
	if rs.SigningAlg == "" {
		rs.SigningAlg = "RS256"
	}
	if rs.TokenLifetime == 0 {
		rs.TokenLifetime = DefaultTokenLifetime
	}
	if rs.TokenDialect == "" {
		rs.TokenDialect = "access_token"
	}
	if err := CheckAPI(rs); err != nil {
		return store.ResourceServer{}, err
	}
	if rs.SigningAlg == "HS256" {
		if s.Box == nil {
			return store.ResourceServer{}, errors.New("admin: no key-encryption key to seal the HS256 signing secret")
		}
		rs.SigningSecretSealed = s.Box.Seal([]byte(password.NewSecret()), store.APISecretAAD(rs.Identifier))
	} else if s.Keys != nil {
		if err := s.Keys.Ensure(ctx, rs.SigningAlg); err != nil {
			return store.ResourceServer{}, fmt.Errorf("making %s signing keys: %w", rs.SigningAlg, err)
		}
	}
	if err := s.Store.CreateResourceServer(ctx, rs); err != nil {
		return store.ResourceServer{}, storeErr(err, "resource server", rs.Identifier)
	}
	return rs, nil
}

// CheckAPI validates an API's fields (defaults already applied); every problem is joined.
func CheckAPI(rs store.ResourceServer) error {
	var errs []error
	switch {
	case rs.Identifier == "":
		errs = append(errs, invalid("identifier", "is required"))
	case len(rs.Identifier) > 600:
		errs = append(errs, invalid("identifier", "longer than 600 characters"))
	case strings.ContainsFunc(rs.Identifier, unicode.IsSpace):
		// The identifier travels as the audience parameter and the aud claim.
		errs = append(errs, invalid("identifier", "must not contain white space"))
	}
	if err := checkName("name", rs.Name); err != nil {
		errs = append(errs, err)
	}
	if !slices.Contains(SigningAlgs, rs.SigningAlg) {
		errs = append(errs, invalid("signing_alg", "%q is not one of %s", rs.SigningAlg, strings.Join(SigningAlgs, ", ")))
	}
	if rs.TokenLifetime < 1 || rs.TokenLifetime > MaxTokenLifetime {
		errs = append(errs, invalid("token_lifetime", "%d is outside 1..%d seconds", rs.TokenLifetime, MaxTokenLifetime))
	}
	if !slices.Contains(TokenDialects, rs.TokenDialect) {
		errs = append(errs, invalid("token_dialect", "%q is not one of %s", rs.TokenDialect, strings.Join(TokenDialects, ", ")))
	}
	errs = append(errs, checkScopes(rs.Scopes)...)
	return errors.Join(errs...)
}

// checkScopes: a scope value travels space-separated in the scope parameter, so it must not
// hold spaces, and each value is defined once.
func checkScopes(scopes []store.Scope) []error {
	var errs []error
	seen := map[string]bool{}
	for i, sc := range scopes {
		field := fmt.Sprintf("scopes[%d].value", i)
		switch {
		case sc.Value == "":
			errs = append(errs, invalid(field, "is required"))
		case len(sc.Value) > 280:
			errs = append(errs, invalid(field, "longer than 280 characters"))
		case strings.ContainsFunc(sc.Value, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || r == '\\' || r < 0x21 || r == 0x7f }):
			// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
			errs = append(errs, invalid(field, "%q may not contain spaces, quotes, backslashes or control characters", sc.Value))
		case seen[sc.Value]:
			errs = append(errs, invalid(field, "%q is defined twice", sc.Value))
		}
		seen[sc.Value] = true
	}
	return errs
}

// ParseScopes turns "read:x,write:x" (comma or space separated) into scopes without
// descriptions.
func ParseScopes(list string) []store.Scope {
	var out []store.Scope
	for _, v := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		out = append(out, store.Scope{Value: v})
	}
	return out
}

// GetAPI returns an API by identifier, or by its id when no API has that identifier.
func (s *Service) GetAPI(ctx context.Context, idOrIdentifier string) (store.ResourceServer, error) {
	idOrIdentifier = s.CanonicalAudience(idOrIdentifier)
	rs, err := s.Store.GetResourceServer(ctx, idOrIdentifier)
	if errors.Is(err, store.ErrNotFound) {
		all, lerr := s.Store.ListResourceServers(ctx)
		if lerr != nil {
			return store.ResourceServer{}, lerr
		}
		for _, r := range all {
			if r.ID == idOrIdentifier {
				return r, nil
			}
		}
	}
	return rs, storeErr(err, "resource server", idOrIdentifier)
}

// ListAPIs returns every API ordered by identifier.
func (s *Service) ListAPIs(ctx context.Context) ([]store.ResourceServer, error) {
	return s.Store.ListResourceServers(ctx)
}

// DeleteAPI deletes an API (by identifier or id). Access tokens already issued for it stay
// valid until they expire, as at Auth0; refresh tokens for it stop working because the
// audience no longer resolves.
func (s *Service) DeleteAPI(ctx context.Context, idOrIdentifier string) error {
	rs, err := s.GetAPI(ctx, idOrIdentifier)
	if err != nil {
		return err
	}
	if s.IsManagementAPI(rs) {
		return errSystemAPI
	}
	return storeErr(s.Store.DeleteResourceServer(ctx, rs.Identifier), "resource server", idOrIdentifier)
}

package admin

import (
	"context"
	"errors"
	"slices"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// errNoKeys is the answer when the service was built without signing keys (a CLI command
// that opened no key store).
var errNoKeys = errors.New("admin: no signing keys configured")

func (s *Service) keys() (SigningKeys, error) {
	if s.Keys == nil {
		return nil, errNoKeys
	}
	return s.Keys, nil
}

// SigningKeys lists the tenant's signing keys (Auth0: GET /keys/signing): next, current,
// previous, retired and revoked, of every algorithm, RS256 (the application signing key Auth0
// has) first.
func (s *Service) SigningKeys(ctx context.Context) ([]token.KeyInfo, error) {
	k, err := s.keys()
	if err != nil {
		return nil, err
	}
	ks, err := k.List(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(ks, func(a, b token.KeyInfo) int {
		return boolRank(a.Alg != "RS256") - boolRank(b.Alg != "RS256")
	})
	return ks, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SigningKey returns one signing key by kid.
func (s *Service) SigningKey(ctx context.Context, kid string) (token.KeyInfo, error) {
	ks, err := s.SigningKeys(ctx)
	if err != nil {
		return token.KeyInfo{}, err
	}
	return findBy(ks, "signing key", kid, func(k token.KeyInfo) bool { return k.KID == kid })
}

// RotateSigningKeys rotates the keys of every algorithm (Auth0: POST /keys/signing/rotate):
// each next key, published since it was made, starts signing, the current one stays published
// as previous, and a new next key is made. It returns the RS256 key now current.
func (s *Service) RotateSigningKeys(ctx context.Context) (token.KeyInfo, error) {
	k, err := s.keys()
	if err != nil {
		return token.KeyInfo{}, err
	}
	if err := k.Rotate(ctx, ""); err != nil {
		return token.KeyInfo{}, keysErr(err, "")
	}
	ks, err := s.SigningKeys(ctx)
	if err != nil {
		return token.KeyInfo{}, err
	}
	i := slices.IndexFunc(ks, func(k token.KeyInfo) bool { return k.State == store.KeyCurrent })
	if i < 0 {
		return token.KeyInfo{}, errors.New("admin: no current signing key after rotation")
	}
	return ks[i], nil
}

// RevokeSigningKey withdraws a key at once (Auth0: PUT /keys/signing/{kid}/revoke): see
// token.Keys.Revoke. It returns the key as it is now (revoked).
func (s *Service) RevokeSigningKey(ctx context.Context, kid string) (token.KeyInfo, error) {
	k, err := s.keys()
	if err != nil {
		return token.KeyInfo{}, err
	}
	if _, err := k.Revoke(ctx, kid); err != nil {
		return token.KeyInfo{}, keysErr(err, kid)
	}
	return s.SigningKey(ctx, kid)
}

// keysErr maps token's key errors to the management errors.
func keysErr(err error, kid string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &NotFoundError{Kind: "signing key", ID: kid}
	case errors.Is(err, store.ErrConflict):
		return &ConflictError{Kind: "signing key", ID: kid, Message: "the signing key is already revoked"}
	case errors.Is(err, token.ErrNoKey):
		return invalid("kid", "%s", err.Error())
	}
	return err
}

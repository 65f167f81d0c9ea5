package admin

import (
	"context"

	"github.com/sesameauth/sesame/internal/store"
)

// ListMFAAuthenticators returns the user's MFA authenticators (secrets stay sealed or hashed).
func (s *Service) ListMFAAuthenticators(ctx context.Context, userID string) ([]store.MFAAuthenticator, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	return s.Store.ListMFAAuthenticators(ctx, userID)
}

// ResetMFA deletes every MFA authenticator of the user, who enrols again at the next login
// that requires MFA (Auth0's "reset MFA"). It returns how many were deleted.
func (s *Service) ResetMFA(ctx context.Context, userID string) (int, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return 0, err
	}
	return s.Store.DeleteMFAAuthenticators(ctx, userID)
}

package mgmtapi

import (
	"crypto/sha1" //nolint:gosec // Auth0's key fingerprint and thumbprint are SHA-1 of the certificate: identifiers, not security
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// Signing keys: GET /keys/signing[/{kid}], POST /keys/signing/rotate, PUT
// /keys/signing/{kid}/revoke. Auth0 shows each key as a certificate; Sesame makes a
// self-signed one per key (token.KeyInfo.Certificate). Keys of every algorithm are listed,
// RS256 (Auth0's only signing algorithm) first.

// signingKeyView is Auth0's signing key object.
type signingKeyView struct {
	KID string `json:"kid"`
	// Alg is Sesame's addition (Auth0 signs with RS256 only): a server with ES256 or PS256
	// APIs has a current key per algorithm, and the console tells them apart by it.
	Alg          string     `json:"alg,omitempty"`
	Cert         string     `json:"cert"`
	Current      bool       `json:"current"`
	Next         bool       `json:"next"`
	Previous     bool       `json:"previous"`
	CurrentSince *time.Time `json:"current_since,omitempty"`
	Fingerprint  string     `json:"fingerprint"`
	Thumbprint   string     `json:"thumbprint"`
	Revoked      bool       `json:"revoked"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

func certPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func newSigningKeyView(k token.KeyInfo) signingKeyView {
	sum := sha1.Sum(k.Certificate) //nolint:gosec // see the import
	thumb := strings.ToUpper(hex.EncodeToString(sum[:]))
	pairs := make([]string, 0, len(sum))
	for i := 0; i < len(thumb); i += 2 {
		pairs = append(pairs, thumb[i:i+2])
	}
	v := signingKeyView{KID: k.KID, Alg: k.Alg, Cert: certPEM(k.Certificate), Fingerprint: strings.Join(pairs, ":"), Thumbprint: thumb,
		Current: k.State == store.KeyCurrent, Next: k.State == store.KeyNext,
		Previous: k.State == store.KeyPrevious || k.State == store.KeyRetired || k.State == store.KeyRevoked,
		Revoked:  k.State == store.KeyRevoked}
	if !k.ActivatedAt.IsZero() {
		t := k.ActivatedAt
		v.CurrentSince = &t
	}
	if v.Revoked {
		t := k.PublishUntil
		v.RevokedAt = &t
	}
	return v
}

func (a *API) listSigningKeys(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	ks, err := a.cfg.Admin.SigningKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]signingKeyView, 0, len(ks))
	for _, k := range ks {
		out = append(out, newSigningKeyView(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getSigningKey(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	k, err := a.cfg.Admin.SigningKey(r.Context(), r.PathValue("kid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newSigningKeyView(k))
	return nil
}

// rotateSigningKeys answers 201 {cert, kid} of the key that signs now.
func (a *API) rotateSigningKeys(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	k, err := a.cfg.Admin.RotateSigningKeys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"cert": certPEM(k.Certificate), "kid": k.KID})
	return nil
}

// revokeSigningKey answers {cert, kid} of the key withdrawn.
func (a *API) revokeSigningKey(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	k, err := a.cfg.Admin.RevokeSigningKey(r.Context(), r.PathValue("kid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"cert": certPEM(k.Certificate), "kid": k.KID})
	return nil
}

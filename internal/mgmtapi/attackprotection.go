package mgmtapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/sesameauth/sesame/internal/store"
)

// Attack protection: GET and PATCH /attack-protection/{brute-force-protection,
// suspicious-ip-throttling, breached-password-detection}. The store's settings carry Auth0's
// JSON field names, so they are rendered as they are; a PATCH body is decoded over the current
// section (only the fields it names change; nested stage objects merge field by field) and
// admin validates the result. Fields Sesame does not have (breached-password-detection's
// admin_notification_frequency and per-stage shields) are ignored.

// attackSection picks one section of the settings.
type attackSection func(*store.AttackProtection) any

var (
	bruteForceSection   attackSection = func(ap *store.AttackProtection) any { return &ap.BruteForce }
	suspiciousIPSection attackSection = func(ap *store.AttackProtection) any { return &ap.SuspiciousIP }
	breachedSection     attackSection = func(ap *store.AttackProtection) any { return &ap.Breached }
)

func (a *API) getAttackProtection(section attackSection) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *Caller) error {
		ap, err := a.cfg.Admin.AttackProtection(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, section(&ap))
		return nil
	}
}

func (a *API) patchAttackProtection(section attackSection) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *Caller) error {
		// Read the whole body before the store's transaction starts; it is decoded over the
		// stored section inside it.
		var raw json.RawMessage
		if err := decodeBody(r, &raw); err != nil {
			return err
		}
		ap, err := a.cfg.Admin.UpdateAttackProtection(r.Context(), func(ap *store.AttackProtection) error {
			return unmarshalBody(raw, section(ap))
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, section(&ap))
		return nil
	}
}

// unmarshalBody decodes a body already read (and so known to be JSON) into v, with
// decodeBody's answers for a value of the wrong type.
func unmarshalBody(raw json.RawMessage, v any) error {
	return decodeBody(&http.Request{Body: io.NopCloser(bytes.NewReader(raw))}, v)
}

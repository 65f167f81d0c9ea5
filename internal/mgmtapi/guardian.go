package mgmtapi

import (
	"net/http"
)

// Guardian (MFA): factors and policies. Every Auth0 factor is listed, so that a Deploy CLI
// export PUTs each back; those Sesame does not run are disabled and stay so.

type guardianFactorView struct {
	Name         string `json:"name"`
	Enabled      bool   `json:"enabled"`
	TrialExpired bool   `json:"trial_expired"`
}

func (a *API) listGuardianFactors(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	fs, err := a.cfg.Admin.GuardianFactors(r.Context())
	if err != nil {
		return err
	}
	out := make([]guardianFactorView, 0, len(fs))
	for _, f := range fs {
		out = append(out, guardianFactorView{Name: f.Name, Enabled: f.Enabled})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setGuardianFactor is PUT /guardian/factors/{name} {"enabled": bool}.
func (a *API) setGuardianFactor(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.Enabled == nil {
		return badBody("Missing required property: enabled")
	}
	f, err := a.cfg.Admin.SetGuardianFactor(r.Context(), r.PathValue("name"), *b.Enabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"enabled": f.Enabled})
	return nil
}

// getGuardianPolicies answers a bare array: [] or ["all-applications"].
func (a *API) getGuardianPolicies(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	p, err := a.cfg.Admin.GuardianPolicies(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// setGuardianPolicies takes and answers a bare array.
func (a *API) setGuardianPolicies(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b []string
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	p, err := a.cfg.Admin.SetGuardianPolicies(r.Context(), b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// getPhoneMessageTypes answers how phone codes are delivered: by SMS, through the server's
// mfa_sender (Sesame has no voice delivery).
func (a *API) getPhoneMessageTypes(w http.ResponseWriter, _ *http.Request, _ *Caller) error {
	writeJSON(w, http.StatusOK, map[string][]string{"message_types": a.cfg.Admin.PhoneMessageTypes()})
	return nil
}

func (a *API) setPhoneMessageTypes(w http.ResponseWriter, r *http.Request, _ *Caller) error {
	var b struct {
		MessageTypes []string `json:"message_types"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	types, err := a.cfg.Admin.SetPhoneMessageTypes(b.MessageTypes)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string][]string{"message_types": types})
	return nil
}

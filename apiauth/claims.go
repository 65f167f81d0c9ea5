package apiauth

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// maxNumericDate is 9999-12-31T23:59:59Z: later "NumericDate" values (RFC 7519 §2) are refused
// rather than converted with overflow.
const maxNumericDate = 253402300799

// checkClaims decodes a verified payload and applies the time, issuer and audience checks of
// RFC 9068 §4 (steps 3 to 5) and RFC 7519 §4.1.
func (v *Validator) checkClaims(payload []byte) (*Claims, error) {
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("%w: claims are not a JSON object", ErrMalformedToken)
	}
	c := &Claims{Raw: raw}
	var err error
	if c.Issuer, err = stringClaim(raw, "iss"); err != nil {
		return nil, err
	}
	if c.Subject, err = stringClaim(raw, "sub"); err != nil {
		return nil, err
	}
	if c.Audience, err = audienceClaim(raw); err != nil {
		return nil, err
	}
	exp, hasExp, err := dateClaim(raw, "exp")
	if err != nil {
		return nil, err
	}
	nbf, hasNbf, err := dateClaim(raw, "nbf")
	if err != nil {
		return nil, err
	}
	iat, _, err := dateClaim(raw, "iat")
	if err != nil {
		return nil, err
	}
	c.ExpiresAt, c.IssuedAt = exp, iat
	scope, err := stringClaim(raw, "scope")
	if err != nil {
		return nil, err
	}
	c.Scope = strings.Fields(scope)
	if c.Permissions, err = stringsClaim(raw, "permissions"); err != nil {
		return nil, err
	}
	if c.ClientID, err = stringClaim(raw, "client_id"); err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		if c.ClientID, err = stringClaim(raw, "azp"); err != nil {
			return nil, err
		}
	}

	now := v.now()
	// RFC 7519 §4.1.4: the token must not be accepted on or after exp. RFC 9068 §2.2 makes exp
	// required in access tokens.
	if !hasExp {
		return nil, fmt.Errorf("%w: no exp claim", ErrExpired)
	}
	if !now.Before(exp.Add(v.leeway)) {
		return nil, fmt.Errorf("%w: exp %s is past", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	if hasNbf && now.Add(v.leeway).Before(nbf) {
		return nil, fmt.Errorf("%w: nbf %s is ahead", ErrNotYetValid, nbf.UTC().Format(time.RFC3339))
	}
	if !iat.IsZero() && now.Add(v.leeway).Before(iat) {
		return nil, fmt.Errorf("%w: iat %s is ahead", ErrNotYetValid, iat.UTC().Format(time.RFC3339))
	}
	if c.Issuer != v.issuer {
		return nil, fmt.Errorf("%w: iss %q", ErrIssuer, c.Issuer)
	}
	if !slices.Contains(c.Audience, v.audience) {
		return nil, fmt.Errorf("%w: aud %q", ErrAudience, c.Audience)
	}
	return c, nil
}

// stringClaim returns claim name, "" when absent; a present claim of another type is an error.
func stringClaim(raw map[string]any, name string) (string, error) {
	v, ok := raw[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s is not a string", ErrMalformedToken, name)
	}
	return s, nil
}

// stringsClaim returns claim name as an array of strings, nil when absent.
func stringsClaim(raw map[string]any, name string) ([]string, error) {
	v, ok := raw[name]
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an array", ErrMalformedToken, name)
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s holds a non-string", ErrMalformedToken, name)
		}
		out = append(out, s)
	}
	return out, nil
}

// audienceClaim reads "aud", which RFC 7519 §4.1.3 allows as one string or an array of them.
func audienceClaim(raw map[string]any) ([]string, error) {
	if s, ok := raw["aud"].(string); ok {
		return []string{s}, nil
	}
	return stringsClaim(raw, "aud")
}

// dateClaim reads a NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional.
func dateClaim(raw map[string]any, name string) (time.Time, bool, error) {
	v, ok := raw[name]
	if !ok || v == nil {
		return time.Time{}, false, nil
	}
	f, ok := v.(float64)
	if !ok || f < 0 || f > maxNumericDate {
		return time.Time{}, false, fmt.Errorf("%w: %s is not a NumericDate", ErrMalformedToken, name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

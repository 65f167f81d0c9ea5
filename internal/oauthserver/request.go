package oauthserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxBodyBytes bounds every request body; a token request is a few hundred bytes, a client
// assertion a few KiB.
const maxBodyBytes = 64 << 10

// maxParamBytes bounds any one parameter value.
const maxParamBytes = 16 << 10

// params are the parameters of one request, parsed once. A parameter sent empty (or as JSON
// null) is absent, as Auth0's SDKs expect (auth0-python sends "realm": null).
type params map[string]string

func (p params) get(name string) string { return p[name] }

// require returns the parameter or the invalid_request error naming it.
func (p params) require(name string) (string, error) {
	if v := p[name]; v != "" {
		return v, nil
	}
	return "", errMissing(name)
}

// parseParams reads a form (RFC 6749 §3.2) or JSON body (Auth0's SDKs send both).
func parseParams(r *http.Request) (params, error) {
	if r.Body == nil {
		return params{}, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: "Request body too large."}
		}
		return nil, errInvalidRequest("Could not read the request body.").withCause(err)
	}
	ct := r.Header.Get("Content-Type")
	mt := ""
	if ct != "" {
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, errInvalidRequest("Invalid Content-Type header.")
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return parseJSONParams(body)
	case mt == "application/x-www-form-urlencoded" || (mt == "" && len(bytes.TrimSpace(body)) == 0):
		return parseFormParams(body)
	default:
		return nil, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded or application/json.")
	}
}

func parseFormParams(body []byte) (params, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errInvalidRequest("Malformed form body.")
	}
	p := make(params, len(values))
	for k, vs := range values {
		// RFC 6749 §3.2: request parameters must not be included more than once.
		if len(vs) > 1 {
			return nil, errInvalidRequest(fmt.Sprintf("Parameter '%s' was repeated.", safeName(k)))
		}
		if err := p.set(k, vs[0]); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parseJSONParams reads a flat JSON object. Strings are taken as they are, numbers and booleans
// as their JSON text (some SDKs send "otp": 123456), null as absent; nested values and repeated
// keys are invalid.
func parseJSONParams(body []byte) (params, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	bad := errInvalidRequest("Malformed JSON body: a flat JSON object is expected.")
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad
	}
	p := params{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		key, ok := tok.(string)
		if !ok {
			return nil, bad
		}
		if seen[key] {
			return nil, errInvalidRequest(fmt.Sprintf("Parameter '%s' was repeated.", safeName(key)))
		}
		seen[key] = true
		tok, err = dec.Token()
		if err != nil {
			return nil, bad
		}
		var value string
		switch v := tok.(type) {
		case nil:
			continue
		case string:
			value = v
		case json.Number:
			value = v.String()
		case bool:
			value = fmt.Sprint(v)
		default: // an object or array
			return nil, errInvalidRequest(fmt.Sprintf("Invalid value for parameter '%s'.", safeName(key)))
		}
		if err := p.set(key, value); err != nil {
			return nil, err
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad
	}
	return p, nil
}

func (p params) set(k, v string) error {
	if !utf8.ValidString(k) || !utf8.ValidString(v) {
		return errInvalidRequest("Parameters must be valid UTF-8.")
	}
	if len(k) > 256 || len(v) > maxParamBytes {
		return errInvalidRequest(fmt.Sprintf("Parameter '%s' is too long.", safeName(k)))
	}
	if v != "" {
		p[k] = v
	}
	return nil
}

// safeName keeps an attacker's parameter name from filling an error message.
func safeName(s string) string {
	if len(s) > 64 || !utf8.ValidString(s) {
		return "(invalid)"
	}
	return s
}

// basicCredentials parses an HTTP Basic Authorization header (RFC 6749 §2.3.1: client id and
// secret are form-urlencoded before base64). ok is false when there is no Basic header;
// a malformed one is an error.
func basicCredentials(r *http.Request) (id, secret string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	return parseBasic(strings.TrimSpace(rest))
}

func parseBasic(encoded string) (id, secret string, ok bool, err error) {
	bad := errUnauthorizedClient.withCause(errors.New("malformed Basic authorization header"))
	if len(encoded) > 4096 {
		return "", "", false, bad
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", "", false, bad
	}
	rawID, rawSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false, bad
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", false, bad
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false, bad
	}
	if id == "" || !utf8.ValidString(id) || !utf8.ValidString(secret) {
		return "", "", false, bad
	}
	return id, secret, true, nil
}

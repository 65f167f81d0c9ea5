package password

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// auth0CustomHash is the custom_password_hash object of Auth0's bulk user import
// ("Bulk User Import Database Schema and Examples" in Auth0's documentation).
type auth0CustomHash struct {
	Algorithm string `json:"algorithm"`
	Hash      struct {
		Value    string        `json:"value"`
		Encoding string        `json:"encoding"`
		Digest   string        `json:"digest"`
		Key      *auth0Encoded `json:"key"`
	} `json:"hash"`
	Salt *struct {
		Value    string `json:"value"`
		Encoding string `json:"encoding"`
		Position string `json:"position"`
	} `json:"salt"`
	Password *struct {
		Encoding string `json:"encoding"`
	} `json:"password"`
	KeyLen          int `json:"keylen"`
	Cost            int `json:"cost"`
	BlockSize       int `json:"blockSize"`
	Parallelization int `json:"parallelization"`
}

type auth0Encoded struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding"`
}

var errAuth0 = errors.New("custom_password_hash")

// FromAuth0CustomHash converts the custom_password_hash object of an Auth0 bulk user import
// into a hash string that Hasher.Verify understands (see Identify for the formats).
//
// Supported algorithms: argon2 (argon2id or argon2i PHC string), bcrypt, pbkdf2 (PHC string
// $pbkdf2-<digest>$i=..,l=..$salt$hash), scrypt, md5, sha1, sha256, sha512 (optionally salted,
// salt prefix or suffix, hash in hex or base64), hmac (digests md5, sha1, sha224, sha256,
// sha384, sha512) and ldap ({SHA}, {SSHA}, {MD5}, {SMD5}, {SHA256}, {SSHA256}, {SHA512},
// {SSHA512}). md4, ldap {CRYPT} and hmac with md4, ripemd160 or whirlpool are not supported:
// such users must reset their password. Errors wrap ErrUnsupported or ErrMalformed.
func FromAuth0CustomHash(raw json.RawMessage) (string, error) {
	var c auth0CustomHash
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return "", fmt.Errorf("%w: %w: %v", errAuth0, ErrMalformed, err)
	}
	if dec.More() {
		return "", fmt.Errorf("%w: %w: trailing data after the object", errAuth0, ErrMalformed)
	}
	encoded, err := c.convert()
	if err != nil {
		return "", fmt.Errorf("%w: algorithm %q: %w", errAuth0, truncate(c.Algorithm, 20), err)
	}
	// Parsing what we produced applies the same bounds a login applies, so an import fails
	// now rather than at the user's first login.
	v, err := parse(encoded)
	if err != nil {
		return "", fmt.Errorf("%w: algorithm %q: %w", errAuth0, c.Algorithm, err)
	}
	return v.String(), nil
}

func (c *auth0CustomHash) convert() (string, error) {
	switch c.Algorithm {
	case "argon2", "bcrypt", "pbkdf2":
		if err := c.phcOnly(); err != nil {
			return "", err
		}
		prefix := map[string][]string{
			"argon2": {"$argon2id$", "$argon2i$"},
			"bcrypt": {"$2a$", "$2b$", "$2y$"},
			"pbkdf2": {"$pbkdf2-"},
		}[c.Algorithm]
		for _, p := range prefix {
			if strings.HasPrefix(c.Hash.Value, p) {
				return c.Hash.Value, nil
			}
		}
		return "", fmt.Errorf("%w: hash.value must start with one of %s", ErrMalformed, strings.Join(prefix, " "))
	case "md5", "sha1", "sha256", "sha512":
		return c.salted(c.Algorithm+"-salted", "")
	case "hmac":
		if c.Hash.Key == nil {
			return "", fmt.Errorf("%w: hmac needs hash.key", ErrMalformed)
		}
		key, err := decodeAuth0("hash.key", c.Hash.Key.Value, c.Hash.Key.Encoding, "utf8")
		if err != nil {
			return "", err
		}
		if _, ok := digests[c.Hash.Digest]; !ok {
			return "", fmt.Errorf("%w: hmac digest %q (supported: md5, sha1, sha224, sha256, sha384, sha512)", ErrUnsupported, truncate(c.Hash.Digest, 20))
		}
		return c.salted("hmac-"+c.Hash.Digest, ",key="+b64enc(key))
	case "scrypt":
		return c.scrypt()
	case "ldap":
		return c.ldap()
	case "md4":
		return "", fmt.Errorf("%w: md4 is not supported; the user must reset the password", ErrUnsupported)
	case "":
		return "", fmt.Errorf("%w: algorithm is missing", ErrMalformed)
	}
	return "", fmt.Errorf("%w: unknown algorithm", ErrUnsupported)
}

// phcOnly checks the rules Auth0 sets for algorithms whose value is a self-describing string:
// hash.encoding utf8 and no separate salt.
func (c *auth0CustomHash) phcOnly() error {
	if c.Hash.Encoding != "" && c.Hash.Encoding != "utf8" {
		return fmt.Errorf("%w: hash.encoding must be utf8", ErrMalformed)
	}
	if c.Salt != nil {
		return fmt.Errorf("%w: salt is not allowed (it is part of hash.value)", ErrMalformed)
	}
	return nil
}

// salted converts the digest and HMAC algorithms: the hash over the salt and password joined
// in salt.position order.
func (c *auth0CustomHash) salted(id, extra string) (string, error) {
	sum, err := c.digestValue()
	if err != nil {
		return "", err
	}
	pe, err := c.passwordEncoding()
	if err != nil {
		return "", err
	}
	var salt []byte
	pos := "prefix"
	if c.Salt != nil {
		if salt, err = decodeAuth0("salt.value", c.Salt.Value, c.Salt.Encoding, "utf8"); err != nil {
			return "", err
		}
		switch c.Salt.Position {
		case "", "prefix":
		case "suffix":
			pos = "suffix"
		default:
			return "", fmt.Errorf("%w: salt.position must be prefix or suffix", ErrMalformed)
		}
	}
	return fmt.Sprintf("$%s$pos=%s%s%s$%s$%s", id, pos, extra, peParam(pe), b64enc(salt), b64enc(sum)), nil
}

func (c *auth0CustomHash) scrypt() (string, error) {
	key, err := c.digestValue()
	if err != nil {
		return "", err
	}
	pe, err := c.passwordEncoding()
	if err != nil {
		return "", err
	}
	if c.Salt == nil {
		return "", fmt.Errorf("%w: scrypt needs salt", ErrMalformed)
	}
	salt, err := decodeAuth0("salt.value", c.Salt.Value, c.Salt.Encoding, "utf8")
	if err != nil {
		return "", err
	}
	if c.KeyLen != 0 && c.KeyLen != len(key) {
		return "", fmt.Errorf("%w: keylen %d but hash.value is %d bytes", ErrMalformed, c.KeyLen, len(key))
	}
	n, r, p := orDefault(c.Cost, 16384), orDefault(c.BlockSize, 8), orDefault(c.Parallelization, 1)
	logN := 0
	for n > 1 && n%2 == 0 && logN <= maxScryptLogN {
		n /= 2
		logN++
	}
	if n != 1 || r < 0 || p < 0 {
		return "", fmt.Errorf("%w: scrypt cost must be a power of two, blockSize and parallelization positive", ErrMalformed)
	}
	return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d%s$%s$%s", logN, r, p, peParam(pe), b64enc(salt), b64enc(key)), nil
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// ldapSchemes are the RFC 2307 / OpenLDAP userPassword schemes: base64 of the digest of
// password || salt, followed by the salt for the salted ones.
var ldapSchemes = map[string]struct {
	digest string
	salted bool
}{
	"{SHA}": {"sha1", false}, "{SSHA}": {"sha1", true},
	"{MD5}": {"md5", false}, "{SMD5}": {"md5", true},
	"{SHA256}": {"sha256", false}, "{SSHA256}": {"sha256", true},
	"{SHA512}": {"sha512", false}, "{SSHA512}": {"sha512", true},
}

func (c *auth0CustomHash) ldap() (string, error) {
	if err := c.phcOnly(); err != nil {
		return "", err
	}
	pe, err := c.passwordEncoding()
	if err != nil {
		return "", err
	}
	end := strings.IndexByte(c.Hash.Value, '}')
	if !strings.HasPrefix(c.Hash.Value, "{") || end < 0 {
		return "", fmt.Errorf("%w: ldap hash.value must look like {SSHA}base64", ErrMalformed)
	}
	name := strings.ToUpper(c.Hash.Value[:end+1])
	s, ok := ldapSchemes[name]
	if !ok {
		return "", fmt.Errorf("%w: ldap scheme %s", ErrUnsupported, truncate(name, 20))
	}
	b, err := decodeAuth0("hash.value", c.Hash.Value[end+1:], "base64", "")
	if err != nil {
		return "", err
	}
	size := digests[s.digest]().Size()
	if len(b) < size || (!s.salted && len(b) != size) {
		return "", fmt.Errorf("%w: ldap %s value is %d bytes, too short or too long for %s", ErrMalformed, name, len(b), s.digest)
	}
	return fmt.Sprintf("$%s-salted$pos=suffix%s$%s$%s", s.digest, peParam(pe), b64enc(b[size:]), b64enc(b[:size])), nil
}

func (c *auth0CustomHash) digestValue() ([]byte, error) {
	if c.Hash.Encoding != "hex" && c.Hash.Encoding != "base64" {
		return nil, fmt.Errorf("%w: hash.encoding must be hex or base64", ErrMalformed)
	}
	return decodeAuth0("hash.value", c.Hash.Value, c.Hash.Encoding, "")
}

// passwordEncoding maps Auth0's password.encoding (Node.js buffer encodings) to ours.
func (c *auth0CustomHash) passwordEncoding() (string, error) {
	if c.Password == nil {
		return "utf8", nil
	}
	switch c.Password.Encoding {
	case "", "utf8":
		return "utf8", nil
	case "utf16le", "ucs2":
		return "utf16le", nil
	case "latin1", "binary", "ascii":
		return "latin1", nil
	}
	return "", fmt.Errorf("%w: password.encoding %q (supported: ascii, utf8, utf16le, ucs2, latin1, binary)", ErrUnsupported, truncate(c.Password.Encoding, 20))
}

// decodeAuth0 decodes a value in one of Auth0's encodings: utf8, hex (either case) or base64
// (standard or URL alphabet, padded or not).
func decodeAuth0(what, value, encoding, def string) ([]byte, error) {
	if encoding == "" {
		encoding = def
	}
	switch encoding {
	case "utf8":
		return []byte(value), nil
	case "hex":
		b, err := hex.DecodeString(value)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not hex", ErrMalformed, what)
		}
		return b, nil
	case "base64":
		v := strings.TrimRight(value, "=")
		v = strings.NewReplacer("-", "+", "_", "/").Replace(v)
		b, err := base64.RawStdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not base64", ErrMalformed, what)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: %s encoding %q (want base64, hex or utf8)", ErrMalformed, what, truncate(encoding, 20))
}

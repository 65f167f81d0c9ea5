package password

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestFromAuth0CustomHash(t *testing.T) {
	sha256Prefix := sha256.Sum256([]byte("NaCl" + "secret"))
	sha256Suffix := sha256.Sum256([]byte("secret" + "NaCl"))
	sha512Plain := sha512.Sum512([]byte("secret"))
	md5Plain := md5.Sum([]byte("secret"))
	sha1Salted := sha1.Sum(append([]byte("secret"), 0xde, 0xad))
	mac := hmac.New(sha256.New, []byte("k3y"))
	mac.Write([]byte("NaCl" + "secret"))
	hmacSum := mac.Sum(nil)
	sshaSum := sha1.Sum([]byte("secret" + "NaCl"))
	ssha := base64.StdEncoding.EncodeToString(append(sshaSum[:], "NaCl"...))
	latin1Sum := sha256.Sum256([]byte{'p', 0xe4})

	tests := []struct {
		name       string
		raw        func(t *testing.T) string
		wantScheme string
		password   string // "secret" unless set
	}{
		{
			name: "bcrypt",
			raw: func(t *testing.T) string {
				return fmt.Sprintf(`{"algorithm":"bcrypt","hash":{"value":%q}}`, bcryptOf(t, "secret", bcrypt.MinCost))
			},
			wantScheme: "bcrypt",
		},
		{
			name: "argon2",
			raw: func(t *testing.T) string {
				s, _ := NewHasher(cheap, 1).Hash(t.Context(), "secret")
				return fmt.Sprintf(`{"algorithm":"argon2","hash":{"value":%q,"encoding":"utf8"}}`, s)
			},
			wantScheme: "argon2id",
		},
		{
			name: "pbkdf2 PHC value with padded base64",
			raw: func(t *testing.T) string {
				key, _ := hex.DecodeString("4b007901b765489abead49d926f721d065a429c1") // RFC 6070
				return fmt.Sprintf(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha1$i=4096,l=20$%s$%s","encoding":"utf8"}}`,
					base64.StdEncoding.EncodeToString([]byte("salt")), base64.StdEncoding.EncodeToString(key))
			},
			wantScheme: "pbkdf2-sha1", password: "password",
		},
		{
			name: "sha256 hex salt prefix",
			raw: func(*testing.T) string {
				return fmt.Sprintf(`{"algorithm":"sha256","hash":{"value":"%X","encoding":"hex"},"salt":{"value":"NaCl","position":"prefix"}}`, sha256Prefix)
			},
			wantScheme: "sha256-salted",
		},
		{
			name: "sha256 base64 salt suffix base64",
			raw: func(*testing.T) string {
				return fmt.Sprintf(`{"algorithm":"sha256","hash":{"value":%q,"encoding":"base64"},"salt":{"value":%q,"encoding":"base64","position":"suffix"}}`,
					base64.StdEncoding.EncodeToString(sha256Suffix[:]), base64.StdEncoding.EncodeToString([]byte("NaCl")))
			},
			wantScheme: "sha256-salted",
		},
		{
			name: "sha512 unsalted url base64",
			raw: func(*testing.T) string {
				return fmt.Sprintf(`{"algorithm":"sha512","hash":{"value":%q,"encoding":"base64"}}`, base64.RawURLEncoding.EncodeToString(sha512Plain[:]))
			},
			wantScheme: "sha512-salted",
		},
		{
			name: "md5 unsalted hex",
			raw: func(*testing.T) string {
				return fmt.Sprintf(`{"algorithm":"md5","hash":{"value":"%x","encoding":"hex"}}`, md5Plain)
			},
			wantScheme: "md5-salted",
		},
		{
			name: "sha1 hex salt suffix",
			raw: func(*testing.T) string {
				return fmt.Sprintf(`{"algorithm":"sha1","hash":{"value":"%x","encoding":"hex"},"salt":{"value":"dead","encoding":"hex","position":"suffix"}}`, sha1Salted)
			},
			wantScheme: "sha1-salted",
		},
		{
			name: "hmac sha256",
			raw: func(*testing.T) string {
				return fmt.Sprintf(`{"algorithm":"hmac","hash":{"value":"%x","encoding":"hex","digest":"sha256","key":{"value":"k3y","encoding":"utf8"}},"salt":{"value":"NaCl"}}`, hmacSum)
			},
			wantScheme: "hmac-sha256",
		},
		{
			name: "ldap ssha",
			raw: func(*testing.T) string {
				return fmt.Sprintf(`{"algorithm":"ldap","hash":{"value":"{SSHA}%s","encoding":"utf8"}}`, ssha)
			},
			wantScheme: "sha1-salted",
		},
		{
			name: "scrypt RFC 7914 vector",
			raw: func(*testing.T) string {
				return `{"algorithm":"scrypt","hash":{"value":"fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640","encoding":"hex"},` +
					`"salt":{"value":"NaCl"},"keylen":64,"cost":1024,"blockSize":8,"parallelization":16}`
			},
			wantScheme: "scrypt", password: "password",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded, err := FromAuth0CustomHash(json.RawMessage(tt.raw(t)))
			if err != nil {
				t.Fatalf("FromAuth0CustomHash: %v", err)
			}
			if scheme, err := Identify(encoded); err != nil || scheme != tt.wantScheme {
				t.Fatalf("Identify(%q) = %q, %v; want %q", encoded, scheme, err, tt.wantScheme)
			}
			right := tt.password
			if right == "" {
				right = "secret"
			}
			h := NewHasher(cheap, 1)
			for _, c := range []struct {
				password string
				want     bool
			}{{right, true}, {right + "x", false}, {"", false}} {
				ok, _, err := h.Verify(t.Context(), encoded, c.password)
				if err != nil || ok != c.want {
					t.Fatalf("Verify(%q, %q) = %v, %v; want %v", encoded, c.password, ok, err, c.want)
				}
			}
		})
	}

	t.Run("latin1 password encoding", func(t *testing.T) {
		raw := fmt.Sprintf(`{"algorithm":"sha256","hash":{"value":"%x","encoding":"hex"},"password":{"encoding":"latin1"}}`, latin1Sum)
		encoded, err := FromAuth0CustomHash(json.RawMessage(raw))
		if err != nil {
			t.Fatalf("FromAuth0CustomHash: %v", err)
		}
		ok, _, err := NewHasher(cheap, 1).Verify(t.Context(), encoded, "pä")
		if err != nil || !ok {
			t.Fatalf("Verify(%q, pä) = %v, %v; want true", encoded, ok, err)
		}
	})
}

func TestFromAuth0CustomHashRejects(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"not json", `{`, ErrMalformed},
		{"unknown field", `{"algorithm":"sha256","hash":{"value":"00","encoding":"hex"},"rounds":3}`, ErrMalformed},
		{"no algorithm", `{"hash":{"value":"x"}}`, ErrMalformed},
		{"unknown algorithm", `{"algorithm":"rot13","hash":{"value":"x"}}`, ErrUnsupported},
		{"md4", `{"algorithm":"md4","hash":{"value":"00","encoding":"hex"}}`, ErrUnsupported},
		{"hmac whirlpool", `{"algorithm":"hmac","hash":{"value":"00","encoding":"hex","digest":"whirlpool","key":{"value":"k"}}}`, ErrUnsupported},
		{"hmac without key", `{"algorithm":"hmac","hash":{"value":"00","encoding":"hex","digest":"sha256"}}`, ErrMalformed},
		{"ldap crypt", `{"algorithm":"ldap","hash":{"value":"{CRYPT}abc","encoding":"utf8"}}`, ErrUnsupported},
		{"sha256 wrong length", `{"algorithm":"sha256","hash":{"value":"abcd","encoding":"hex"}}`, ErrMalformed},
		{"sha256 not hex", `{"algorithm":"sha256","hash":{"value":"zz","encoding":"hex"}}`, ErrMalformed},
		{"sha256 utf8 encoding", `{"algorithm":"sha256","hash":{"value":"abcd","encoding":"utf8"}}`, ErrMalformed},
		{"bad salt position", `{"algorithm":"md5","hash":{"value":"00000000000000000000000000000000","encoding":"hex"},"salt":{"value":"s","position":"middle"}}`, ErrMalformed},
		{"bcrypt with salt", `{"algorithm":"bcrypt","hash":{"value":"$2a$10$x"},"salt":{"value":"s"}}`, ErrMalformed},
		{"bcrypt value not bcrypt", `{"algorithm":"bcrypt","hash":{"value":"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"}}`, ErrMalformed},
		{"argon2 absurd memory", `{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"}}`, ErrMalformed},
		{"pbkdf2 not PHC", `{"algorithm":"pbkdf2","hash":{"value":"pbkdf2_sha256$1000$salt$hash"}}`, ErrMalformed},
		{"scrypt cost not power of two", `{"algorithm":"scrypt","hash":{"value":"00000000","encoding":"hex"},"salt":{"value":"s"},"cost":1000}`, ErrMalformed},
		{"unsupported password encoding", `{"algorithm":"md5","hash":{"value":"00000000000000000000000000000000","encoding":"hex"},"password":{"encoding":"utf32"}}`, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromAuth0CustomHash(json.RawMessage(tt.raw))
			if !errors.Is(err, tt.want) {
				t.Fatalf("FromAuth0CustomHash = %q, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

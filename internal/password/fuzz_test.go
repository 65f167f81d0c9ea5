package password

import (
	"encoding/json"
	"errors"
	"testing"
)

// cheapToVerify keeps the fuzzer from spending seconds on one input: the parser accepts costs
// a fuzzer should not run.
func cheapToVerify(v verifier) bool {
	switch v := v.(type) {
	case argon2Hash:
		return uint64(v.memory)*uint64(v.time) <= 1024
	case bcryptHash:
		return v.encoded[4:6] == "04"
	case pbkdf2Hash:
		return v.iter <= 1000
	case scryptHash:
		return v.logN <= 8 && v.r*v.p <= 16
	}
	return true
}

func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$2a$04$C6UzMDM.H6dfI/f/IKxGhuSq8ZCl3yMnLcT1wb5O.yFr8mnaJuBG6",
		"$pbkdf2-sha256$i=1,l=32$c2FsdA$VazA...",
		"$pbkdf2-sha1$i=4096$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE",
		"$scrypt$ln=4,r=1,p=1$TmFDbA$AAAAAAAAAAAAAAAAAAAAAA",
		"$sha256-salted$pos=prefix$TmFDbA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$md5-salted$pos=suffix,pe=utf16le$$AAAAAAAAAAAAAAAAAAAAAA",
		"$hmac-sha1$pos=prefix,key=azN5$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$",
		"$$$$",
	} {
		f.Add(s, "password")
	}
	h := NewHasher(cheap, 1)
	f.Fuzz(func(t *testing.T, encoded, password string) {
		v, err := parse(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("parse(%q) error %v wraps neither ErrMalformed nor ErrUnsupported", encoded, err)
			}
			return
		}
		// The canonical spelling must parse to the same canonical spelling.
		again, err := parse(v.String())
		if err != nil || again.String() != v.String() {
			t.Fatalf("parse(%q).String() = %q does not round-trip: %v", encoded, v.String(), err)
		}
		if cheapToVerify(v) {
			if _, _, err := h.Verify(t.Context(), encoded, password); err != nil {
				t.Fatalf("Verify(%q) after a successful parse: %v", encoded, err)
			}
		}
	})
}

func FuzzFromAuth0CustomHash(f *testing.F) {
	for _, s := range []string{
		`{"algorithm":"bcrypt","hash":{"value":"$2a$04$C6UzMDM.H6dfI/f/IKxGhuSq8ZCl3yMnLcT1wb5O.yFr8mnaJuBG6"}}`,
		`{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo","encoding":"utf8"}}`,
		`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=1000,l=16$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAA==","encoding":"utf8"}}`,
		`{"algorithm":"sha256","hash":{"value":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","encoding":"hex"},"salt":{"value":"NaCl","position":"suffix"}}`,
		`{"algorithm":"sha512","hash":{"value":"AAAA","encoding":"base64"},"salt":{"value":"TmFDbA","encoding":"base64"},"password":{"encoding":"ucs2"}}`,
		`{"algorithm":"hmac","hash":{"value":"0011","encoding":"hex","digest":"md5","key":{"value":"6b6579","encoding":"hex"}}}`,
		`{"algorithm":"ldap","hash":{"value":"{SSHA}AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}`,
		`{"algorithm":"scrypt","hash":{"value":"AAAAAAAA","encoding":"base64"},"salt":{"value":"s"},"cost":16,"blockSize":1,"parallelization":1}`,
		`{"algorithm":"md4"}`,
		`null`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		encoded, err := FromAuth0CustomHash(json.RawMessage(raw))
		if err != nil {
			return
		}
		if _, err := Identify(encoded); err != nil {
			t.Fatalf("FromAuth0CustomHash(%s) = %q, which Identify rejects: %v", raw, encoded, err)
		}
	})
}

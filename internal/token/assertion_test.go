package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesameauth/sesame/internal/token"
)

// clientKeys are a client's key pairs. RSA generation is slow, so they are made once and only
// read afterwards; every case builds its own assertion from them.
type clientKeys struct {
	rsa, rsa2    *rsa.PrivateKey
	rsaSmall     *rsa.PrivateKey
	p256, p384   *ecdsa.PrivateKey
	ed           ed25519.PrivateKey
	edPEM        string
	edCertPEM    string
	rsaPEM       string // PKIX PUBLIC KEY
	rsa2PEM      string
	rsaSmallPEM  string
	rsaPKCS1PEM  string // RSA PUBLIC KEY
	p256CertPEM  string // CERTIFICATE
	p384PEM      string
	rsa2CertPEM  string
	notAKeyPEM   string
	corruptedPEM string
}

var loadClientKeys = sync.OnceValues(func() (*clientKeys, error) {
	var (
		k   clientKeys
		err error
	)
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if k.rsaSmall, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		return nil, err
	}
	if k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		return nil, err
	}
	pkix := func(pub crypto.PublicKey) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			panic(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	k.rsaPEM, k.rsa2PEM, k.rsaSmallPEM, k.p384PEM = pkix(&k.rsa.PublicKey), pkix(&k.rsa2.PublicKey), pkix(&k.rsaSmall.PublicKey), pkix(&k.p384.PublicKey)
	k.rsaPKCS1PEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))
	if k.p256CertPEM, err = selfSigned(k.p256); err != nil {
		return nil, err
	}
	if k.rsa2CertPEM, err = selfSigned(k.rsa2); err != nil {
		return nil, err
	}
	var edPub ed25519.PublicKey
	if edPub, k.ed, err = ed25519Key(); err != nil {
		return nil, err
	}
	k.edPEM = pkix(edPub)
	if k.edCertPEM, err = selfSigned(k.ed); err != nil {
		return nil, err
	}
	k.notAKeyPEM = "-----BEGIN PRIVATE NOTE-----\naGVsbG8=\n-----END PRIVATE NOTE-----\n"
	k.corruptedPEM = "-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----\n"
	return &k, nil
})

func selfSigned(priv crypto.Signer) (string, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "client"},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

func ed25519Key() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

func mustClientKeys(t testing.TB) *clientKeys {
	t.Helper()
	k, err := loadClientKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const clientID = "kbyuFDidLLm280LIwVFiazOqjO3ty8KH"

var assertionAudiences = []string{issuer, issuer + "oauth/token"}

// assertion builds the claims a go-auth0 client sends, then lets a case change them.
func assertion(t testing.TB, alg jose.SignatureAlgorithm, key any, edit func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{
		"iss": clientID, "sub": clientID, "aud": issuer,
		"iat": t0.Unix(), "exp": t0.Add(2 * time.Minute).Unix(), "jti": "6d5b6f3c-1b1e-4d29",
	}
	if edit != nil {
		edit(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return joseSign(t, alg, key, "", payload)
}

func TestVerifyClientAssertion(t *testing.T) {
	t.Parallel()
	k := mustClientKeys(t)
	set := func(name string, v any) func(map[string]any) {
		return func(c map[string]any) { c[name] = v }
	}
	del := func(name string) func(map[string]any) {
		return func(c map[string]any) { delete(c, name) }
	}
	tests := []struct {
		name    string
		raw     func(t testing.TB) string
		pems    []string
		wantErr bool
	}{
		{name: "RS256 with a PUBLIC KEY", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, nil) }, pems: []string{k.rsaPEM}},
		{name: "RS384", raw: func(t testing.TB) string { return assertion(t, jose.RS384, k.rsa, nil) }, pems: []string{k.rsaPEM}},
		{name: "RS512", raw: func(t testing.TB) string { return assertion(t, jose.RS512, k.rsa, nil) }, pems: []string{k.rsaPEM}},
		{name: "PS256", raw: func(t testing.TB) string { return assertion(t, jose.PS256, k.rsa, nil) }, pems: []string{k.rsaPEM}},
		{name: "PS512 with an RSA PUBLIC KEY", raw: func(t testing.TB) string { return assertion(t, jose.PS512, k.rsa, nil) }, pems: []string{k.rsaPKCS1PEM}},
		{name: "ES256 with a CERTIFICATE", raw: func(t testing.TB) string { return assertion(t, jose.ES256, k.p256, nil) }, pems: []string{k.p256CertPEM}},
		{name: "ES384", raw: func(t testing.TB) string { return assertion(t, jose.ES384, k.p384, nil) }, pems: []string{k.p384PEM}},
		{name: "second registered key", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa2, nil) }, pems: []string{k.rsaPEM, k.rsa2CertPEM}},
		{name: "aud array", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("aud", []string{"https://other/", issuer + "oauth/token"}))
		}, pems: []string{k.rsaPEM}},
		{name: "exp just past within skew", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("exp", t0.Add(-9*time.Second).Unix()))
		}, pems: []string{k.rsaPEM}},
		{name: "exp 5 minutes ahead", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("exp", t0.Add(5*time.Minute).Unix()))
		}, pems: []string{k.rsaPEM}},
		{name: "exp fractional", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("exp", float64(t0.Unix())+60.5))
		}, pems: []string{k.rsaPEM}},
		{name: "no iat", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, del("iat")) }, pems: []string{k.rsaPEM}},
		{name: "iat within skew", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("iat", t0.Add(10*time.Second).Unix()))
		}, pems: []string{k.rsaPEM}},

		{name: "alg none", raw: func(t testing.TB) string {
			b := base64.RawURLEncoding.EncodeToString
			return b([]byte(`{"alg":"none"}`)) + "." + b([]byte(`{"iss":"`+clientID+`","sub":"`+clientID+`"}`)) + "."
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "HS256 keyed with the public key PEM", raw: func(t testing.TB) string {
			return assertion(t, jose.HS256, []byte(k.rsaPEM), nil)
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "EdDSA with an Ed25519 PUBLIC KEY", raw: func(t testing.TB) string { return assertion(t, jose.EdDSA, k.ed, nil) }, pems: []string{k.edPEM}},
		{name: "EdDSA with an Ed25519 CERTIFICATE", raw: func(t testing.TB) string { return assertion(t, jose.EdDSA, k.ed, nil) }, pems: []string{k.rsaPEM, k.edCertPEM}},
		{name: "EdDSA with only an RSA key registered", raw: func(t testing.TB) string { return assertion(t, jose.EdDSA, k.ed, nil) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "EdDSA by another Ed25519 key", raw: func(t testing.TB) string {
			_, other, _ := ed25519Key()
			return assertion(t, jose.EdDSA, other, nil)
		}, pems: []string{k.edPEM}, wantErr: true},
		{name: "signed by an unregistered key", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa2, nil) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "ES384 header with a P-256 key", raw: func(t testing.TB) string { return assertion(t, jose.ES256, k.p256, nil) }, pems: []string{k.p384PEM}, wantErr: true},
		{name: "RSA key under 2048 bits", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsaSmall, nil) }, pems: []string{k.rsaSmallPEM}, wantErr: true},
		{name: "no registered key", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, nil) }, pems: nil, wantErr: true},
		{name: "registered key is not a key", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, nil) }, pems: []string{k.notAKeyPEM}, wantErr: true},
		{name: "registered key is corrupt", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, nil) }, pems: []string{k.corruptedPEM}, wantErr: true},
		{name: "iss is another client", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, func(c map[string]any) { c["iss"], c["sub"] = "other", "other" })
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "sub differs from iss", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, set("sub", "auth0|1")) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "no sub", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, del("sub")) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "aud another server", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, set("aud", "https://evil/")) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "aud missing", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, del("aud")) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "aud a number", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, set("aud", 1)) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "exp missing", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, del("exp")) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "exp a string", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("exp", "9999999999"))
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "expired", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("exp", t0.Add(-10*time.Second).Unix()))
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "exp too far ahead", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("exp", t0.Add(5*time.Minute+11*time.Second).Unix()))
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "iat in the future", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("iat", t0.Add(11*time.Second).Unix()))
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "nbf in the future", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, set("nbf", t0.Add(11*time.Second).Unix()))
		}, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "jti missing", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, del("jti")) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "jti empty", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, set("jti", "")) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "jti a number", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, set("jti", 7)) }, pems: []string{k.rsaPEM}, wantErr: true},
		{name: "garbage", raw: func(t testing.TB) string { return "x.y.z" }, pems: []string{k.rsaPEM}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := tt.raw(t)
			got, err := token.VerifyClientAssertion(raw, tt.pems, clientID, assertionAudiences, t0)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got claims %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want the assertion accepted", err)
			}
			if got.Issuer != clientID || got.Subject != clientID || got.JTI != "6d5b6f3c-1b1e-4d29" || got.ExpiresAt.IsZero() {
				t.Errorf("claims: got %+v, want iss=sub=%s and the jti", got, clientID)
			}
			if iss, err := token.PeekAssertionIssuer(raw); err != nil || iss != clientID {
				t.Errorf("PeekAssertionIssuer: got %q, %v; want %q", iss, err, clientID)
			}
		})
	}
}

// TestAssertionErrorsAreTyped: claim and signature failures wrap ErrInvalidAssertion so that the
// caller can map them to 401 without parsing text.
func TestAssertionErrorsAreTyped(t *testing.T) {
	t.Parallel()
	k := mustClientKeys(t)
	raw := assertion(t, jose.RS256, k.rsa, func(c map[string]any) { c["aud"] = "https://evil/" })
	if _, err := token.VerifyClientAssertion(raw, []string{k.rsaPEM}, clientID, assertionAudiences, t0); !errors.Is(err, token.ErrInvalidAssertion) {
		t.Errorf("wrong aud: got %v, want ErrInvalidAssertion", err)
	}
	raw = assertion(t, jose.RS256, k.rsa2, nil)
	if _, err := token.VerifyClientAssertion(raw, []string{k.rsaPEM}, clientID, assertionAudiences, t0); !errors.Is(err, token.ErrInvalidAssertion) {
		t.Errorf("wrong key: got %v, want ErrInvalidAssertion", err)
	}
}

func TestPeekAssertionIssuer(t *testing.T) {
	t.Parallel()
	k := mustClientKeys(t)
	tests := []struct {
		name    string
		raw     func(t testing.TB) string
		want    string
		wantErr bool
	}{
		{name: "iss equals sub", raw: func(t testing.TB) string { return assertion(t, jose.RS256, k.rsa, nil) }, want: clientID},
		{name: "unverified: any signature", raw: func(t testing.TB) string { return assertion(t, jose.ES256, k.p256, nil) }, want: clientID},
		{name: "sub differs", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, func(c map[string]any) { c["sub"] = "x" })
		}, wantErr: true},
		{name: "iss missing", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, func(c map[string]any) { delete(c, "iss") })
		}, wantErr: true},
		{name: "iss not a string", raw: func(t testing.TB) string {
			return assertion(t, jose.RS256, k.rsa, func(c map[string]any) { c["iss"], c["sub"] = 1, 1 })
		}, wantErr: true},
		{name: "HS256", raw: func(t testing.TB) string { return assertion(t, jose.HS256, []byte(k.rsaPEM), nil) }, wantErr: true},
		{name: "empty", raw: func(t testing.TB) string { return "" }, wantErr: true},
		{name: "not a JWS", raw: func(t testing.TB) string { return "abc" }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := token.PeekAssertionIssuer(tt.raw(t))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %q, %v; want %q, error=%v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, token.ErrInvalidAssertion) {
				t.Errorf("error %v does not wrap ErrInvalidAssertion", err)
			}
		})
	}
}

func FuzzPeekAssertionIssuer(f *testing.F) {
	k, err := loadClientKeys()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(assertion(f, jose.RS256, k.rsa, nil))
	f.Add(assertion(f, jose.ES256, k.p256, func(c map[string]any) { c["sub"] = 1 }))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		iss, err := token.PeekAssertionIssuer(raw)
		if err != nil && iss != "" {
			t.Fatalf("error %v with issuer %q", err, iss)
		}
		if err == nil && iss == "" {
			t.Fatal("accepted with an empty issuer")
		}
	})
}

func FuzzVerifyClientAssertion(f *testing.F) {
	k, err := loadClientKeys()
	if err != nil {
		f.Fatal(err)
	}
	good := assertion(f, jose.RS256, k.rsa, nil)
	f.Add(good)
	f.Add(assertion(f, jose.PS256, k.rsa, func(c map[string]any) { c["aud"] = []string{issuer} }))
	f.Add(assertion(f, jose.HS256, []byte(k.rsaPEM), nil))
	f.Add(good[:len(good)-3] + "AAA")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := token.VerifyClientAssertion(raw, []string{k.rsaPEM, k.p256CertPEM}, clientID, assertionAudiences, t0)
		if err != nil {
			return
		}
		// Whatever was accepted must be a genuine, complete assertion of this client.
		if got.Issuer != clientID || got.Subject != clientID || got.JTI == "" {
			t.Fatalf("accepted %q with claims %+v", raw, got)
		}
		if got.ExpiresAt.Before(t0.Add(-token.AssertionSkew)) || got.ExpiresAt.After(t0.Add(token.AssertionMaxLifetime+token.AssertionSkew)) {
			t.Fatalf("accepted exp %v", got.ExpiresAt)
		}
	})
}

// TestParseClientKey is the one rule for a registered client key, which the Management API,
// the CLI, the tenant file and assertion verification all apply.
func TestParseClientKey(t *testing.T) {
	k := mustClientKeys(t)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&p224.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p224PEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	privDER, err := x509.MarshalPKCS8PrivateKey(k.p256)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	for _, tc := range []struct {
		name, pem string
		wantErr   string // "" when the key is accepted
	}{
		{"RSA 2048 PUBLIC KEY", k.rsaPEM, ""},
		{"RSA 2048 RSA PUBLIC KEY", k.rsaPKCS1PEM, ""},
		{"RSA 2048 CERTIFICATE", k.rsa2CertPEM, ""},
		{"P-256 CERTIFICATE", k.p256CertPEM, ""},
		{"P-384 PUBLIC KEY", k.p384PEM, ""},
		{"Ed25519 PUBLIC KEY", k.edPEM, ""},
		{"Ed25519 CERTIFICATE", k.edCertPEM, ""},
		{"surrounding blank lines", "\n\n" + k.rsaPEM + "\n\n", ""},
		{"RSA 1024", k.rsaSmallPEM, "RSA key has 1024 bits, at least 2048 are required"},
		{"P-224", p224PEM, "ECDSA curve P-224 is not supported (P-256, P-384 or P-521)"},
		{"private key", privPEM, "is a private key: register the public key or certificate only"},
		{"two blocks", k.rsaPEM + k.p384PEM, "must hold exactly one PEM block"},
		{"not PEM", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "is not PEM"},
		{"empty", "", "is not PEM"},
		{"other block", "-----BEGIN MESSAGE-----\naGVsbG8=\n-----END MESSAGE-----\n", `PEM block "MESSAGE" is not a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE`},
		{"corrupt", k.corruptedPEM, "cannot parse the public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := token.ParseClientKey(tc.pem)
			switch {
			case tc.wantErr == "" && (err != nil || key == nil):
				t.Errorf("got %v, want the key accepted", err)
			case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error starting %q", err, tc.wantErr)
			}
		})
	}
}

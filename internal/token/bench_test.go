package token_test

import (
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/token"
	"github.com/sesameauth/sesame/internal/token/tokentest"
)

// benchKeys is a Keys on the real clock, so that the benchmark includes the once-a-second
// store reads of production.
func benchKeys(b *testing.B, algs ...string) *token.Keys {
	b.Helper()
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		b.Fatal(err)
	}
	k := token.NewKeys(&tokentest.SigningKeys{}, box, time.Now)
	if err := k.Ensure(b.Context(), algs...); err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkSign mints a typical password-grant access token (two audiences, scope, gty).
func BenchmarkSign(b *testing.B) {
	k := benchKeys(b, "PS256", "ES256", "EdDSA")
	m := &token.Minter{Keys: k, Issuer: issuer}
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"} {
		b.Run(alg, func(b *testing.B) {
			at := token.AccessToken{Subject: "auth0|65f1c0ffee", ClientID: clientID, Audience: "https://api.example/",
				UserinfoAudience: true, Scope: "openid profile email read:things", GrantType: "password", Alg: alg}
			if alg == "HS256" {
				at.HMACSecret = hmacSecret
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := m.AccessToken(b.Context(), at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignParallel signs on every P of -cpu at once: ns/op is wall time over all the
// signatures, so with -cpu 1,2 it shows how far this machine's cores scale for the crypto that
// bounds the token endpoint (on the 2-vCPU machines we measure on, RS256 scales ~1.45×, not 2×:
// see "The crypto ceiling" in docs/performance.md).
func BenchmarkSignParallel(b *testing.B) {
	k := benchKeys(b, "ES256")
	m := &token.Minter{Keys: k, Issuer: issuer}
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			at := token.AccessToken{Subject: "auth0|65f1c0ffee", ClientID: clientID, Audience: "https://api.example/",
				UserinfoAudience: true, Scope: "openid profile email read:things", GrantType: "password", Alg: alg}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := m.AccessToken(b.Context(), at); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkJWKS(b *testing.B) {
	k := benchKeys(b, "ES256")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.JWKS(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

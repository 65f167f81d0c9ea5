package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

func (p *applyPlan) planAPIs(stored []store.ResourceServer) {
	byIdentifier := map[string]store.ResourceServer{}
	for _, rs := range stored {
		byIdentifier[rs.Identifier] = rs
	}
	now := p.s.now()
	for _, f := range p.tf.ResourceServers {
		cur, exists := byIdentifier[f.Identifier]
		want := cur
		if !exists {
			want = store.ResourceServer{ID: store.NewID("", 12), Identifier: f.Identifier, Name: f.Identifier,
				SigningAlg: "RS256", TokenLifetime: DefaultTokenLifetime, TokenDialect: "access_token",
				Scopes: []store.Scope{}, CreatedAt: now}
		}
		if f.Name != "" {
			want.Name = f.Name
		}
		if f.Scopes != nil {
			want.Scopes = make([]store.Scope, len(f.Scopes))
			for i, sc := range f.Scopes {
				want.Scopes[i] = store.Scope{Value: sc.Value, Description: sc.Description}
			}
		}
		setIf(&want.SigningAlg, f.SigningAlg)
		setIf(&want.AllowOfflineAccess, f.AllowOfflineAccess)
		setIf(&want.TokenLifetime, f.TokenLifetime)
		setIf(&want.TokenDialect, f.TokenDialect)
		setIf(&want.EnforcePolicies, f.EnforcePolicies)
		p.validationProblems(f.Path, CheckAPI(want))
		if strings.HasSuffix(want.TokenDialect, "_authz") && !want.EnforcePolicies {
			p.problem(f.Path+".token_dialect", "%s needs enforce_policies: true", want.TokenDialect)
		}
		p.apiSecret(f, cur, &want)
		p.apis[want.Identifier] = want.Scopes
		if !exists && want.SigningAlg != "HS256" && !slices.Contains(p.newAlgs, want.SigningAlg) {
			p.newAlgs = append(p.newAlgs, want.SigningAlg)
		}
		label := fmt.Sprintf("api %q", want.Identifier)
		if !exists {
			want.UpdatedAt = now
			p.step(label, true, false, func(ctx context.Context) error {
				return p.s.Store.CreateResourceServer(ctx, want)
			})
			continue
		}
		changed := !applySame(applyStampless(cur), applyStampless(want))
		want.UpdatedAt = now
		p.step(label, false, changed, func(ctx context.Context) error {
			return p.s.Store.UpdateResourceServer(ctx, want.Identifier, func(rs *store.ResourceServer) error {
				want.CreatedAt = rs.CreatedAt
				*rs = want
				return nil
			})
		})
	}
}

// apiSecret decides an API's sealed HS256 signing secret: the file's, else the stored one,
// else a generated one. A stored secret equal to the file's is kept as is (sealing is
// randomised, so re-sealing would look like a change).
func (p *applyPlan) apiSecret(f config.ResourceServer, cur store.ResourceServer, want *store.ResourceServer) {
	if want.SigningAlg != "HS256" {
		want.SigningSecretSealed = nil
		return
	}
	aad := store.APISecretAAD(want.Identifier)
	if p.s.Box == nil {
		p.problem(f.Path+".signing_alg", "HS256 needs a key-encryption key to seal the signing secret, and none is configured")
		return
	}
	if f.SigningSecret == "" {
		if len(cur.SigningSecretSealed) > 0 {
			if _, err := p.s.Box.Open(cur.SigningSecretSealed, aad); err == nil {
				return
			}
		}
		secret := password.NewSecret()
		want.SigningSecretSealed = p.s.Box.Seal([]byte(secret), aad)
		p.secrets = append(p.secrets, GeneratedSecret{Kind: "api", Name: want.Name, Identifier: want.Identifier, Secret: secret})
		return
	}
	if old, err := p.s.Box.Open(cur.SigningSecretSealed, aad); err == nil && string(old) == f.SigningSecret {
		return
	}
	want.SigningSecretSealed = p.s.Box.Seal([]byte(f.SigningSecret), aad)
}

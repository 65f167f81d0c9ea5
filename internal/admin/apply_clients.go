package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

func (p *applyPlan) planClients(stored []store.Client) {
	byID := map[string]store.Client{}
	storedNames := map[string][]string{}
	for _, c := range stored {
		byID[c.ClientID] = c
		storedNames[c.Name] = append(storedNames[c.Name], c.ClientID)
	}
	now := p.s.now()
	fileIDs := map[string]bool{}
	for _, f := range p.tf.Clients {
		if f.ClientID != "" {
			fileIDs[f.ClientID] = true
		}
	}
	for _, f := range p.tf.Clients {
		var cur store.Client
		exists := false
		switch ids := storedNames[f.Name]; {
		case f.ClientID != "":
			cur, exists = byID[f.ClientID]
		case len(ids) > 1:
			p.problem(f.Path+".name", "%d stored clients are named %q: give client_id to say which", len(ids), f.Name)
			continue
		case len(ids) == 1 && !fileIDs[ids[0]]:
			cur, exists = byID[ids[0]], true
		}
		want := p.client(f, cur, exists, now)
		p.clientsByID[want.ClientID] = true
		p.clientNames[want.Name] = append(p.clientNames[want.Name], want.ClientID)
		label := fmt.Sprintf("client %q (%s)", want.Name, want.ClientID)
		if !exists {
			p.step(label, true, false, func(ctx context.Context) error { return p.s.Store.CreateClient(ctx, want) })
			continue
		}
		changed := !applySame(applyStampless(cur), applyStampless(want))
		want.UpdatedAt = now
		p.step(label, false, changed, func(ctx context.Context) error {
			return p.s.Store.UpdateClient(ctx, want.ClientID, func(c *store.Client) error {
				want.CreatedAt = c.CreatedAt
				*c = want
				return nil
			})
		})
	}
	// Stored clients the file does not name still resolve in enabled_clients.
	for _, c := range stored {
		if !p.clientsByID[c.ClientID] {
			p.clientsByID[c.ClientID] = true
			p.clientNames[c.Name] = append(p.clientNames[c.Name], c.ClientID)
		}
	}
}

func (p *applyPlan) client(f config.Client, cur store.Client, exists bool, now time.Time) store.Client {
	want := cur
	if exists {
		want.Credentials = slices.Clone(cur.Credentials)
		want.GrantTypes = slices.Clone(cur.GrantTypes)
		want.Metadata = maps.Clone(cur.Metadata)
	} else {
		appType := AppRegularWeb
		setIf(&appType, f.AppType)
		want = store.Client{
			ClientID: f.ClientID, AppType: appType,
			GrantTypes:              slices.Clone(DefaultGrantTypes),
			TokenEndpointAuthMethod: DefaultAuthMethod(appType),
			IDTokenAlg:              "RS256", IDTokenLifetime: DefaultIDTokenLifetime,
			RefreshToken: DefaultRefreshPolicy(appType), Metadata: map[string]string{},
			CreatedAt: now, UpdatedAt: now,
		}
		if want.ClientID == "" {
			want.ClientID = randomAlnum(clientIDLength)
		}
	}
	want.Name = f.Name
	setIf(&want.Description, f.Description)
	setIf(&want.AppType, f.AppType)
	setIf(&want.TokenEndpointAuthMethod, f.TokenEndpointAuthMethod)
	if f.GrantTypes != nil {
		want.GrantTypes = []string{}
		for _, g := range f.GrantTypes {
			if slices.Contains(KnownGrantTypes, g) && !slices.Contains(want.GrantTypes, g) {
				want.GrantTypes = append(want.GrantTypes, g)
			}
		}
	}
	if j := f.JWTConfiguration; j != nil {
		setIf(&want.IDTokenAlg, j.Alg)
		setIf(&want.IDTokenLifetime, j.LifetimeInSeconds)
	}
	if want.IDTokenAlg == "PS256" && !slices.Contains(p.newAlgs, "PS256") {
		p.newAlgs = append(p.newAlgs, "PS256")
	}
	if r := f.RefreshToken; r != nil {
		setIf(&want.RefreshToken.RotationType, r.RotationType)
		setIf(&want.RefreshToken.ExpirationType, r.ExpirationType)
		setIf(&want.RefreshToken.TokenLifetime, r.TokenLifetime)
		setIf(&want.RefreshToken.IdleTokenLifetime, r.IdleTokenLifetime)
		setIf(&want.RefreshToken.InfiniteTokenLifetime, r.InfiniteTokenLifetime)
		setIf(&want.RefreshToken.InfiniteIdleTokenLifetime, r.InfiniteIdleTokenLifetime)
		setIf(&want.RefreshToken.Leeway, r.Leeway)
	}
	setIf(&want.IsTokenEndpointIPHeaderTrusted, f.IsTokenEndpointIPHeaderTrusted)
	if f.ClientMetadata != nil {
		want.Metadata = maps.Clone(f.ClientMetadata)
	}
	if f.Credentials != nil {
		want.Credentials = applyCredentials(f.Credentials, cur.Credentials, now)
		for i, k := range f.Credentials {
			if _, err := token.ParseClientKey(k.PEM); err != nil && k.PEM != "" {
				p.problem(fmt.Sprintf("%s.client_authentication_methods.private_key_jwt.credentials[%d].pem", f.Path, i), "%v", err)
			}
		}
	}
	if f.WebOrigins != nil {
		origins, errs := CheckWebOrigins(f.WebOrigins)
		want.WebOrigins = origins
		p.validationProblems(f.Path, errors.Join(errs...))
	}

	// The Management API's rules for the enumerated fields and the ID token, on the record
	// as it will be stored.
	p.validationProblems(f.Path, errors.Join(append(checkClientKind(want), checkIDToken(want)...)...))
	public := want.TokenEndpointAuthMethod == AuthNone
	for i, g := range want.GrantTypes {
		if g == GrantClientCredentials && public {
			p.problem(fmt.Sprintf("%s.grant_types[%d]", f.Path, i), "client_credentials needs a confidential client, but token_endpoint_auth_method is none")
		}
	}
	if want.TokenEndpointAuthMethod == AuthPrivateKey && len(want.Credentials) == 0 {
		p.problem(f.Path+".client_authentication_methods.private_key_jwt.credentials", "private_key_jwt needs at least one credential")
	}
	p.clientSecret(f, cur, &want, public)
	return want
}

// clientSecret decides the stored secret hash and, for HS256 ID tokens, the sealed secret.
func (p *applyPlan) clientSecret(f config.Client, cur store.Client, want *store.Client, public bool) {
	hs256 := want.IDTokenAlg == "HS256"
	if public {
		if f.ClientSecret != "" {
			p.problem(f.Path+".client_secret", "a public client (token_endpoint_auth_method none) has no secret")
		}
		if hs256 {
			p.problem(f.Path+".jwt_configuration.alg", "HS256 signs with the client secret, which a public client does not have")
		}
		want.SecretHash, want.SecretSealed = "", nil
		return
	}
	secret := f.ClientSecret
	switch {
	case secret != "":
		if !password.VerifySecret(cur.SecretHash, secret) {
			want.SecretHash = password.HashSecret(secret)
		}
	case want.SecretHash == "" && (want.TokenEndpointAuthMethod != AuthPrivateKey || hs256):
		secret = password.NewSecret()
		want.SecretHash = password.HashSecret(secret)
		p.secrets = append(p.secrets, GeneratedSecret{Kind: "client", Name: want.Name, ClientID: want.ClientID, Secret: secret})
	}
	if !hs256 {
		want.SecretSealed = nil
		return
	}
	if p.s.Box == nil {
		p.problem(f.Path+".jwt_configuration.alg", "HS256 needs a key-encryption key to seal the client secret, and none is configured")
		return
	}
	aad := store.ClientSecretAAD(want.ClientID)
	old, err := p.s.Box.Open(cur.SecretSealed, aad)
	haveOld := err == nil && len(cur.SecretSealed) > 0
	switch {
	case secret == "" && haveOld:
		want.SecretSealed = cur.SecretSealed
	case secret == "":
		p.problem(f.Path+".client_secret", "HS256 ID tokens are signed with the client secret, and only its hash is stored: give client_secret")
	case haveOld && string(old) == secret:
		want.SecretSealed = cur.SecretSealed
	default:
		want.SecretSealed = p.s.Box.Seal([]byte(secret), aad)
	}
}

// applyCredentials keeps the id and creation time of a stored credential with the same key.
func applyCredentials(in []config.ClientCredential, stored []store.ClientCredential, now time.Time) []store.ClientCredential {
	out := make([]store.ClientCredential, 0, len(in))
	for _, k := range in {
		pemText := strings.TrimSpace(k.PEM) + "\n"
		c := store.ClientCredential{ID: store.NewID("cred_", 11), Name: k.Name, PEM: pemText, CreatedAt: now}
		for _, old := range stored {
			if old.PEM == pemText {
				c.ID, c.CreatedAt = old.ID, old.CreatedAt
				break
			}
		}
		out = append(out, c)
	}
	return out
}

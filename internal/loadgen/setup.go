package loadgen

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// SetupOptions describe the bench tenant Setup creates.
type SetupOptions struct {
	// URL is the server the Target will point at.
	URL string
	// Users is how many users to create (default 1000).
	Users int
	// SigningAlg is the API's access-token algorithm (default RS256).
	SigningAlg string
	// SeedRefreshTokens adds this many refresh-token families (one token each) owned by a
	// separate seed client, so that the store's tables and indexes are as large as a busy
	// tenant's without the bench client's per-user cap touching them.
	SeedRefreshTokens int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Setup creates, in one go and under fresh names, what a bench run needs: an API with offline
// access, a confidential client (client_secret_post; password, password-realm and rotating
// refresh tokens), a private_key_jwt client with a generated ES256 key, a connection enabled
// for both that becomes the tenant's default directory, and the users. Users share one
// password, hashed once with svc.Hasher and stored for all of them, so that creating 100k
// users takes seconds rather than an hour of argon2id.
func Setup(ctx context.Context, svc *admin.Service, st *sqlstore.Store, o SetupOptions) (Target, error) {
	if o.Users <= 0 {
		o.Users = 1000
	}
	if o.SigningAlg == "" {
		o.SigningAlg = "RS256"
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	tag := randomID()[:8]
	t := Target{URL: o.URL, APIAlg: o.SigningAlg, Audience: "https://bench-" + tag + ".sesame.test/",
		Realm: "bench-" + tag}
	if _, err := svc.CreateAPI(ctx, admin.APIInput{Identifier: t.Audience, Name: "Bench API " + tag,
		SigningAlg: o.SigningAlg, AllowOfflineAccess: true,
		Scopes: []store.Scope{{Value: "read:bench", Description: "Read bench data"}}}); err != nil {
		return t, fmt.Errorf("loadgen: creating the bench API: %w", err)
	}
	policy := &store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "expiring",
		TokenLifetime: admin.DefaultRefreshLifetime, IdleTokenLifetime: admin.DefaultRefreshIdleLifetime}
	grants := []string{admin.GrantPassword, admin.GrantPasswordRealm, admin.GrantRefreshToken}
	c, secret, err := svc.CreateClient(ctx, admin.ClientInput{Name: "Bench App " + tag, AppType: admin.AppNonInteractive,
		TokenEndpointAuthMethod: admin.AuthSecretPost, GrantTypes: grants, RefreshToken: policy})
	if err != nil {
		return t, fmt.Errorf("loadgen: creating the bench client: %w", err)
	}
	t.ClientID, t.ClientSecret = c.ClientID, secret

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return t, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return t, err
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	ac, _, err := svc.CreateClient(ctx, admin.ClientInput{Name: "Bench Assertion App " + tag, AppType: admin.AppNonInteractive,
		TokenEndpointAuthMethod: admin.AuthPrivateKey, GrantTypes: grants, RefreshToken: policy,
		Credentials: []store.ClientCredential{{Name: "bench ES256 key", PEM: pub}}})
	if err != nil {
		return t, fmt.Errorf("loadgen: creating the private_key_jwt client: %w", err)
	}
	t.AssertionClientID, t.AssertionKey = ac.ClientID, key

	if _, err := svc.CreateConnection(ctx, t.Realm, "auth0", []string{c.ClientID, ac.ClientID}); err != nil {
		return t, fmt.Errorf("loadgen: creating the bench connection: %w", err)
	}
	// The password grant without a realm logs in through the tenant's default directory.
	if err := st.UpdateTenant(ctx, func(tn *store.Tenant) error {
		tn.DefaultDirectory = t.Realm
		return nil
	}); err != nil {
		return t, err
	}

	pw := "bench-" + randomID()
	hash, err := svc.Hasher.Hash(ctx, pw)
	if err != nil {
		return t, err
	}
	at := now().UTC()
	users := make([]store.User, o.Users)
	t.Users = make([]Credential, o.Users)
	for i := range users {
		email := fmt.Sprintf("user%07d@%s.sesame.test", i, t.Realm)
		users[i] = store.User{ID: store.NewUserID(), Connection: t.Realm, Email: email, EmailVerified: true,
			PasswordHash: hash, Name: fmt.Sprintf("Bench User %d", i), Nickname: fmt.Sprintf("user%d", i),
			CreatedAt: at, UpdatedAt: at}
		t.Users[i] = Credential{Username: email, Password: pw}
	}
	if err := st.BulkCreateUsers(ctx, users); err != nil {
		return t, fmt.Errorf("loadgen: creating users: %w", err)
	}
	if err := seedRefreshTokens(ctx, st, users, tag, o.SeedRefreshTokens, at); err != nil {
		return t, err
	}
	return t, nil
}

// seedRefreshTokens stores n live families of one token each, spread over the users and
// owned by a client id no client has.
func seedRefreshTokens(ctx context.Context, st *sqlstore.Store, users []store.User, tag string, n int, at time.Time) error {
	const batch = 50000
	for done := 0; done < n; done += batch {
		k := min(batch, n-done)
		fs := make([]store.RefreshFamily, k)
		ts := make([]store.RefreshToken, k)
		for i := range fs {
			u := users[(done+i)%len(users)]
			secret := make([]byte, 32)
			_, _ = rand.Read(secret)
			sum := sha256.Sum256(secret)
			fs[i] = store.RefreshFamily{ID: store.NewID("rtf_", 12), ClientID: "bench-seed-" + tag, UserID: u.ID,
				Connection: u.Connection, Audience: "https://bench-" + tag + ".sesame.test/", Scope: "openid offline_access",
				AuthTime: at, AMR: []string{"pwd"}, CreatedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour)}
			ts[i] = store.RefreshToken{Hash: hex.EncodeToString(sum[:]), CreatedAt: at, IdleExpiresAt: at.Add(15 * 24 * time.Hour)}
		}
		if err := st.BulkCreateRefreshFamilies(ctx, fs, ts); err != nil {
			return fmt.Errorf("loadgen: seeding refresh tokens: %w", err)
		}
	}
	return nil
}

// AwaitTarget logs in (password grant, with the target's users in turn) until the server
// accepts its tenant or within has passed. A server that caches tenant settings (1 s by
// default, docs/deploy.md) may not yet see what Setup just wrote to the database from another
// process: the run must not start, nor its warm-up fail, on that stale view.
func AwaitTarget(ctx context.Context, t Target, within time.Duration) error {
	o := Options{Scenario: KindPassword, Concurrency: 1, Scope: "openid"}
	if err := o.normalize(&t); err != nil {
		return err
	}
	r := &runner{t: t, o: o, client: &http.Client{Timeout: o.Timeout}}
	deadline := time.Now().Add(within)
	for i := 0; ; i++ {
		u := t.Users[i%len(t.Users)]
		form := url.Values{"grant_type": {grantPassword}, "client_id": {t.ClientID},
			"username": {u.Username}, "password": {u.Password}, "scope": {o.Scope}}
		if t.ClientSecret != "" {
			form.Set("client_secret", t.ClientSecret)
		}
		if t.Audience != "" {
			form.Set("audience", t.Audience)
		}
		_, code, err := r.postToken(ctx, form)
		if err == nil && code == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadgen: the server did not accept the bench tenant within %s: %w", within, cmp.Or(err, errors.New(code)))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

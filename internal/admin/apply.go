package admin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// ApplyReport says what Apply did, object by object, in the order it applied them.
type ApplyReport struct {
	Created   []string
	Changed   []string
	Unchanged []string
	// Ignored lists what the file holds that Sesame does not apply (TenantFile.Ignored).
	Ignored []string
	// Warnings lists keys unknown to the Deploy CLI format (TenantFile.Unknown).
	Warnings []string
	// GeneratedSecrets are the secrets Apply made up. They are stored only hashed or sealed,
	// so this is the one time they can be shown.
	GeneratedSecrets []GeneratedSecret
}

// GeneratedSecret is a secret Apply generated for a client (its client secret) or an HS256
// API (its signing secret).
type GeneratedSecret struct {
	// Kind is "client" or "api".
	Kind string
	Name string
	// ClientID is set for a client, Identifier for an API.
	ClientID   string
	Identifier string
	Secret     string
}

// passwordVerifier is the part of password.Hasher that Apply needs to tell whether a user's
// plaintext password in the file is the one already stored, so that applying a file twice
// changes nothing.
type passwordVerifier interface {
	Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error)
}

const (
	applyCreate = iota + 1
	applyChange
	applyKeep
)

// applyStep is one object's planned write.
type applyStep struct {
	label  string
	action int
	write  func(ctx context.Context) error
}

// applyPlan is everything Apply decided before writing anything.
type applyPlan struct {
	s        *Service
	tf       *config.TenantFile
	problems []config.Problem
	steps    []applyStep
	secrets  []GeneratedSecret
	// Lookups of what will exist once the plan is written.
	apis        map[string][]store.Scope // identifier -> scopes
	clientsByID map[string]bool
	clientNames map[string][]string // name -> client ids
	connections map[string]string   // name -> strategy
	newAlgs     []string
}

func (p *applyPlan) problem(path, format string, args ...any) {
	p.problems = append(p.problems, config.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// validationProblems turns the CRUD rules' joined *ValidationError values into problems at
// path.
func (p *applyPlan) validationProblems(path string, err error) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	for _, e := range errs {
		var ve *ValidationError
		if errors.As(e, &ve) {
			p.problem(path+"."+ve.Field, "%s", ve.Message)
		} else {
			p.problem(path, "%v", e)
		}
	}
}

// Apply makes the store match the tenant file: it creates and updates (never deletes) the
// APIs, clients, connections and users the file names, then the tenant settings, in that
// order so that references resolve. Objects are matched by API identifier, by client_id (or
// by name when the file gives none), by connection name, and by user_id or the user's email
// or username within their connection. Fields the file leaves out keep their stored values.
//
// Everything is validated, against the file and the store, before anything is written: a file
// with a problem writes nothing and yields a *config.TenantFileError listing every problem.
// Applying the same file twice changes nothing the second time.
func (s *Service) Apply(ctx context.Context, tf *config.TenantFile) (*ApplyReport, error) {
	var fileProblems []config.Problem
	if err := tf.Validate(); err != nil {
		var te *config.TenantFileError
		if !errors.As(err, &te) {
			return nil, err
		}
		fileProblems = te.Problems
	}
	// Client grants of the file may name the Management API, which must exist to be granted.
	if err := s.EnsureManagementAPI(ctx); err != nil {
		return nil, err
	}
	p := &applyPlan{s: s, tf: tf, apis: map[string][]store.Scope{}, clientsByID: map[string]bool{},
		clientNames: map[string][]string{}, connections: map[string]string{}}
	if err := p.build(ctx); err != nil {
		return nil, err
	}
	if problems := applyMergeProblems(fileProblems, p.problems); len(problems) > 0 {
		return nil, &config.TenantFileError{Problems: problems}
	}
	report := &ApplyReport{Ignored: slices.Clone(tf.Ignored), Warnings: slices.Clone(tf.Unknown)}
	for _, st := range p.steps {
		switch st.action {
		case applyKeep:
			report.Unchanged = append(report.Unchanged, st.label)
			continue
		case applyCreate:
			report.Created = append(report.Created, st.label)
		case applyChange:
			report.Changed = append(report.Changed, st.label)
		}
		if err := st.write(ctx); err != nil {
			return report, fmt.Errorf("applying %s: %w", st.label, err)
		}
	}
	if s.Keys != nil && len(p.newAlgs) > 0 {
		if err := s.Keys.Ensure(ctx, p.newAlgs...); err != nil {
			return report, fmt.Errorf("making signing keys for %s: %w", strings.Join(p.newAlgs, ", "), err)
		}
	}
	report.GeneratedSecrets = p.secrets
	return report, nil
}

func (p *applyPlan) build(ctx context.Context) error {
	storedAPIs, err := p.s.Store.ListResourceServers(ctx)
	if err != nil {
		return err
	}
	storedClients, err := p.s.Store.ListClients(ctx)
	if err != nil {
		return err
	}
	storedConns, err := p.s.Store.ListConnections(ctx)
	if err != nil {
		return err
	}
	for _, rs := range storedAPIs {
		p.apis[rs.Identifier] = rs.Scopes
	}
	for _, c := range storedConns {
		p.connections[c.Name] = c.Strategy
	}
	p.planAPIs(storedAPIs)
	p.planClients(storedClients)
	p.planConnections(storedConns)
	if err := p.planClientGrants(ctx); err != nil {
		return err
	}
	if err := p.planUsers(ctx); err != nil {
		return err
	}
	if err := p.planTenant(ctx); err != nil {
		return err
	}
	if err := p.planAttackProtection(ctx); err != nil {
		return err
	}
	if err := p.planMFA(ctx); err != nil {
		return err
	}
	return p.planHooks(ctx)
}

// applySame reports whether two records hold the same data, timestamps aside. They are compared
// as JSON so that what a store round trip does to free-form maps (numbers becoming float64,
// empty and nil collections) does not count as a change.
func applySame(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var va, vb any
	if json.Unmarshal(ja, &va) != nil || json.Unmarshal(jb, &vb) != nil {
		return false
	}
	return applyEqualJSON(va, vb)
}

func applyEqualJSON(a, b any) bool {
	if applyEmptyJSON(a) && applyEmptyJSON(b) {
		return true
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		keys := maps.Clone(x)
		maps.Copy(keys, y)
		for k := range keys {
			if !applyEqualJSON(x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !applyEqualJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func applyEmptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func (p *applyPlan) step(label string, create, changed bool, write func(context.Context) error) {
	action := applyKeep
	switch {
	case create:
		action = applyCreate
	case changed:
		action = applyChange
	}
	p.steps = append(p.steps, applyStep{label: label, action: action, write: write})
}

// --- APIs -----------------------------------------------------------------------------------

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

// --- clients --------------------------------------------------------------------------------

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
			if config.ServedGrantType(g) && !slices.Contains(want.GrantTypes, g) {
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

// --- connections ----------------------------------------------------------------------------

func (p *applyPlan) planConnections(stored []store.Connection) {
	byName := map[string]store.Connection{}
	for _, c := range stored {
		byName[c.Name] = c
	}
	now := p.s.now()
	for _, f := range append(slices.Clone(p.tf.Databases), p.tf.Connections...) {
		cur, exists := byName[f.Name]
		if exists && cur.Strategy != f.Strategy {
			p.problem(f.Path+".strategy", "the stored connection %q has strategy %q, not %q", f.Name, cur.Strategy, f.Strategy)
			continue
		}
		want := cur
		if exists {
			want.EnabledClients = slices.Clone(cur.EnabledClients)
			want.Options = maps.Clone(cur.Options)
		} else {
			want = store.Connection{ID: store.NewConnectionID(), Name: f.Name, Strategy: f.Strategy,
				EnabledClients: []string{}, Options: map[string]any{}, CreatedAt: now, UpdatedAt: now}
		}
		if f.EnabledClients != nil {
			want.EnabledClients = p.resolveClients(f)
		}
		if f.Options != nil {
			want.Options = maps.Clone(f.Options)
		}
		p.connections[want.Name] = want.Strategy
		label := fmt.Sprintf("connection %q", want.Name)
		if !exists {
			p.step(label, true, false, func(ctx context.Context) error { return p.s.Store.CreateConnection(ctx, want) })
			continue
		}
		changed := !applySame(applyStampless(cur), applyStampless(want))
		want.UpdatedAt = now
		p.step(label, false, changed, func(ctx context.Context) error {
			return p.s.Store.UpdateConnection(ctx, want.Name, func(c *store.Connection) error {
				want.CreatedAt = c.CreatedAt
				*c = want
				return nil
			})
		})
	}
}

// resolveClients turns enabled_clients entries into client ids: a client name (as the Deploy
// CLI writes them) of the file or the store, or a client id. The result is sorted so that the
// order of the file does not count as a change.
func (p *applyPlan) resolveClients(f config.Connection) []string {
	out := []string{}
	for i, e := range f.EnabledClients {
		id, ok := p.resolveClient(fmt.Sprintf("%s.enabled_clients[%d]", f.Path, i), e)
		if !ok {
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// --- users ----------------------------------------------------------------------------------

func (p *applyPlan) planUsers(ctx context.Context) error {
	var verifier passwordVerifier
	if v, ok := p.s.Hasher.(passwordVerifier); ok {
		verifier = v
	}
	conns := map[string]store.Connection{}
	for _, c := range append(slices.Clone(p.tf.Databases), p.tf.Connections...) {
		conns[c.Name] = store.Connection{Name: c.Name, Strategy: c.Strategy, Options: c.Options}
	}
	now := p.s.now()
	for _, f := range p.tf.Users {
		conn, ok := conns[f.Connection]
		if !ok || conn.Options == nil {
			stored, err := p.s.Store.GetConnection(ctx, f.Connection)
			switch {
			case errors.Is(err, store.ErrNotFound) && !ok:
				p.problem(f.Path+".connection", "no connection is named %q", f.Connection)
				continue
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return err
			case err == nil:
				if ok { // the file names no options: the stored ones still apply
					conn.Options = stored.Options
				} else {
					conn = stored
				}
			}
		}
		if conn.Strategy != StrategyAuth0 {
			p.problem(f.Path+".connection", "the connection %q has strategy %q: only auth0 connections hold users", conn.Name, conn.Strategy)
			continue
		}
		cur, exists, err := p.findUser(ctx, f)
		if err != nil {
			return err
		}
		want, ok := p.user(ctx, f, conn, cur, exists, verifier, now)
		if !ok {
			continue
		}
		login := want.Email
		if login == "" {
			login = want.Username
		}
		label := fmt.Sprintf("user %q in %s", login, want.Connection)
		if !exists {
			p.step(label, true, false, func(ctx context.Context) error { return p.s.Store.CreateUser(ctx, want) })
			continue
		}
		changed := !applySame(applyStampless(cur), applyStampless(want))
		want.UpdatedAt = now
		p.step(label, false, changed, func(ctx context.Context) error {
			return p.s.Store.UpdateUser(ctx, want.ID, func(u *store.User) error {
				// Login statistics may have moved since the plan was made: keep them.
				want.CreatedAt, want.LoginsCount, want.LastLogin, want.LastIP = u.CreatedAt, u.LoginsCount, u.LastLogin, u.LastIP
				*u = want
				return nil
			})
		})
	}
	return nil
}

func (p *applyPlan) findUser(ctx context.Context, f config.User) (store.User, bool, error) {
	if f.UserID != "" {
		u, err := p.s.Store.GetUser(ctx, f.UserID)
		if err == nil {
			if u.Connection != f.Connection {
				p.problem(f.Path+".user_id", "user %s belongs to connection %q, not %q", f.UserID, u.Connection, f.Connection)
			}
			return u, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.User{}, false, err
		}
	}
	for _, login := range []string{f.Email, f.Username} {
		if login == "" {
			continue
		}
		u, err := p.s.Store.FindUser(ctx, f.Connection, login)
		if err == nil {
			if f.UserID != "" && u.ID != f.UserID {
				p.problem(f.Path+".user_id", "the user %q already exists with user_id %s", login, u.ID)
			}
			return u, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.User{}, false, err
		}
	}
	return store.User{}, false, nil
}

func (p *applyPlan) user(ctx context.Context, f config.User, conn store.Connection, cur store.User, exists bool, verifier passwordVerifier, now time.Time) (store.User, bool) {
	want := cur
	if exists {
		want.AppMetadata = maps.Clone(cur.AppMetadata)
		want.UserMetadata = maps.Clone(cur.UserMetadata)
		want.Permissions = slices.Clone(cur.Permissions)
	} else {
		want = store.User{ID: f.UserID, Connection: conn.Name, AppMetadata: map[string]any{},
			UserMetadata: map[string]any{}, Permissions: []store.Permission{}, CreatedAt: now, UpdatedAt: now}
		if want.ID == "" {
			want.ID = store.NewUserID()
		}
	}
	ok := true
	if f.Email != "" {
		email, err := CheckEmail(f.Email)
		if err != nil {
			p.validationProblems(f.Path, err)
			ok = false
		}
		want.Email = email
	}
	if f.Username != "" {
		if err := CheckUsername(f.Username); err != nil {
			p.validationProblems(f.Path, err)
			ok = false
		}
		want.Username = f.Username
	} else if !exists && requiresUsername(conn) {
		p.problem(f.Path+".username", "is required by connection %q", conn.Name)
		ok = false
	}
	switch {
	case f.PasswordHash != "":
		if _, err := password.Identify(f.PasswordHash); err != nil {
			p.problem(f.Path+".password_hash", "%v", err)
			ok = false
		}
		want.PasswordHash = f.PasswordHash
	case f.Password != "":
		same := false
		if exists && cur.PasswordHash != "" && verifier != nil {
			match, rehash, err := verifier.Verify(ctx, cur.PasswordHash, f.Password)
			same = err == nil && match && !rehash
		}
		if !same {
			policy, minLen := PasswordPolicy(conn)
			if err := CheckPassword(policy, minLen, f.Password); err != nil {
				p.validationProblems(f.Path, err)
				ok = false
				break
			}
			hash, err := p.s.hash(ctx, f.Password)
			if err != nil {
				p.problem(f.Path+".password", "%v", err)
				ok = false
				break
			}
			want.PasswordHash = hash
		}
	case !exists:
		p.problem(f.Path, "password or password_hash is required for a new user")
		ok = false
	}
	setIf(&want.EmailVerified, f.EmailVerified)
	setIf(&want.Name, f.Name)
	setIf(&want.Nickname, f.Nickname)
	setIf(&want.Picture, f.Picture)
	setIf(&want.GivenName, f.GivenName)
	setIf(&want.FamilyName, f.FamilyName)
	setIf(&want.Blocked, f.Blocked)
	if f.AppMetadata != nil {
		want.AppMetadata = maps.Clone(f.AppMetadata)
	}
	if f.UserMetadata != nil {
		want.UserMetadata = maps.Clone(f.UserMetadata)
	}
	if f.Permissions != nil {
		want.Permissions = []store.Permission{}
		for i, perm := range f.Permissions {
			// Any tenant's https://<host>/api/v2/ is this server's Management API, as in client
			// grants: a user's permissions there make the user a console administrator.
			perm.ResourceServerIdentifier = p.s.CanonicalAudience(perm.ResourceServerIdentifier)
			scopes, found := p.apis[perm.ResourceServerIdentifier]
			path := fmt.Sprintf("%s.permissions[%d]", f.Path, i)
			switch {
			case !found:
				p.problem(path+".resource_server_identifier", "no API has identifier %q", perm.ResourceServerIdentifier)
				ok = false
			case !slices.ContainsFunc(scopes, func(s store.Scope) bool { return s.Value == perm.PermissionName }):
				p.problem(path+".permission_name", "%q is not a scope of %s", perm.PermissionName, perm.ResourceServerIdentifier)
				ok = false
			}
			sp := store.Permission{ResourceServerIdentifier: perm.ResourceServerIdentifier, PermissionName: perm.PermissionName}
			if !slices.Contains(want.Permissions, sp) {
				want.Permissions = append(want.Permissions, sp)
			}
		}
		sort.Slice(want.Permissions, func(i, j int) bool {
			a, b := want.Permissions[i], want.Permissions[j]
			if a.ResourceServerIdentifier != b.ResourceServerIdentifier {
				return a.ResourceServerIdentifier < b.ResourceServerIdentifier
			}
			return a.PermissionName < b.PermissionName
		})
	}
	if !exists {
		defaultProfile(&want)
	}
	return want, ok
}

// --- tenant ---------------------------------------------------------------------------------

func (p *applyPlan) planTenant(ctx context.Context) error {
	f := p.tf.Tenant
	if f == nil {
		return nil
	}
	cur, err := p.s.Store.GetTenant(ctx)
	if err != nil {
		return err
	}
	want := cur
	setIf(&want.FriendlyName, f.FriendlyName)
	setIf(&want.DefaultDirectory, f.DefaultDirectory)
	setIf(&want.DefaultAudience, f.DefaultAudience)
	setIf(&want.RevokeDeletesGrant, f.RevokeRefreshTokenGrant)
	if d := want.DefaultDirectory; d != "" && f.DefaultDirectory != nil {
		switch strategy, ok := p.connections[d]; {
		case !ok:
			p.problem("tenant.default_directory", "no connection is named %q", d)
		case strategy != StrategyAuth0:
			p.problem("tenant.default_directory", "the connection %q has strategy %q: the password grant needs an auth0 connection", d, strategy)
		}
	}
	if a := want.DefaultAudience; a != "" && f.DefaultAudience != nil {
		if _, ok := p.apis[a]; !ok {
			p.problem("tenant.default_audience", "no API has identifier %q", a)
		}
	}
	changed := !applySame(applyStampless(cur), applyStampless(want))
	want.UpdatedAt = p.s.now()
	p.step("tenant settings", false, changed, func(ctx context.Context) error {
		return p.s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
			// Written by the attack-protection and MFA steps.
			ap, pol, fac := t.AttackProtection, t.MFAPolicy, t.MFAFactors
			*t = want
			t.AttackProtection, t.MFAPolicy, t.MFAFactors = ap, pol, fac
			return nil
		})
	})
	return nil
}

// --- attack protection ----------------------------------------------------------------------

// planAttackProtection applies the attackProtection section over the stored settings (Auth0's
// defaults when none are stored): only what the file names changes.
func (p *applyPlan) planAttackProtection(ctx context.Context) error {
	f := p.tf.AttackProtection
	if f == nil {
		return nil
	}
	cur, err := p.s.Store.GetTenant(ctx)
	if err != nil {
		return err
	}
	want, err := changeAttackProtection(storedAttackProtection(cur), func(want *store.AttackProtection) error {
		if bf := f.BruteForce; bf != nil {
			w := &want.BruteForce
			setIf(&w.Enabled, bf.Enabled)
			setSlice(&w.Shields, bf.Shields)
			setIf(&w.Mode, bf.Mode)
			setSlice(&w.Allowlist, bf.Allowlist)
			setIf(&w.MaxAttempts, bf.MaxAttempts)
		}
		if ip := f.SuspiciousIP; ip != nil {
			w := &want.SuspiciousIP
			setIf(&w.Enabled, ip.Enabled)
			setSlice(&w.Shields, ip.Shields)
			setSlice(&w.Allowlist, ip.Allowlist)
			for _, st := range []struct {
				file *config.ThrottleStage
				dst  *store.ThrottleStage
			}{{ip.PreLogin, &w.Stage.PreLogin}, {ip.PreUserRegistration, &w.Stage.PreUserRegistration}} {
				if st.file != nil {
					setIf(&st.dst.MaxAttempts, st.file.MaxAttempts)
					if st.file.Rate != nil {
						st.dst.Rate = int64(*st.file.Rate)
					}
				}
			}
		}
		if br := f.Breached; br != nil {
			w := &want.Breached
			setIf(&w.Enabled, br.Enabled)
			setSlice(&w.Shields, br.Shields)
			setIf(&w.Method, br.Method)
		}
		return nil
	})
	if err != nil {
		p.validationProblems("attackProtection", err)
		return nil
	}
	p.step("attack protection", false, !sameAttackProtection(cur, want), func(ctx context.Context) error {
		return p.s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
			t.AttackProtection = &want
			return nil
		})
	})
	return nil
}

// --- MFA -------------------------------------------------------------------------------------

// planMFA applies guardianPolicies (all-applications: MFA for every password login) and
// guardianFactors (only the factors the file names change).
func (p *applyPlan) planMFA(ctx context.Context) error {
	if p.tf.GuardianPolicies == nil && p.tf.GuardianFactors == nil {
		return nil
	}
	cur, err := p.s.Store.GetTenant(ctx)
	if err != nil {
		return err
	}
	pol, fac := cmp.Or(cur.MFAPolicy, store.MFANever), cur.MFAFactors
	if gp := p.tf.GuardianPolicies; gp != nil {
		// The parser reported confidence-score (adaptive MFA) as ignored.
		kept := slices.DeleteFunc(slices.Clone(gp.Policies), func(p string) bool { return p == "confidence-score" })
		if pol, err = policyOf(kept); err != nil {
			p.validationProblems("guardianPolicies", err)
		}
	}
	for i, f := range p.tf.GuardianFactors {
		if err := setFactor(&fac, f.Name, f.Enabled); err != nil {
			p.validationProblems(fmt.Sprintf("guardianFactors[%d]", i), err)
		}
	}
	changed := pol != cmp.Or(cur.MFAPolicy, store.MFANever) || fac != cur.MFAFactors
	p.step("MFA policy and factors", false, changed, func(ctx context.Context) error {
		return p.s.Store.UpdateTenant(ctx, func(t *store.Tenant) error {
			t.MFAPolicy, t.MFAFactors = pol, fac
			return nil
		})
	})
	return nil
}

// setSlice sets *dst to v when the file gave a list (an empty list is a value).
func setSlice(dst *[]string, v []string) {
	if v != nil {
		*dst = slices.Clone(v)
	}
}

// applyMergeProblems reports the file's own problems, then those found against the store at
// paths the file's problems do not already cover (the same rule is often checked by both).
func applyMergeProblems(file, plan []config.Problem) []config.Problem {
	out := slices.Clone(file)
	covered := map[string]bool{}
	for _, p := range file {
		covered[p.Path] = true
	}
	for _, p := range plan {
		if !covered[p.Path] {
			out = append(out, p)
		}
	}
	return out
}

// --- helpers --------------------------------------------------------------------------------

// setIf sets *dst to *v when the file gave a value.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// applyStampless returns a copy of a record without its timestamps, for change detection.
func applyStampless[T store.ResourceServer | store.Client | store.Connection | store.User | store.Tenant](r T) T {
	switch x := any(&r).(type) {
	case *store.ResourceServer:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
	case *store.Client:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
		x.Credentials = slices.Clone(x.Credentials)
		for i := range x.Credentials {
			x.Credentials[i].CreatedAt = x.Credentials[i].CreatedAt.UTC().Truncate(time.Second)
		}
	case *store.Connection:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
	case *store.User:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
		x.LastLogin = x.LastLogin.UTC().Truncate(time.Second)
	case *store.Tenant:
		x.UpdatedAt = time.Time{}
	}
	return r
}

// Write prints the report for a person: one line per object, then the generated secrets.
func (r *ApplyReport) Write(w io.Writer) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d created, %d changed, %d unchanged, %d ignored, %d warnings\n",
		len(r.Created), len(r.Changed), len(r.Unchanged), len(r.Ignored), len(r.Warnings))
	for _, sec := range []struct {
		verb  string
		items []string
	}{{"created", r.Created}, {"changed", r.Changed}, {"unchanged", r.Unchanged}, {"ignored", r.Ignored}, {"warning", r.Warnings}} {
		for _, it := range sec.items {
			fmt.Fprintf(&b, "  %-9s %s\n", sec.verb, it)
		}
	}
	if len(r.GeneratedSecrets) > 0 {
		b.WriteString("\nGenerated secrets (shown only now; only their hashes or sealed copies are stored):\n")
		for _, g := range r.GeneratedSecrets {
			if g.Kind == "api" {
				fmt.Fprintf(&b, "  api %q signing secret: %s\n", g.Identifier, g.Secret)
			} else {
				fmt.Fprintf(&b, "  client %q (%s) client secret: %s\n", g.Name, g.ClientID, g.Secret)
			}
		}
	}
	_, _ = w.Write(b.Bytes())
}

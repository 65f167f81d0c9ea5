package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
	"github.com/sesameauth/sesame/internal/token"
)

// crudService returns a Service over a fresh SQLite database with cheap password hashing.
func crudService(t *testing.T) (*admin.Service, *password.Hasher) {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	box, err := seal.New(seal.NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	h := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 2)
	return &admin.Service{Store: st, Hasher: h, Box: box}, h
}

// validationFields returns the Field of every ValidationError joined in err.
func validationFields(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		var ve *admin.ValidationError
		if errors.As(e, &ve) && ve == e {
			out = append(out, ve.Field)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if errors.As(e, &ve) {
			out = append(out, ve.Field)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestCreateClient(t *testing.T) {
	tests := []struct {
		name       string
		in         admin.ClientInput
		wantFields []string // validation failures expected
		check      func(t *testing.T, s *admin.Service, c store.Client, secret string)
	}{
		{
			name: "regular web defaults",
			in:   admin.ClientInput{Name: "Backend"},
			check: func(t *testing.T, s *admin.Service, c store.Client, secret string) {
				if len(c.ClientID) != 32 || strings.Trim(c.ClientID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
					t.Errorf("client_id: got %q, want 32 alphanumerics", c.ClientID)
				}
				if c.AppType != "regular_web" || c.TokenEndpointAuthMethod != "client_secret_post" {
					t.Errorf("app_type, auth method: got %q %q, want regular_web client_secret_post", c.AppType, c.TokenEndpointAuthMethod)
				}
				if !slices.Equal(c.GrantTypes, admin.DefaultGrantTypes) {
					t.Errorf("grant_types: got %v, want %v", c.GrantTypes, admin.DefaultGrantTypes)
				}
				if !password.VerifySecret(c.SecretHash, secret) || len(secret) < password.MinSecretLength {
					t.Errorf("secret %q: got a hash that does not verify it, want one that does", secret)
				}
				if c.SecretSealed != nil {
					t.Errorf("sealed secret: got %d bytes, want none for an RS256 client", len(c.SecretSealed))
				}
				stored, err := s.GetClient(t.Context(), c.ClientID)
				if err != nil || stored.SecretHash != c.SecretHash {
					t.Errorf("GetClient: got %+v, %v; want the created client", stored, err)
				}
			},
		},
		{
			name: "native is public with no secret",
			in:   admin.ClientInput{Name: "Mobile", AppType: "native"},
			check: func(t *testing.T, s *admin.Service, c store.Client, secret string) {
				if c.TokenEndpointAuthMethod != "none" || secret != "" || c.SecretHash != "" {
					t.Errorf("got method %q secret %q hash %q, want none and no secret", c.TokenEndpointAuthMethod, secret, c.SecretHash)
				}
			},
		},
		{
			name: "spa gets rotating refresh tokens",
			in:   admin.ClientInput{Name: "SPA", AppType: "spa"},
			check: func(t *testing.T, s *admin.Service, c store.Client, secret string) {
				if c.RefreshToken.RotationType != "rotating" || c.RefreshToken.ExpirationType != "expiring" {
					t.Errorf("refresh policy: got %+v, want rotating and expiring", c.RefreshToken)
				}
			},
		},
		{
			name: "HS256 client keeps a sealed secret bound to its id",
			in:   admin.ClientInput{Name: "Legacy", IDTokenAlg: "HS256", Secret: strings.Repeat("s", 40)},
			check: func(t *testing.T, s *admin.Service, c store.Client, secret string) {
				pt, err := s.Box.Open(c.SecretSealed, store.ClientSecretAAD(c.ClientID))
				if err != nil || string(pt) != strings.Repeat("s", 40) {
					t.Errorf("sealed secret: got %q, %v; want the given secret", pt, err)
				}
			},
		},
		{
			name:       "every problem at once",
			in:         admin.ClientInput{Name: "", AppType: "desktop", GrantTypes: []string{"password", "magic", "password"}, IDTokenAlg: "none", Secret: "short"},
			wantFields: []string{"name", "app_type", "grant_types[1]", "grant_types[2]", "jwt_configuration.alg", "client_secret"},
		},
		{
			name:       "public client cannot use HS256 or client_credentials",
			in:         admin.ClientInput{Name: "SPA", AppType: "spa", IDTokenAlg: "HS256", GrantTypes: []string{"client_credentials"}},
			wantFields: []string{"grant_types[0]", "jwt_configuration.alg"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := crudService(t)
			c, secret, err := s.CreateClient(t.Context(), tt.in)
			if tt.wantFields != nil {
				if got := validationFields(err); !slices.Equal(got, tt.wantFields) {
					t.Fatalf("validation fields: got %v (%v), want %v", got, err, tt.wantFields)
				}
				if admin.Status(err) != 400 {
					t.Errorf("Status: got %d, want 400", admin.Status(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateClient: %v", err)
			}
			tt.check(t, s, c, secret)
		})
	}
}

func TestClientSecretRotationAndDelete(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	c, old, err := s.CreateClient(ctx, admin.ClientInput{Name: "App"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := s.CreateConnection(ctx, "Username-Password-Authentication", "", []string{c.ClientID})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	fresh, err := s.RotateClientSecret(ctx, c.ClientID)
	if err != nil {
		t.Fatalf("RotateClientSecret: %v", err)
	}
	got, _ := s.GetClient(ctx, c.ClientID)
	if password.VerifySecret(got.SecretHash, old) || !password.VerifySecret(got.SecretHash, fresh) {
		t.Errorf("after rotation: got old verifies=%v new verifies=%v, want false true",
			password.VerifySecret(got.SecretHash, old), password.VerifySecret(got.SecretHash, fresh))
	}
	if err := s.DeleteClient(ctx, c.ClientID); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	after, _ := s.GetConnection(ctx, conn.Name)
	if slices.Contains(after.EnabledClients, c.ClientID) {
		t.Errorf("enabled_clients after delete: got %v, want the client gone", after.EnabledClients)
	}
	var nf *admin.NotFoundError
	if _, err := s.GetClient(ctx, c.ClientID); !errors.As(err, &nf) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient after delete: got %v, want a NotFoundError matching store.ErrNotFound", err)
	}
	pub, _, _ := s.CreateClient(ctx, admin.ClientInput{Name: "Pub", AppType: "spa"})
	if _, err := s.RotateClientSecret(ctx, pub.ClientID); admin.Status(err) != 400 {
		t.Errorf("rotating a public client's secret: got %v, want a validation error", err)
	}
}

func TestCreateAPI(t *testing.T) {
	tests := []struct {
		name       string
		in         admin.APIInput
		wantFields []string
		check      func(t *testing.T, s *admin.Service, rs store.ResourceServer)
	}{
		{
			name: "defaults",
			in:   admin.APIInput{Identifier: "https://api.test/", Scopes: admin.ParseScopes("read:x, write:x")},
			check: func(t *testing.T, s *admin.Service, rs store.ResourceServer) {
				if rs.Name != "https://api.test/" || rs.SigningAlg != "RS256" || rs.TokenLifetime != 86400 || rs.TokenDialect != "access_token" || len(rs.Scopes) != 2 {
					t.Errorf("got %+v, want name = identifier, RS256, 86400, access_token, 2 scopes", rs)
				}
			},
		},
		{
			name: "HS256 gets a sealed secret",
			in:   admin.APIInput{Identifier: "urn:hs", SigningAlg: "HS256"},
			check: func(t *testing.T, s *admin.Service, rs store.ResourceServer) {
				pt, err := s.Box.Open(rs.SigningSecretSealed, store.APISecretAAD(rs.Identifier))
				if err != nil || len(pt) < 32 {
					t.Errorf("signing secret: got %d bytes, %v; want at least 32", len(pt), err)
				}
			},
		},
		{
			name:       "every problem at once",
			in:         admin.APIInput{Identifier: "has space", SigningAlg: "none", TokenLifetime: -5, Scopes: []store.Scope{{Value: "a b"}, {Value: "x"}, {Value: "x"}}},
			wantFields: []string{"identifier", "signing_alg", "token_lifetime", "scopes[0].value", "scopes[2].value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := crudService(t)
			rs, err := s.CreateAPI(t.Context(), tt.in)
			if tt.wantFields != nil {
				if got := validationFields(err); !slices.Equal(got, tt.wantFields) {
					t.Fatalf("validation fields: got %v (%v), want %v", got, err, tt.wantFields)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateAPI: %v", err)
			}
			tt.check(t, s, rs)
			if _, err := s.CreateAPI(t.Context(), tt.in); !errors.Is(err, store.ErrConflict) || admin.Status(err) != 409 {
				t.Errorf("second CreateAPI: got %v, want a 409 conflict", err)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		policy string
		pw     string
		ok     bool
	}{
		{"none", "x", true},
		{"low", "abcde", false},
		{"low", "abcdef", true},
		{"fair", "Abcdefg1", true},
		{"fair", "abcdefg1", false},
		{"fair", "Abc1", false},
		{"good", "abcdefg1!", true},
		{"good", "abcdefgh1", false},
		{"excellent", "Abcdefgh1!", true},
		{"excellent", "Abcdeffff1!", false},
		{"excellent", "Abcdefg1!", false},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.pw, func(t *testing.T) {
			policy, minLen := admin.PasswordPolicy(store.Connection{Options: map[string]any{"passwordPolicy": tt.policy}})
			err := admin.CheckPassword(policy, minLen, tt.pw)
			if (err == nil) != tt.ok {
				t.Errorf("CheckPassword(%s, %q): got %v, want ok=%v", tt.policy, tt.pw, err, tt.ok)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	s, h := crudService(t)
	ctx := t.Context()
	if _, err := s.CreateConnection(ctx, "db", "", nil); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, admin.UserInput{Connection: "db", Email: "Alice@Example.com", Password: "Secret123"})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if !strings.HasPrefix(u.ID, "auth0|") || u.Email != "alice@example.com" || u.Nickname != "alice" {
		t.Errorf("user: got id %q email %q nickname %q, want auth0|..., lower-cased email, nickname alice", u.ID, u.Email, u.Nickname)
	}
	if ok, _, err := h.Verify(ctx, u.PasswordHash, "Secret123"); !ok || err != nil {
		t.Errorf("stored hash: got ok=%v err=%v, want it to verify the password", ok, err)
	}
	bad := []struct {
		name   string
		in     admin.UserInput
		status int
		field  string
	}{
		{"duplicate email", admin.UserInput{Connection: "db", Email: "alice@example.com", Password: "Secret123"}, 409, ""},
		{"unknown connection", admin.UserInput{Connection: "nope", Email: "b@example.com", Password: "Secret123"}, 400, "connection"},
		{"weak password", admin.UserInput{Connection: "db", Email: "b@example.com", Password: "password"}, 400, "password"},
		{"bad email", admin.UserInput{Connection: "db", Email: "b@", Password: "Secret123"}, 400, "email"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateUser(ctx, tt.in)
			if admin.Status(err) != tt.status {
				t.Fatalf("CreateUser: got %v (status %d), want status %d", err, admin.Status(err), tt.status)
			}
			if tt.field != "" && !slices.Contains(validationFields(err), tt.field) {
				t.Errorf("fields: got %v, want %s", validationFields(err), tt.field)
			}
		})
	}
	if err := s.SetPassword(ctx, u.ID, "weak"); admin.Status(err) != 400 {
		t.Errorf("SetPassword(weak): got %v, want a validation error", err)
	}
	if err := s.SetPassword(ctx, u.ID, "Another456"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	got, _ := s.GetUser(ctx, u.ID)
	if ok, _, _ := h.Verify(ctx, got.PasswordHash, "Another456"); !ok {
		t.Errorf("after SetPassword: got a hash that does not verify the new password")
	}
	if err := s.BlockUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetUser(ctx, u.ID); !got.Blocked {
		t.Errorf("after BlockUser: got blocked=false, want true")
	}
	// A refresh family of the user is revoked when the user is deleted.
	fam := store.RefreshFamily{ID: store.NewID("fam_", 8), ClientID: "c", UserID: u.ID, Connection: "db", CreatedAt: time.Now()}
	tok := store.RefreshToken{Hash: store.NewID("", 32), FamilyID: fam.ID, CreatedAt: time.Now()}
	if err := s.Store.CreateRefreshFamily(ctx, fam, tok); err != nil {
		t.Fatalf("CreateRefreshFamily: %v", err)
	}
	if n, err := s.RevokeRefreshTokens(ctx, u.ID); err != nil || n != 1 {
		t.Errorf("RevokeRefreshTokens: got %d, %v; want 1 family", n, err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.GetUser(ctx, u.ID); admin.Status(err) != 404 {
		t.Errorf("GetUser after delete: got %v, want 404", err)
	}
}

func TestUserBlocks(t *testing.T) {
	s, _ := crudService(t)
	ctx := t.Context()
	var u store.User
	for _, conn := range []string{"db", "db2"} {
		if _, err := s.CreateConnection(ctx, conn, "", nil); err != nil {
			t.Fatal(err)
		}
		var err error
		if u, err = s.CreateUser(ctx, admin.UserInput{Connection: conn, Email: "jo@example.com", Password: "Secret123"}); err != nil {
			t.Fatal(err)
		}
	}
	// Blocked through the guard's own path, as the password grant counts failed logins.
	g := guard.New(s.Store, nil, guard.Options{})
	for range guard.DefaultMaxAttempts {
		a := &guard.Attempt{Identifier: "JO@example.com", IP: "192.0.2.1"}
		if err := g.Check(ctx, a); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if _, err := g.Failure(ctx, a); err != nil {
			t.Fatalf("Failure: %v", err)
		}
	}
	summary := func(bs []admin.UserBlock, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range bs {
			out = append(out, fmt.Sprintf("%s %s %s %d", b.Identifier, b.IP, b.Connection, b.Attempts))
		}
		return strings.Join(out, ", ")
	}
	if got, want := summary(s.UserBlocks(ctx, u.ID)), "jo@example.com 192.0.2.1 db2 10"; got != want {
		t.Errorf("UserBlocks: got %q, want %q", got, want)
	}
	// The count is per identifier, so the block holds in both connections.
	if got, want := summary(s.IdentifierBlocks(ctx, "jo@example.com")), "jo@example.com 192.0.2.1 db 10, jo@example.com 192.0.2.1 db2 10"; got != want {
		t.Errorf("IdentifierBlocks: got %q, want %q", got, want)
	}
	if _, err := s.IdentifierBlocks(ctx, ""); admin.Status(err) != 400 {
		t.Errorf("IdentifierBlocks(\"\"): got %v, want a validation error", err)
	}
	if _, err := s.UserBlocks(ctx, "auth0|nobody"); admin.Status(err) != 404 {
		t.Errorf("UserBlocks of an unknown user: got %v, want 404", err)
	}
	if err := s.UnblockUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := summary(s.IdentifierBlocks(ctx, "jo@example.com")); got != "" {
		t.Errorf("IdentifierBlocks after UnblockUser: got %q, want none", got)
	}
}

func sha256Custom(salt, pw string) string {
	sum := sha256.Sum256([]byte(salt + pw))
	return fmt.Sprintf(`{"algorithm":"sha256","hash":{"value":"%s","encoding":"hex"},"salt":{"value":"%s","position":"prefix"}}`, hex.EncodeToString(sum[:]), salt)
}

func TestImportUsers(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		existing  string // a first import, with upsert
		file      string
		upsert    bool
		wantErr   bool
		created   int
		updated   int
		failedIdx []int
		passwords map[string]string // email → password that must verify afterwards
		// schemes are the stored schemes (password.Identify): fast digests are kept only
		// inside argon2id, so a wrong password costs what an unknown user costs.
		schemes map[string]string
		check   func(t *testing.T, s *admin.Service)
	}{
		{
			name: "bcrypt and a salted sha256 custom hash",
			file: `[{"email":"a@example.com","password_hash":"` + string(bc) + `","user_id":"abc","given_name":"A","app_metadata":{"plan":"gold"}},
			        {"email":"b@example.com","custom_password_hash":` + sha256Custom("NaCl", "sha-pw") + `,"blocked":true}]`,
			created:   2,
			passwords: map[string]string{"a@example.com": "bcrypt-pw", "b@example.com": "sha-pw"},
			schemes:   map[string]string{"a@example.com": "bcrypt", "b@example.com": "wrap-sha256-salted"},
			check: func(t *testing.T, s *admin.Service) {
				u, err := s.GetUser(t.Context(), "auth0|abc")
				if err != nil || u.GivenName != "A" || u.AppMetadata["plan"] != "gold" {
					t.Errorf("imported user: got %+v, %v; want auth0|abc with given_name A and app_metadata.plan gold", u, err)
				}
			},
		},
		{
			name:      "bad rows fail alone",
			file:      `[{"email":"ok@example.com"},{"email":"nope"},{"email":"x@example.com","password_hash":"plain"},{"email":"y@example.com","colour":"red"},{"email":"z@example.com","custom_password_hash":{"algorithm":"md4","hash":{"value":"00","encoding":"hex"}}},{"email":"w@example.com","app_metadata":{"user_id":"1"}},7]`,
			created:   1,
			failedIdx: []int{1, 2, 3, 4, 5, 6},
		},
		{
			name:      "duplicates without upsert",
			existing:  `[{"email":"a@example.com","name":"Old"}]`,
			file:      `[{"email":"a@example.com","name":"New"},{"email":"c@example.com"},{"email":"c@example.com"}]`,
			created:   1,
			failedIdx: []int{0, 2},
		},
		{
			name:      "upsert updates only the fields given",
			existing:  `[{"email":"a@example.com","name":"Old","nickname":"keep","password_hash":"` + string(bc) + `"}]`,
			file:      `[{"email":"a@example.com","name":"New","custom_password_hash":` + sha256Custom("s", "newer") + `}]`,
			upsert:    true,
			updated:   1,
			passwords: map[string]string{"a@example.com": "newer"},
			schemes:   map[string]string{"a@example.com": "wrap-sha256-salted"},
			check: func(t *testing.T, s *admin.Service) {
				u, err := s.Store.FindUser(t.Context(), "db", "a@example.com")
				if err != nil || u.Name != "New" || u.Nickname != "keep" {
					t.Errorf("upserted user: got name %q nickname %q (%v), want New keep", u.Name, u.Nickname, err)
				}
			},
		},
		{name: "not an array", file: `{"email":"a@example.com"}`, wantErr: true},
		{name: "truncated", file: `[{"email":"a@example.com"},`, wantErr: true},
		{name: "trailing data", file: `[] []`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, h := crudService(t)
			ctx := t.Context()
			if _, err := s.CreateConnection(ctx, "db", "", nil); err != nil {
				t.Fatal(err)
			}
			if tt.existing != "" {
				if rep, err := s.ImportUsers(ctx, "db", strings.NewReader(tt.existing), admin.ImportOptions{Upsert: true}); err != nil || len(rep.Failed) > 0 {
					t.Fatalf("seeding import: %+v, %v", rep, err)
				}
			}
			rep, err := s.ImportUsers(ctx, "db", strings.NewReader(tt.file), admin.ImportOptions{Upsert: tt.upsert})
			if tt.wantErr {
				if !errors.Is(err, admin.ErrImportFile) {
					t.Fatalf("ImportUsers: got %v, want ErrImportFile", err)
				}
				if n, _ := s.Store.CountUsers(ctx, "db"); n != 0 {
					t.Errorf("users after a malformed file: got %d, want 0", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("ImportUsers: %v", err)
			}
			var idx []int
			for _, f := range rep.Failed {
				idx = append(idx, f.Index)
			}
			if rep.Created != tt.created || rep.Updated != tt.updated || !slices.Equal(idx, tt.failedIdx) {
				t.Errorf("report: got created %d updated %d failed %v (%v), want %d %d %v", rep.Created, rep.Updated, idx, rep.Failed, tt.created, tt.updated, tt.failedIdx)
			}
			for email, pw := range tt.passwords {
				u, err := s.Store.FindUser(ctx, "db", email)
				if err != nil {
					t.Fatalf("FindUser(%s): %v", email, err)
				}
				if ok, rehash, err := h.Verify(ctx, u.PasswordHash, pw); !ok || !rehash || err != nil {
					t.Errorf("%s: got ok=%v needsRehash=%v err=%v, want the imported hash to verify and ask for a rehash", email, ok, rehash, err)
				}
			}
			for email, want := range tt.schemes {
				u, _ := s.Store.FindUser(ctx, "db", email)
				if got, err := password.Identify(u.PasswordHash); got != want || err != nil {
					t.Errorf("%s: stored scheme %q (%v), want %q", email, got, err, want)
				}
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestImportUnknownConnection(t *testing.T) {
	s, _ := crudService(t)
	_, err := s.ImportUsers(context.Background(), "missing", strings.NewReader("[]"), admin.ImportOptions{})
	if admin.Status(err) != 400 {
		t.Errorf("ImportUsers into a missing connection: got %v, want a validation error", err)
	}
}

func FuzzParseImportFile(f *testing.F) {
	f.Add([]byte(`[{"email":"a@example.com","password_hash":"$2a$10$x"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[1,"x",null,{"custom_password_hash":{"algorithm":"sha256"}}]`))
	f.Add([]byte(`{"users":[]}`))
	f.Add([]byte(`[ ] x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := admin.ParseImportFile(strings.NewReader(string(data)))
		if err != nil {
			if !errors.Is(err, admin.ErrImportFile) {
				t.Fatalf("error %v: got one not wrapping ErrImportFile", err)
			}
			return
		}
		for i, r := range rows {
			if len(r) == 0 {
				t.Fatalf("row %d: got an empty raw message", i)
			}
		}
	})
}

// TestCreateClientPS256 checks that a client with PS256 ID tokens is accepted and leaves the
// tenant with a PS256 key to sign them, as Auth0's jwt_configuration.alg PS256 needs.
func TestCreateClientPS256(t *testing.T) {
	s, _ := crudService(t)
	keys := token.NewKeys(s.Store.(store.SigningKeys), s.Box, time.Now)
	s.Keys = keys
	c, _, err := s.CreateClient(t.Context(), admin.ClientInput{Name: "Modern", IDTokenAlg: "PS256"})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if c.IDTokenAlg != "PS256" {
		t.Errorf("IDTokenAlg: got %q, want PS256", c.IDTokenAlg)
	}
	infos, err := keys.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ps256 []string
	for _, k := range infos {
		if k.Alg == "PS256" {
			ps256 = append(ps256, k.State)
		}
	}
	slices.Sort(ps256)
	if !slices.Equal(ps256, []string{store.KeyCurrent, store.KeyNext}) {
		t.Errorf("PS256 keys after CreateClient: got states %v, want a current and a next key", ps256)
	}
}

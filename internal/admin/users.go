package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/passwordless"
	"github.com/sesameauth/sesame/internal/store"
)

// UserInput describes a new user of a database connection.
type UserInput struct {
	Connection string
	Email      string
	// Username is optional unless the connection has options.requires_username.
	Username string
	// Password is checked against the connection's password policy and hashed; it is never
	// stored.
	Password      string
	EmailVerified bool
	// Name defaults to the email and Nickname to the email's local part, as at Auth0.
	Name         string
	Nickname     string
	Picture      string
	GivenName    string
	FamilyName   string
	AppMetadata  map[string]any
	UserMetadata map[string]any
	Blocked      bool
	Permissions  []store.Permission
}

// Password policies (Auth0's connection options.passwordPolicy).
const (
	PolicyNone      = "none"
	PolicyLow       = "low"
	PolicyFair      = "fair"
	PolicyGood      = "good"
	PolicyExcellent = "excellent"
)

// DefaultPasswordPolicy applies to a connection whose options name no passwordPolicy. Auth0's
// own default is "none"; Sesame defaults to "fair" (8 characters with a lower-case letter, an
// upper-case letter and a digit), the level Auth0 itself demands of dashboard admins.
const DefaultPasswordPolicy = PolicyFair

// maxPasswordBytes bounds what is hashed. Auth0's legacy policy silently truncates at 72 bytes
// (bcrypt); Sesame hashes with argon2id, which has no such limit, and refuses rather than
// truncates beyond this bound.
const maxPasswordBytes = 1024

// PasswordPolicy returns the connection's policy and minimum length: options.passwordPolicy
// (default DefaultPasswordPolicy) and options.password_complexity_options.min_length, which
// raises or lowers the policy's own minimum as at Auth0.
func PasswordPolicy(c store.Connection) (policy string, minLength int) {
	policy = DefaultPasswordPolicy
	if p, ok := c.Options["passwordPolicy"].(string); ok && p != "" {
		policy = p
	}
	minLength = map[string]int{PolicyNone: 1, PolicyLow: 6, PolicyFair: 8, PolicyGood: 8, PolicyExcellent: 10}[policy]
	if pco, ok := c.Options["password_complexity_options"].(map[string]any); ok {
		switch n := pco["min_length"].(type) {
		case int:
			minLength = n
		case int64:
			minLength = int(n)
		case float64:
			minLength = int(n)
		}
	}
	return policy, max(minLength, 1)
}

// CheckPassword applies a password policy (Auth0's password-sheriff presets): none needs one
// character; low six; fair eight with a lower-case letter, an upper-case letter and a digit;
// good eight with three of lower, upper, digit and special; excellent ten with three of the
// four and no character three times in a row.
func CheckPassword(policy string, minLength int, pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < minLength {
		return invalid("password", "PasswordStrengthError: Password is too weak (policy %s: at least %d characters)", policy, minLength)
	}
	if len(pw) > maxPasswordBytes {
		return invalid("password", "longer than %d bytes", maxPasswordBytes)
	}
	var lower, upper, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			special = true
		}
	}
	kinds := 0
	for _, b := range []bool{lower, upper, digit, special} {
		if b {
			kinds++
		}
	}
	switch policy {
	case PolicyNone, PolicyLow:
	case PolicyFair:
		if !lower || !upper || !digit {
			return invalid("password", "PasswordStrengthError: Password is too weak (policy fair: needs a lower-case letter, an upper-case letter and a digit)")
		}
	case PolicyGood, PolicyExcellent:
		if kinds < 3 {
			return invalid("password", "PasswordStrengthError: Password is too weak (policy %s: needs three of lower-case, upper-case, digits and special characters)", policy)
		}
		if policy == PolicyExcellent && hasTripleRun(pw) {
			return invalid("password", "PasswordStrengthError: Password is too weak (policy excellent: no character three times in a row)")
		}
	default:
		return invalid("connection.options.passwordPolicy", "%q is not none, low, fair, good or excellent", policy)
	}
	return nil
}

func hasTripleRun(s string) bool {
	var prev rune = -1
	run := 0
	for _, r := range s {
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		if run >= 3 {
			return true
		}
	}
	return false
}

// CheckEmail accepts a bare RFC 5322 address (no display name) with a domain, and returns it
// lower-cased as Auth0 stores it.
func CheckEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", invalid("email", "is required")
	}
	if len(email) > 254 {
		return "", invalid("email", "longer than 254 characters")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", invalid("email", "%q is not a valid email address", email)
	}
	// net/mail accepts quoted local parts and IP-literal domains; a login name holding
	// quotes, brackets or no dot in the domain is far more likely a typo than a real address.
	local, domain, _ := strings.Cut(email, "@")
	if strings.ContainsAny(local, "\"\\ ") || !strings.Contains(domain, ".") || strings.ContainsAny(domain, "[]") || strings.HasSuffix(domain, ".") {
		return "", invalid("email", "%q is not a valid email address", email)
	}
	return strings.ToLower(email), nil
}

// CheckUsername applies Auth0's database-connection username rule: 1 to 128 characters of
// letters, digits and _+-.!#$'^`~@, and not an email address (a login name that looks like an
// email would be looked up as one).
func CheckUsername(u string) error {
	if u == "" || len(u) > 128 {
		return invalid("username", "must be 1 to 128 characters")
	}
	for _, r := range u {
		if !isAlnum(r) && !strings.ContainsRune("_+-.!#$'^`~@", r) {
			return invalid("username", "%q may only hold letters, digits and _+-.!#$'^`~@", u)
		}
	}
	if _, err := mail.ParseAddress(u); err == nil && strings.Contains(u, "@") {
		return invalid("username", "must not be an email address")
	}
	return nil
}

// databaseConnection returns the connection if it exists and is a user database.
func (s *Service) databaseConnection(ctx context.Context, name string) (store.Connection, error) {
	if name == "" {
		return store.Connection{}, invalid("connection", "is required")
	}
	c, err := s.Store.GetConnection(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return c, invalid("connection", "the connection %q does not exist", name)
	}
	if err != nil {
		return c, err
	}
	if c.Strategy != StrategyAuth0 {
		return c, invalid("connection", "the connection %q has strategy %q: only auth0 (database) connections hold users", name, c.Strategy)
	}
	return c, nil
}

func requiresUsername(c store.Connection) bool {
	b, _ := c.Options["requires_username"].(bool)
	return b
}

// CreateUser creates a user in a database connection with a hashed password.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (store.User, error) {
	conn, err := s.databaseConnection(ctx, in.Connection)
	if err != nil {
		return store.User{}, err
	}
	var errs []error
	email, err := CheckEmail(in.Email)
	if err != nil {
		errs = append(errs, err)
	}
	if in.Username != "" {
		if err := CheckUsername(in.Username); err != nil {
			errs = append(errs, err)
		}
	} else if requiresUsername(conn) {
		errs = append(errs, invalid("username", "is required by connection %q", conn.Name))
	}
	if in.Password == "" {
		errs = append(errs, invalid("password", "is required"))
	} else {
		policy, minLen := PasswordPolicy(conn)
		if err := CheckPassword(policy, minLen, in.Password); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return store.User{}, errors.Join(errs...)
	}
	// A custom database asks its legacy store first (get_user), as Auth0 does, so that a user
	// who exists there is not created twice; without import_mode the user is created there.
	d, err := s.customDB(ctx, conn.Name)
	if err != nil {
		return store.User{}, err
	}
	if d != nil && d.HasScript("get_user") {
		p, err := d.GetUser(ctx, email)
		if err != nil {
			return store.User{}, scriptErr(err, email)
		}
		if p != nil {
			return store.User{}, &ConflictError{Kind: "user", ID: email, Message: "The user already exists."}
		}
	}
	if d != nil && !d.ImportMode() {
		return s.createInCustomDB(ctx, d, in, email)
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return store.User{}, err
	}
	now := s.now()
	u := store.User{
		ID:            store.NewUserID(),
		Connection:    conn.Name,
		Email:         email,
		Username:      in.Username,
		PasswordHash:  hash,
		EmailVerified: in.EmailVerified,
		Name:          in.Name,
		Nickname:      in.Nickname,
		Picture:       in.Picture,
		GivenName:     in.GivenName,
		FamilyName:    in.FamilyName,
		AppMetadata:   maps.Clone(in.AppMetadata),
		UserMetadata:  maps.Clone(in.UserMetadata),
		Blocked:       in.Blocked,
		Permissions:   in.Permissions,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	defaultProfile(&u)
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return store.User{}, userConflict(err, u)
	}
	return u, nil
}

// defaultProfile fills name and nickname the way Auth0 does for a database user.
func defaultProfile(u *store.User) {
	if u.Name == "" {
		u.Name = u.Email
	}
	if u.Nickname == "" {
		local, _, _ := strings.Cut(u.Email, "@")
		u.Nickname = local
	}
}

func userConflict(err error, u store.User) error {
	if errors.Is(err, store.ErrConflict) {
		// Auth0's Management API answers 409 "The user already exists."
		return &ConflictError{Kind: "user", ID: u.Email, Message: fmt.Sprintf("The user already exists (email %q or username %q is taken in connection %q, or the id %q).", u.Email, u.Username, u.Connection, u.ID)}
	}
	return err
}

func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	if s.Hasher == nil {
		return "", errors.New("admin: no password hasher configured")
	}
	h, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	return h, nil
}

// GetUser returns a user by id.
func (s *Service) GetUser(ctx context.Context, userID string) (store.User, error) {
	u, err := s.Store.GetUser(ctx, userID)
	return u, storeErr(err, "user", userID)
}

// FindUsers returns the users ref names: the user whose id is ref, or else every user whose
// email (case-insensitively) or username is ref, in any connection (an email is unique only
// within its connection, so there may be several). No user is an empty slice and no error.
// Command-line tools call it so that an admin may name a user the way the user logs in.
func (s *Service) FindUsers(ctx context.Context, ref string) ([]store.User, error) {
	u, err := s.Store.GetUser(ctx, ref)
	if err == nil {
		return []store.User{u}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	var found []store.User
	for _, c := range conns {
		u, err := s.Store.FindUser(ctx, c.Name, ref)
		switch {
		case err == nil:
			found = append(found, u)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return found, nil
}

// ListUsers returns users ordered by creation; f.Connection narrows to one connection, which
// must then exist.
func (s *Service) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, error) {
	if f.Connection != "" {
		if _, err := s.Store.GetConnection(ctx, f.Connection); err != nil {
			return nil, storeErr(err, "connection", f.Connection)
		}
	}
	return s.Store.ListUsers(ctx, f)
}

// DeleteUser revokes the user's refresh tokens and deletes the user.
func (s *Service) DeleteUser(ctx context.Context, userID string) error {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return storeErr(err, "user", userID)
	}
	// A custom database deletes the user from its legacy store first (its delete script),
	// which it must have unless its users are migrated (import_mode).
	d, err := s.customDB(ctx, u.Connection)
	if err != nil {
		return err
	}
	if d != nil && (d.HasScript("delete") || !d.ImportMode()) {
		if err := d.Delete(ctx, u.ID); err != nil {
			return scriptErr(err, u.Email)
		}
	}
	if _, err := s.Store.RevokeRefreshFamilies(ctx, userID, "", "", s.now()); err != nil {
		return fmt.Errorf("revoking the user's refresh tokens: %w", err)
	}
	return storeErr(s.Store.DeleteUser(ctx, userID), "user", userID)
}

// BlockUser sets the user's blocked flag. Refresh tokens are not revoked: the token endpoint
// checks the flag on every grant and answers a blocked user's refresh with "user is blocked"
// (WIRE.md §1), so unblocking restores the user's sessions, as at Auth0.
func (s *Service) BlockUser(ctx context.Context, userID string) error {
	return s.setBlocked(ctx, userID, true)
}

// UnblockUser clears the user's blocked flag and releases the brute-force blocks of the
// user's email and username from every IP (Auth0's user-blocks API does both), logging ublkdu.
func (s *Service) UnblockUser(ctx context.Context, userID string) error {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return storeErr(err, "user", userID)
	}
	if err := s.setBlocked(ctx, userID, false); err != nil {
		return err
	}
	n, err := s.guard().Unblock(ctx, u.ID, u.Email, u.Username)
	if err != nil {
		return err
	}
	// The release is done; a log write that fails must not report it as failed.
	_ = s.Store.AppendLog(ctx, store.LogEvent{Date: s.now(), Type: "ublkdu", Description: "User block released by an admin",
		Connection: u.Connection, UserID: u.ID, UserName: cmp.Or(u.Email, u.Username),
		Details: map[string]any{"released_counters": n}})
	return nil
}

// UserBlock is a brute-force block with the connection of the user it holds back: an entry
// of Auth0's user-blocks response.
type UserBlock struct {
	guard.Block
	Connection string
}

// guard is the attack-protection service over the admin's store. Its options only shape the
// counters a login writes; listing and releasing them needs none.
func (s *Service) guard() *guard.Guard { return guard.New(s.Store, s.now, guard.Options{}) }

// UserBlocks returns the brute-force blocks of the user (counted per user since logins
// resolve it) and of its email and username (counted while no user had them), from every IP
// (Auth0's GET /api/v2/user-blocks/{id}); UnblockUser releases them.
func (s *Service) UserBlocks(ctx context.Context, userID string) ([]UserBlock, error) {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return nil, storeErr(err, "user", userID)
	}
	bs, err := s.guard().Blocks(ctx, u.ID, u.Email, u.Username)
	if err != nil {
		return nil, err
	}
	out := make([]UserBlock, 0, len(bs))
	for _, b := range bs {
		out = append(out, UserBlock{Block: b, Connection: u.Connection})
	}
	return out, nil
}

// IdentifierBlocks returns the brute-force blocks of an email or username (Auth0's GET
// /api/v2/user-blocks?identifier=): the blocks of each database connection's user with that
// identifier, listed with its connection, and those of the identifier itself, counted while it
// named nobody (an attacker may guess names that do not exist, and those get counted too),
// listed once for each connection with a user of that identifier, or once without a
// connection when none has one.
func (s *Service) IdentifierBlocks(ctx context.Context, identifier string) ([]UserBlock, error) {
	if identifier == "" {
		return nil, invalid("identifier", "is required")
	}
	users, err := s.identifierUsers(ctx, identifier)
	if err != nil {
		return nil, err
	}
	g := s.guard()
	var out []UserBlock
	for _, u := range users {
		bs, err := g.Blocks(ctx, u.ID, identifier)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if b.UserID != "" {
				out = append(out, UserBlock{Block: b, Connection: u.Connection})
			}
		}
	}
	bs, err := g.Blocks(ctx, "", identifier)
	if err != nil {
		return nil, err
	}
	names := []string{""}
	if len(users) > 0 {
		names = names[:0]
		for _, u := range users {
			names = append(names, u.Connection)
		}
	}
	for _, b := range bs {
		for _, n := range names {
			out = append(out, UserBlock{Block: b, Connection: n})
		}
	}
	return out, nil
}

// identifierUsers returns the user with the identifier (email or username) of each database
// or passwordless connection that has one (passwordless logins are blocked per user too).
func (s *Service) identifierUsers(ctx context.Context, identifier string) ([]store.User, error) {
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.User
	for _, c := range conns {
		if c.Strategy != StrategyAuth0 && !passwordless.IsStrategy(c.Strategy) {
			continue
		}
		if u, err := s.Store.FindUser(ctx, c.Name, identifier); err == nil {
			out = append(out, u)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// UnblockIdentifier releases the brute-force blocks of an email or username from every IP,
// whether or not a user has it (Auth0's DELETE /user-blocks?identifier=): the counts of each
// database connection's user with that identifier, and those of the identifier itself (guessed
// names are counted too, and an admin may want a shared address released). It returns how
// many counters it removed and logs ublkdu.
func (s *Service) UnblockIdentifier(ctx context.Context, identifier string) (int, error) {
	if identifier == "" {
		return 0, invalid("identifier", "is required")
	}
	users, err := s.identifierUsers(ctx, identifier)
	if err != nil {
		return 0, err
	}
	g := s.guard()
	n, err := g.Unblock(ctx, "", identifier)
	if err != nil {
		return 0, err
	}
	for _, u := range users {
		k, err := g.Unblock(ctx, u.ID)
		if err != nil {
			return n, err
		}
		n += k
	}
	_ = s.Store.AppendLog(ctx, store.LogEvent{Date: s.now(), Type: "ublkdu", Description: "Block released by an admin",
		UserName: identifier, Details: map[string]any{"released_counters": n}})
	return n, nil
}

func (s *Service) setBlocked(ctx context.Context, userID string, blocked bool) error {
	now := s.now()
	err := s.Store.UpdateUser(ctx, userID, func(u *store.User) error {
		u.Blocked = blocked
		u.UpdatedAt = now
		return nil
	})
	return storeErr(err, "user", userID)
}

// SetPassword checks a new password against the user's connection policy and stores its hash.
// Like Auth0 by default, it does not revoke the user's refresh tokens: a password change made
// by an admin is not assumed to be a compromise. Call RevokeRefreshTokens as well for that.
func (s *Service) SetPassword(ctx context.Context, userID, pw string) error {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return storeErr(err, "user", userID)
	}
	conn, err := s.databaseConnection(ctx, u.Connection)
	if err != nil {
		return err
	}
	policy, minLen := PasswordPolicy(conn)
	if err := CheckPassword(policy, minLen, pw); err != nil {
		return err
	}
	d, err := s.customDB(ctx, conn.Name)
	if err != nil {
		return err
	}
	if d != nil && !d.ImportMode() {
		// The password lives in the legacy store: its change_password script sets it.
		if err := d.ChangePassword(ctx, u.Email, pw); err != nil {
			return scriptErr(err, u.Email)
		}
	} else {
		hash, err := s.hash(ctx, pw)
		if err != nil {
			return err
		}
		now := s.now()
		err = s.Store.UpdateUser(ctx, userID, func(u *store.User) error {
			u.PasswordHash = hash
			u.UpdatedAt = now
			return nil
		})
		if err != nil {
			return storeErr(err, "user", userID)
		}
	}
	// A password change releases brute-force blocks (WIRE.md §5).
	_, err = s.guard().Unblock(ctx, u.ID, u.Email, u.Username)
	return err
}

// RevokeRefreshTokens revokes every live refresh-token family of the user and returns how
// many it revoked.
func (s *Service) RevokeRefreshTokens(ctx context.Context, userID string) (int, error) {
	if _, err := s.Store.GetUser(ctx, userID); err != nil {
		return 0, storeErr(err, "user", userID)
	}
	return s.Store.RevokeRefreshFamilies(ctx, userID, "", "", s.now())
}

// Package scripted is the directory of a custom-database connection: Auth0's "Use my own
// database" (options.enabledDatabaseCustomization), whose users live in a legacy store that
// the connection's own JavaScript scripts (login, get_user, ...) reach, run unchanged by the
// hooks engine.
//
// It sits beside directory/database: a service over the directory seam, the store (every
// user who logs in gets a Sesame user record, as Auth0 keeps a profile per login) and the
// hooks engine (which runs the scripts in the sandbox of Actions). With import_mode ("Import
// Users to Auth0", lazy migration) a successful login also stores an argon2id hash of the
// password, and from then on the user logs in locally through directory/database: the legacy
// store is never asked again.
//
// A slow legacy store cannot hold more than its share of the server: each connection runs at
// most Options.MaxConcurrent scripts at once, a login waits at most Options.QueueWait for a
// turn (then ErrOverloaded, a 503), and each run has Options.Timeout.
package scripted

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/database"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
)

// Option keys of a custom-database connection, as Auth0's Management API and the Deploy CLI
// name them.
const (
	OptEnabled       = "enabledDatabaseCustomization"
	OptImportMode    = "import_mode"
	OptConfiguration = "configuration"
	OptScripts       = "customScripts"
)

// Defaults of Options.
const (
	DefaultMaxConcurrent = 4
	DefaultQueueWait     = time.Second
	// DefaultTimeout is below the password grant's 5 s bound on authentication, so that a
	// script that runs out of time fails as the script's error, not as an overload.
	DefaultTimeout = 4 * time.Second
	// DefaultRecheckTTL is how long a refresh trusts get_user's word that a user exists.
	DefaultRecheckTTL = time.Minute
)

// Enabled reports whether conn is a custom-database connection.
func Enabled(conn store.Connection) bool {
	b, _ := conn.Options[OptEnabled].(bool)
	return b && (conn.Strategy == "auth0" || conn.Strategy == "")
}

// Options configure Realms.
type Options struct {
	Engine *hooks.Engine
	// SQL backs the scripts' require('pg') (Pools).
	SQL   hooks.SQL
	Users store.Users
	// Hasher hashes migrated passwords and checks them once migrated.
	Hasher database.Hasher
	// Box opens the sealed configuration values.
	Box *seal.Box
	// MaxConcurrent scripts per connection, QueueWait for a turn, Timeout per run.
	MaxConcurrent int
	QueueWait     time.Duration
	Timeout       time.Duration
	// RecheckTTL is how long Lookup trusts get_user's answer about a user (default
	// DefaultRecheckTTL).
	RecheckTTL time.Duration
	Logger     *slog.Logger
}

// Realms makes the Directory of each custom-database connection. One per process: it holds
// each connection's bound on concurrent scripts, which every Directory of that connection
// shares.
type Realms struct {
	o        Options
	mu       sync.Mutex
	sems     map[string]chan struct{}
	rechecks map[string]recheck
}

// New returns the Realms of o.
func New(o Options) *Realms {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.QueueWait <= 0 {
		o.QueueWait = DefaultQueueWait
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RecheckTTL <= 0 {
		o.RecheckTTL = DefaultRecheckTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Realms{o: o, sems: map[string]chan struct{}{}, rechecks: map[string]recheck{}}
}

func (r *Realms) sem(conn string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sems[conn]
	if !ok {
		s = make(chan struct{}, r.o.MaxConcurrent)
		r.sems[conn] = s
	}
	return s
}

// Directory returns the directory of a custom-database connection.
func (r *Realms) Directory(conn store.Connection) (*Directory, error) {
	conf, err := OpenConfiguration(r.o.Box, conn.Name, conn.Options[OptConfiguration])
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", conn.Name, err)
	}
	scripts := map[string]string{}
	if m, ok := conn.Options[OptScripts].(map[string]any); ok {
		for k, v := range m {
			if s, ok := v.(string); ok && s != "" {
				scripts[k] = s
			}
		}
	}
	if scripts["login"] == "" {
		return nil, fmt.Errorf("connection %q: options.customScripts.login is required", conn.Name)
	}
	imp, _ := conn.Options[OptImportMode].(bool)
	return &Directory{r: r, conn: conn.Name, scripts: scripts, conf: conf, importMode: imp,
		local: database.New(r.o.Users, conn.Name, r.o.Hasher)}, nil
}

// Directory authenticates the users of one custom-database connection.
type Directory struct {
	r          *Realms
	conn       string
	scripts    map[string]string
	conf       map[string]string
	importMode bool
	// local is the connection's users in the store: where migrated users log in.
	local *database.Directory
}

var (
	_ directory.Directory = (*Directory)(nil)
	_ directory.Resolver  = (*Directory)(nil)
)

// Resolve names the Sesame user a login name belongs to, so that brute-force protection counts
// per user (an email and a username of one user share their attempts): every user who has
// logged in through the scripts has a Sesame record. A name nobody has logged in with is ""
// (counted per name, as for unknown users), without running a script.
func (d *Directory) Resolve(ctx context.Context, login string) (string, error) {
	return d.local.Resolve(ctx, login)
}

// Authenticate runs the login script (Auth0's login(email, password, callback)), or, for a
// user already migrated with import_mode, checks the password locally without it. A
// WrongUsernameOrPasswordError with a user (its first argument) is a wrong password
// (directory.ErrInvalidCredentials: the log says fp); without one, or callback() with nothing,
// an unknown user (directory.ErrUnknownUser: fu), as Auth0 decides. A script that throws,
// passes another error, or runs out of time fails with an error carrying its message (a 500
// whose cause is logged, never sent).
func (d *Directory) Authenticate(ctx context.Context, username, pw string) (directory.Identity, error) {
	if username == "" || pw == "" || len(username) > database.MaxUsernameLength || len(pw) > database.MaxPasswordLength {
		return directory.Identity{}, directory.ErrInvalidCredentials
	}
	if d.importMode {
		u, err := d.r.o.Users.FindUser(ctx, d.conn, username)
		switch {
		case err == nil && u.PasswordHash != "":
			return d.local.Authenticate(ctx, username, pw)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return directory.Identity{}, fmt.Errorf("custom database %q: find user: %w", d.conn, err)
		}
	}
	res, err := d.run(ctx, "login", username, pw)
	if err != nil {
		return directory.Identity{}, err
	}
	if res.Err != nil {
		if res.Err.Name == "WrongUsernameOrPasswordError" {
			if res.Err.User != "" {
				return directory.Identity{}, directory.ErrInvalidCredentials
			}
			return directory.Identity{}, directory.ErrUnknownUser
		}
		if res.Err.Name == "UnauthorizedError" {
			// The script refuses the account with a message for the user (Auth0 answers 401
			// unauthorized with it).
			return directory.Identity{}, &directory.AccountError{Reason: directory.AccountRefused,
				Detail: res.Err.Message, Message: res.Err.Message}
		}
		return directory.Identity{}, fmt.Errorf("custom database %q: login script: %w", d.conn, res.Err)
	}
	if res.Value == nil {
		// callback() or callback(null): wrong credentials in Auth0's older templates.
		return directory.Identity{}, directory.ErrUnknownUser
	}
	u, err := d.save(ctx, res.Value, pw)
	if err != nil {
		return directory.Identity{}, err
	}
	return identity(u), nil
}

// Lookup returns the user's Sesame record (refresh, userinfo, MFA). Without import_mode the
// legacy store owns the user, so when the connection has a get_user script Lookup asks it
// whether the user still exists (at most once per Options.RecheckTTL per user): a user it no
// longer finds is directory.ErrUserNotFound, which refuses a refresh. A legacy store that
// cannot answer (down, slow, the script fails) does not stop refreshes: the failure is logged
// and the Sesame record answers.
func (d *Directory) Lookup(ctx context.Context, userID string) (directory.Identity, error) {
	id, err := d.local.Lookup(ctx, userID)
	if err != nil || d.importMode || !d.HasScript("get_user") || id.Email == "" {
		return id, err
	}
	if d.r.gone(ctx, d, id) {
		return directory.Identity{}, directory.ErrUserNotFound
	}
	return id, nil
}

// recheck is a cached answer of get_user for Lookup.
type recheck struct {
	gone bool
	at   time.Time
}

// gone reports whether get_user no longer finds the user, from the cache when the answer is
// fresh. Only answers are cached; a failure is logged and counts as "still there".
func (r *Realms) gone(ctx context.Context, d *Directory, id directory.Identity) bool {
	key := d.conn + "\x00" + id.UserID
	r.mu.Lock()
	c, ok := r.rechecks[key]
	r.mu.Unlock()
	if ok && time.Since(c.at) < r.o.RecheckTTL {
		return c.gone
	}
	p, err := d.GetUser(ctx, id.Email)
	if err != nil {
		r.o.Logger.WarnContext(ctx, "custom database get_user failed; keeping the user", "connection", d.conn,
			"user_id", id.UserID, "error", err)
		return false
	}
	gone := p == nil
	r.mu.Lock()
	if len(r.rechecks) >= maxRechecks {
		clear(r.rechecks) // a bound, not an LRU: the cache only saves script runs
	}
	r.rechecks[key] = recheck{gone: gone, at: time.Now()}
	r.mu.Unlock()
	return gone
}

// maxRechecks bounds the cache of get_user answers.
const maxRechecks = 100_000

// run runs one script, waiting at most QueueWait for a turn among the connection's
// MaxConcurrent.
func (d *Directory) run(ctx context.Context, script string, args ...any) (hooks.DBResult, error) {
	code := d.scripts[script]
	if code == "" {
		return hooks.DBResult{}, fmt.Errorf("custom database %q: no %s script", d.conn, script)
	}
	sem := d.r.sem(d.conn)
	wait := time.NewTimer(d.r.o.QueueWait)
	defer wait.Stop()
	select {
	case sem <- struct{}{}:
	case <-wait.C:
		return hooks.DBResult{}, fmt.Errorf("%w: custom database %q runs %d scripts already", directory.ErrOverloaded, d.conn, cap(sem))
	case <-ctx.Done():
		return hooks.DBResult{}, fmt.Errorf("%w: %w", directory.ErrOverloaded, ctx.Err())
	}
	defer func() { <-sem }()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.r.o.Timeout)
	defer cancel()
	start := time.Now()
	res, err := d.r.o.Engine.RunDBScript(rctx, hooks.DBScript{Name: d.conn + "/" + script, Code: code, Args: args,
		Configuration: d.conf, SQL: d.r.o.SQL})
	if err != nil {
		d.r.o.Logger.WarnContext(ctx, "custom database script failed", "connection", d.conn, "script", script,
			"duration", time.Since(start), "error", err)
		return res, fmt.Errorf("custom database %q: %w", d.conn, err)
	}
	return res, nil
}

// save creates or updates the user's Sesame record from the script's profile; with import
// mode it also stores an argon2id hash of the password that the script accepted.
func (d *Directory) save(ctx context.Context, v any, pw string) (store.User, error) {
	p, ok := v.(map[string]any)
	if !ok {
		return store.User{}, fmt.Errorf("custom database %q: the login script's profile is not an object", d.conn)
	}
	id := profileID(p)
	if id == "" {
		return store.User{}, fmt.Errorf("custom database %q: the login script's profile has no user_id or id", d.conn)
	}
	if !strings.HasPrefix(id, "auth0|") {
		id = "auth0|" + id
	}
	var hash string
	if d.importMode && pw != "" {
		var err error
		if hash, err = d.r.o.Hasher.Hash(ctx, pw); err != nil {
			return store.User{}, fmt.Errorf("%w: %w", directory.ErrOverloaded, err)
		}
	}
	now := time.Now().UTC()
	apply := func(u *store.User) {
		str := func(k string, dst *string) {
			if s, ok := p[k].(string); ok {
				*dst = s
			}
		}
		str("email", &u.Email)
		str("username", &u.Username)
		str("name", &u.Name)
		str("nickname", &u.Nickname)
		str("picture", &u.Picture)
		str("given_name", &u.GivenName)
		str("family_name", &u.FamilyName)
		if b, ok := p["email_verified"].(bool); ok {
			u.EmailVerified = b
		}
		if m, ok := p["user_metadata"].(map[string]any); ok {
			u.UserMetadata = m
		}
		// Auth0's profile carries app_metadata as "metadata".
		if m, ok := p["metadata"].(map[string]any); ok {
			u.AppMetadata = m
		} else if m, ok := p["app_metadata"].(map[string]any); ok {
			u.AppMetadata = m
		}
		if hash != "" {
			u.PasswordHash = hash
		}
		u.Email = strings.ToLower(u.Email)
		u.UpdatedAt = now
	}
	users := d.r.o.Users
	for range 2 { // a parallel first login may create the record between our read and write
		cur, err := users.GetUser(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			u := store.User{ID: id, Connection: d.conn, CreatedAt: now, AppMetadata: map[string]any{}, UserMetadata: map[string]any{}}
			apply(&u)
			if err := users.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
				continue
			} else if err != nil {
				return store.User{}, fmt.Errorf("custom database %q: storing the user: %w", d.conn, err)
			}
			return users.GetUser(ctx, id)
		case err != nil:
			return store.User{}, err
		case cur.Connection != d.conn:
			return store.User{}, fmt.Errorf("custom database %q: user_id %s belongs to connection %q", d.conn, id, cur.Connection)
		}
		var out store.User
		err = users.UpdateUser(ctx, id, func(u *store.User) error {
			apply(u)
			out = *u
			return nil
		})
		if err != nil {
			return store.User{}, fmt.Errorf("custom database %q: updating the user: %w", d.conn, err)
		}
		return out, nil
	}
	return store.User{}, fmt.Errorf("custom database %q: storing the user %s: conflict", d.conn, id)
}

// profileID is the profile's user_id, else its id (a string or a number).
func profileID(p map[string]any) string {
	for _, k := range []string{"user_id", "id"} {
		switch t := p[k].(type) {
		case string:
			if t != "" {
				return t
			}
		case int64:
			return strconv.FormatInt(t, 10)
		case float64:
			return strconv.FormatFloat(t, 'f', -1, 64)
		}
	}
	return ""
}

func identity(u store.User) directory.Identity {
	var perms []directory.Permission
	for _, p := range u.Permissions {
		perms = append(perms, directory.Permission{ResourceServerIdentifier: p.ResourceServerIdentifier, PermissionName: p.PermissionName})
	}
	return directory.Identity{UserID: u.ID, Connection: u.Connection, Email: u.Email, EmailVerified: u.EmailVerified,
		Username: u.Username, Name: u.Name, Nickname: u.Nickname, Picture: u.Picture, GivenName: u.GivenName,
		FamilyName: u.FamilyName, AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata, Blocked: u.Blocked,
		Permissions: perms, LoginsCount: u.LoginsCount, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastLogin: u.LastLogin}
}

// sealedPrefix marks a sealed configuration value in the stored options; the Management API
// returns these, never the values.
const sealedPrefix = "sealed:v1:"

func configAAD(conn, key string) []byte {
	return []byte("connection-configuration\x00" + conn + "\x00" + key)
}

// SealConfiguration seals each value of a connection's options.configuration. A value already
// sealed for this connection and key (as the Management API returned it) is kept, and so is a
// stored sealed value that opens to the same plaintext, so applying an unchanged file changes
// nothing.
func SealConfiguration(box *seal.Box, conn string, in map[string]any, stored any) (map[string]any, error) {
	cur, _ := stored.(map[string]any)
	out := make(map[string]any, len(in))
	for k, v := range in {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("options.configuration.%s: must be a string", k)
		}
		if strings.HasPrefix(s, sealedPrefix) {
			if _, err := openValue(box, conn, k, s); err != nil {
				return nil, fmt.Errorf("options.configuration.%s: a sealed value that does not open: %w", k, err)
			}
			out[k] = s
			continue
		}
		if box == nil {
			return nil, fmt.Errorf("options.configuration needs a key-encryption key to seal its values, and none is configured")
		}
		if old, ok := cur[k].(string); ok {
			if plain, err := openValue(box, conn, k, old); err == nil && plain == s {
				out[k] = old
				continue
			}
		}
		out[k] = sealedPrefix + base64.RawStdEncoding.EncodeToString(box.Seal([]byte(s), configAAD(conn, k)))
	}
	return out, nil
}

func openValue(box *seal.Box, conn, key, s string) (string, error) {
	if box == nil {
		return "", errors.New("no key-encryption key is configured")
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(s, sealedPrefix))
	if err != nil {
		return "", seal.ErrOpen
	}
	b, err := box.Open(raw, configAAD(conn, key))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// OpenConfiguration opens a stored options.configuration for the scripts.
func OpenConfiguration(box *seal.Box, conn string, stored any) (map[string]string, error) {
	m, _ := stored.(map[string]any)
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, _ := v.(string)
		if !strings.HasPrefix(s, sealedPrefix) {
			return nil, fmt.Errorf("options.configuration.%s is not sealed (apply the connection again)", k)
		}
		plain, err := openValue(box, conn, k, s)
		if err != nil {
			return nil, fmt.Errorf("options.configuration.%s: %w", k, err)
		}
		out[k] = plain
	}
	return out, nil
}

// ErrNoScript is a user operation on a connection that has no script for it.
var ErrNoScript = errors.New("custom database: no script for this operation")

// ScriptFailure is a user-operation script that passed an error to its callback (a
// ValidationError, a plain Error...), carrying the script's error.
type ScriptFailure struct {
	Connection string
	Script     string
	Err        *hooks.ScriptError
}

func (e *ScriptFailure) Error() string {
	return fmt.Sprintf("custom database %q: the %s script failed: %s", e.Connection, e.Script, e.Err.Message)
}

// UserExists reports whether the script said the user exists already (Auth0's
// ValidationError('user_exists', ...) from create).
func (e *ScriptFailure) UserExists() bool {
	return e.Err.Name == "ValidationError" && e.Err.Code == "user_exists"
}

// ImportMode reports whether the connection migrates its users lazily (import_mode).
func (d *Directory) ImportMode() bool { return d.importMode }

// HasScript reports whether the connection has the named script (get_user, create...).
func (d *Directory) HasScript(name string) bool { return d.scripts[name] != "" }

// call runs a user-operation script; an error it calls back with is a *ScriptFailure.
func (d *Directory) call(ctx context.Context, script string, args ...any) (hooks.DBResult, error) {
	if !d.HasScript(script) {
		return hooks.DBResult{}, fmt.Errorf("%w: connection %q has no %s script", ErrNoScript, d.conn, script)
	}
	res, err := d.run(ctx, script, args...)
	if err != nil {
		return res, err
	}
	if res.Err != nil {
		return res, &ScriptFailure{Connection: d.conn, Script: script, Err: res.Err}
	}
	return res, nil
}

// GetUser runs get_user(email, callback): the legacy system's profile of the user, or nil
// when it has none (callback(null)).
func (d *Directory) GetUser(ctx context.Context, email string) (map[string]any, error) {
	res, err := d.call(ctx, "get_user", email)
	if err != nil {
		return nil, err
	}
	p, _ := res.Value.(map[string]any)
	return p, nil
}

// Create runs create(user, callback) with the new user (email, password, username,
// email_verified, user_metadata, app_metadata...).
func (d *Directory) Create(ctx context.Context, user map[string]any) error {
	_, err := d.call(ctx, "create", user)
	return err
}

// confirmed reads the callback(null, true|false) of change_password and change_email.
func (d *Directory) confirmed(res hooks.DBResult, script string) error {
	if ok, isBool := res.Value.(bool); isBool && !ok {
		return &ScriptFailure{Connection: d.conn, Script: script, Err: &hooks.ScriptError{Name: "Error", Message: "the legacy store did not change the user"}}
	}
	return nil
}

// ChangePassword runs change_password(email, newPassword, callback).
func (d *Directory) ChangePassword(ctx context.Context, email, pw string) error {
	res, err := d.call(ctx, "change_password", email, pw)
	if err != nil {
		return err
	}
	return d.confirmed(res, "change_password")
}

// ChangeEmail runs change_email(email, newEmail, verified, callback).
func (d *Directory) ChangeEmail(ctx context.Context, email, newEmail string, verified bool) error {
	res, err := d.call(ctx, "change_email", email, newEmail, verified)
	if err != nil {
		return err
	}
	return d.confirmed(res, "change_email")
}

// Delete runs delete(id, callback) with the user's id as the scripts gave it (without the
// auth0| prefix).
func (d *Directory) Delete(ctx context.Context, userID string) error {
	_, err := d.call(ctx, "delete", strings.TrimPrefix(userID, "auth0|"))
	return err
}

// SaveProfile stores a profile the scripts returned (get_user's after create) as the user's
// Sesame record, without a password.
func (d *Directory) SaveProfile(ctx context.Context, profile map[string]any) (store.User, error) {
	return d.save(ctx, profile, "")
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
)

// customDBOptions checks and prepares the options of a custom-database connection
// (options.enabledDatabaseCustomization: true) before they are stored, wherever they come from
// (the tenant file, the Management API):
//   - customScripts holds only Auth0's script names, login among them; each is the code, or,
//     when baseDir is not "" (the tenant file), a file reference relative to it as the Deploy
//     CLI exports them ("./databases/legacy/login.js"), read here so that the store holds code;
//   - every script compiles and requires only modules the sandbox has (hooks.DBModules);
//   - configuration holds strings, sealed here with the key-encryption key (a value sealed
//     already, as the Management API shows it, is kept; so is a stored one that opens to the
//     same value, so that re-applying a file changes nothing);
//   - import_mode is a boolean.
//
// The Management API passes baseDir "": a file reference from the network must never read
// the server's files. Errors are *ValidationError values, joined.
func (s *Service) customDBOptions(name, baseDir string, opts, stored map[string]any) (map[string]any, error) {
	if on, ok := opts[scripted.OptEnabled]; ok {
		if _, isBool := on.(bool); !isBool {
			return nil, invalid("options."+scripted.OptEnabled, "must be a boolean")
		}
	}
	if on, _ := opts[scripted.OptEnabled].(bool); !on {
		return opts, nil
	}
	out := maps.Clone(opts)
	var errs []error
	if v, ok := opts[scripted.OptImportMode]; ok {
		if _, isBool := v.(bool); !isBool {
			errs = append(errs, invalid("options."+scripted.OptImportMode, "must be a boolean"))
		}
	}
	rawScripts, ok := opts[scripted.OptScripts].(map[string]any)
	if !ok {
		errs = append(errs, invalid("options."+scripted.OptScripts, "is required with %s: true, with a login script at least", scripted.OptEnabled))
	}
	check := hooks.NewEngine(hooks.Options{})
	scripts := map[string]any{}
	keys := slices.Sorted(maps.Keys(rawScripts))
	for _, k := range keys {
		field := "options." + scripted.OptScripts + "." + k
		if !slices.Contains(hooks.DBScriptNames, k) {
			errs = append(errs, invalid(field, "is not a custom database script (want one of %s)", strings.Join(hooks.DBScriptNames, ", ")))
			continue
		}
		ref, isStr := rawScripts[k].(string)
		if !isStr || strings.TrimSpace(ref) == "" {
			errs = append(errs, invalid(field, "must be the script's code or a file name"))
			continue
		}
		src := ref
		if baseDir != "" {
			var err error
			if src, err = hookSource(baseDir, ref); err != nil {
				errs = append(errs, invalid(field, "%v", err))
				continue
			}
		}
		if err := check.CheckDBScript(name+"/"+k, src); err != nil {
			errs = append(errs, invalid(field, "%v", err))
			continue
		}
		scripts[k] = src
	}
	if rawScripts != nil && scripts["login"] == nil && !slices.Contains(keys, "login") {
		errs = append(errs, invalid("options."+scripted.OptScripts+".login", "is required"))
	}
	out[scripted.OptScripts] = scripts
	if c, ok := opts[scripted.OptConfiguration]; ok && c != nil {
		m, isMap := c.(map[string]any)
		if !isMap {
			errs = append(errs, invalid("options."+scripted.OptConfiguration, "must be a map of names to strings"))
		} else {
			sealed, err := scripted.SealConfiguration(s.Box, name, m, stored[scripted.OptConfiguration])
			if err != nil {
				errs = append(errs, invalid("options."+scripted.OptConfiguration, "%s", strings.TrimPrefix(err.Error(), "options.configuration")))
			} else {
				out[scripted.OptConfiguration] = sealed
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// customDB returns the directory of a custom-database connection, whose user operations run
// its scripts; nil for any other connection.
func (s *Service) customDB(ctx context.Context, connection string) (*scripted.Directory, error) {
	conn, err := s.Store.GetConnection(ctx, connection)
	if err != nil || !scripted.Enabled(conn) {
		return nil, nil //nolint:nilerr // not a custom database (a missing one is reported by the caller)
	}
	if s.CustomDB == nil {
		return nil, fmt.Errorf("admin: connection %q runs custom database scripts, and this process has no script engine", connection)
	}
	return s.CustomDB.Directory(conn)
}

// scriptErr maps what a user-operation script answered to the Management API's errors: a
// user that exists already is a 409, any other error of the script a 400 with its message
// (the caller is the tenant's admin, who wrote the script).
func scriptErr(err error, email string) error {
	var sf *scripted.ScriptFailure
	switch {
	case err == nil:
		return nil
	case errors.As(err, &sf) && sf.UserExists():
		return &ConflictError{Kind: "user", ID: email, Message: "The user already exists."}
	case errors.As(err, &sf), errors.Is(err, scripted.ErrNoScript):
		return invalid("connection", "%v", err)
	}
	return err
}

// createInCustomDB creates a user of a custom database without import_mode: the create
// script writes it to the legacy store, and get_user's profile of it (its user_id, as login
// will give it) becomes the Sesame user record, which keeps no password.
func (s *Service) createInCustomDB(ctx context.Context, d *scripted.Directory, in UserInput, email string) (store.User, error) {
	if !d.HasScript("get_user") || !d.HasScript("create") {
		return store.User{}, invalid("connection", "creating users in custom database %q needs its create and get_user scripts", in.Connection)
	}
	user := map[string]any{"email": email, "password": in.Password, "email_verified": in.EmailVerified,
		"connection": in.Connection, "tenant": "", "user_metadata": nonNilMap(in.UserMetadata), "app_metadata": nonNilMap(in.AppMetadata)}
	if in.Username != "" {
		user["username"] = in.Username
	}
	if err := d.Create(ctx, user); err != nil {
		return store.User{}, scriptErr(err, email)
	}
	p, err := d.GetUser(ctx, email)
	if err != nil {
		return store.User{}, scriptErr(err, email)
	}
	if p == nil {
		return store.User{}, invalid("connection", "custom database %q: get_user does not find the user its create script made", in.Connection)
	}
	u, err := d.SaveProfile(ctx, p)
	if err != nil {
		return store.User{}, err
	}
	now := s.now()
	err = s.Store.UpdateUser(ctx, u.ID, func(cur *store.User) error {
		applyProfile(cur, profileFields{GivenName: &in.GivenName, FamilyName: &in.FamilyName, Blocked: &in.Blocked, EmailVerified: &in.EmailVerified})
		for _, f := range []struct {
			dst *string
			v   string
		}{{&cur.Name, in.Name}, {&cur.Nickname, in.Nickname}, {&cur.Picture, in.Picture}} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
		cur.UserMetadata = mergeMetadata(cur.UserMetadata, in.UserMetadata)
		cur.AppMetadata = mergeMetadata(cur.AppMetadata, in.AppMetadata)
		cur.Permissions = in.Permissions
		defaultProfile(cur)
		cur.UpdatedAt = now
		u = *cur
		return nil
	})
	return u, storeErr(err, "user", u.ID)
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// LegacyUser runs the get_user script of a custom-database connection: the legacy store's
// profile of the user with this email, or nil when it has none.
func (s *Service) LegacyUser(ctx context.Context, connection, email string) (map[string]any, error) {
	if _, err := s.databaseConnection(ctx, connection); err != nil {
		return nil, err
	}
	d, err := s.customDB(ctx, connection)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, invalid("connection", "%q is not a custom database", connection)
	}
	p, err := d.GetUser(ctx, email)
	return p, scriptErr(err, email)
}

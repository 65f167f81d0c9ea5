package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

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

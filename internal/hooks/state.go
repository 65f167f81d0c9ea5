package hooks

import (
	"maps"
	"slices"
	"time"
)

// state is one flow's effects so far; every Rule and Action sees those before it.
type state struct {
	ev Event
	// cc is the event of a credentials exchange (ev is then zero); nil in a post-login flow.
	cc       *CredentialsEvent
	out      Outcome
	access   map[string]any
	id       map[string]any
	scopes   []string
	appMeta  map[string]any
	userMeta map[string]any
	appSet   bool
	userSet  bool

	// Set by the code of the running execution, turned into its error when it ends.
	denied   *DeniedError
	redirect *RedirectError
	revoked  *RefreshRevokedError
}

func newState(ev Event) *state {
	return &state{ev: ev, access: map[string]any{}, id: map[string]any{}, scopes: slices.Clone(ev.Scopes),
		appMeta: maps.Clone(ev.User.AppMetadata), userMeta: maps.Clone(ev.User.UserMetadata)}
}

// outcome is the Outcome of the flow so far.
func (s *state) outcome() Outcome {
	o := s.out
	o.AccessClaims, o.IDClaims = s.access, s.id
	o.Scopes = s.scopes
	if s.appSet {
		o.AppMetadata = nonNil(s.appMeta)
	}
	if s.userSet {
		o.UserMetadata = nonNil(s.userMeta)
	}
	return o
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// pending is the error the running execution asked for (deny, redirect, revoke), if any.
func (s *state) pending() error {
	switch {
	case s.denied != nil:
		return s.denied
	case s.redirect != nil:
		return s.redirect
	case s.revoked != nil:
		return s.revoked
	}
	return nil
}

func (s *state) addScope(sc string) {
	s.out.ScopesChanged = true
	if sc != "" && !slices.Contains(s.scopes, sc) {
		s.scopes = append(s.scopes, sc)
	}
}

func (s *state) removeScope(sc string) {
	s.out.ScopesChanged = true
	s.scopes = slices.DeleteFunc(s.scopes, func(v string) bool { return v == sc })
}

// setMeta sets one metadata key (Auth0: undefined or null deletes it).
func setMeta(m *map[string]any, key string, v any) {
	if *m == nil {
		*m = map[string]any{}
	}
	if v == nil {
		delete(*m, key)
		return
	}
	(*m)[key] = v
}

// isoTime is Auth0's timestamp format in event objects; the zero time is null.
func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// eventObject is event as Auth0 shapes it, JSON-ready.
func (s *state) eventObject(secrets map[string]string) map[string]any {
	ev := s.ev
	methods := []any{}
	for _, m := range ev.AuthMethods {
		methods = append(methods, map[string]any{"name": m.Name, "timestamp": isoTime(m.Timestamp)})
	}
	o := map[string]any{
		"user":   s.userObject(),
		"client": map[string]any{"client_id": ev.Client.ClientID, "name": ev.Client.Name, "metadata": nonNilS(ev.Client.Metadata)},
		"connection": map[string]any{"id": ev.Connection.ID, "name": ev.Connection.Name,
			"strategy": ev.Connection.Strategy, "metadata": nonNilS(ev.Connection.Metadata)},
		"request": map[string]any{"ip": ev.Request.IP, "hostname": ev.Request.Hostname, "method": ev.Request.Method,
			"user_agent": ev.Request.UserAgent, "body": nonNilS(ev.Request.Body), "query": map[string]any{},
			"geoip": map[string]any{}},
		"transaction":    map[string]any{"protocol": ev.Protocol, "requested_scopes": nonNilL(ev.RequestedScopes)},
		"authorization":  map[string]any{"roles": nonNilL(ev.Roles)},
		"authentication": map[string]any{"methods": methods},
		"stats":          map[string]any{"logins_count": ev.User.LoginsCount},
		"tenant":         map[string]any{"id": ev.TenantID},
		"secrets":        nonNilS(secrets),
	}
	if ev.ResourceServer != "" {
		o["resource_server"] = map[string]any{"identifier": ev.ResourceServer}
	}
	if rt := ev.RefreshToken; rt != nil {
		o["refresh_token"] = map[string]any{"id": rt.ID, "client_id": rt.ClientID, "user_id": rt.UserID,
			"created_at": isoTime(rt.CreatedAt), "expires_at": isoTime(rt.ExpiresAt)}
	}
	return o
}

// userObject is event.user (and a Rule's user) with the metadata as it stands now.
func (s *state) userObject() map[string]any {
	u := s.ev.User
	ids := []any{}
	for _, id := range u.Identities {
		ids = append(ids, map[string]any{"connection": id.Connection, "provider": id.Provider,
			"user_id": id.UserID, "isSocial": id.IsSocial})
	}
	o := map[string]any{
		"user_id": u.UserID, "email": u.Email, "email_verified": u.EmailVerified, "username": u.Username,
		"name": u.Name, "nickname": u.Nickname, "picture": u.Picture, "given_name": u.GivenName,
		"family_name": u.FamilyName, "app_metadata": nonNil(s.appMeta), "user_metadata": nonNil(s.userMeta),
		"identities": ids, "logins_count": u.LoginsCount, "last_ip": u.LastIP, "last_login": isoTime(u.LastLogin),
		"created_at": isoTime(u.CreatedAt), "updated_at": isoTime(u.UpdatedAt),
	}
	if u.Groups != nil {
		groups := make([]any, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = g
		}
		o["groups"] = groups
	}
	for _, k := range []string{"email", "username", "name", "nickname", "picture", "given_name", "family_name", "last_ip"} {
		if o[k] == "" {
			delete(o, k)
		}
	}
	return o
}

func nonNilS(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilL(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

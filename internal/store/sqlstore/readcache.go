package sqlstore

import (
	"bytes"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// ReadCacheTTL is how long a Store answers GetTenant, GetClient, GetResourceServer,
// GetConnection and GetUser from memory before reading the database again. Every token
// request reads several of these; they change rarely.
//
// A change made through this Store (the management API, `sesame apply` inside the process, a
// login counted by RecordLogin) drops the cached copy at once. A change made by another process
// on the same database (the CLI next to a running server, another node over PostgreSQL) is seen
// within ReadCacheTTL: a client disabled or a user blocked on one node is refused by every node
// at most ReadCacheTTL later (issue 6; docs/deploy.md). Refresh tokens, counters, MFA state
// and keys are never cached here, and FindUser (the password grant's lookup) always reads.
const ReadCacheTTL = time.Second

// readCache holds the configuration records read on every token request.
//
// Invalidation is by generation: a write bumps gen, and an entry is only used while its
// generation is current and it is younger than the TTL. A read that raced a write (read the
// old row, stored it after the write's bump) is thereby never served, because the entry
// records the generation from before its database read.
type readCache struct {
	ttl     time.Duration    // <= 0: no caching
	now     func() time.Time // the clock entries age on; nil means time.Now (tests set it)
	gen     atomic.Uint64
	tenant  cacheMap[store.Tenant]
	clients cacheMap[store.Client]
	apis    cacheMap[store.ResourceServer]
	conns   cacheMap[store.Connection]
	users   cacheMap[store.User]
}

type cacheMap[T any] struct{ m sync.Map } // key → *cached[T]

type cached[T any] struct {
	v   T
	gen uint64
	at  time.Time
}

// invalidate drops every cached record; writers call it after their change committed (and
// also when it failed: a failed commit may still have happened).
func (c *readCache) invalidate() { c.gen.Add(1) }

// forgetUser drops one user's cached copy: users change one at a time and often (every login
// counts), so a user write must not empty the whole cache. A read that raced the write may
// store the old row again; it is served for at most the TTL, the bound for other nodes too.
func (c *readCache) forgetUser(id string) { c.users.m.Delete(id) }

// through returns key's record from m, or reads it with load and keeps it. clone copies the
// record's slices and maps, so that a caller changing its copy cannot change the cache's.
// Errors (not found included) are not cached.
func through[T any](c *readCache, m *cacheMap[T], key string, clone func(T) T, load func() (T, error)) (T, error) {
	if c.ttl <= 0 {
		return load()
	}
	gen := c.gen.Load()
	if v, ok := m.m.Load(key); ok {
		e := v.(*cached[T])
		if e.gen == gen && c.clock().Sub(e.at) < c.ttl {
			return clone(e.v), nil
		}
	}
	at := c.clock()
	v, err := load()
	if err != nil {
		return v, err
	}
	m.m.Store(key, &cached[T]{v: clone(v), gen: gen, at: at})
	return v, nil
}

func (c *readCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func cloneTenant(t store.Tenant) store.Tenant {
	if ap := t.AttackProtection; ap != nil {
		c := *ap
		c.BruteForce.Shields = slices.Clone(ap.BruteForce.Shields)
		c.BruteForce.Allowlist = slices.Clone(ap.BruteForce.Allowlist)
		c.SuspiciousIP.Shields = slices.Clone(ap.SuspiciousIP.Shields)
		c.SuspiciousIP.Allowlist = slices.Clone(ap.SuspiciousIP.Allowlist)
		c.Breached.Shields = slices.Clone(ap.Breached.Shields)
		t.AttackProtection = &c
	}
	return t
}

func cloneClient(c store.Client) store.Client {
	c.SecretSealed = bytes.Clone(c.SecretSealed)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.Credentials = slices.Clone(c.Credentials)
	c.Metadata = maps.Clone(c.Metadata)
	c.WebOrigins = slices.Clone(c.WebOrigins)
	return c
}

func cloneAPI(r store.ResourceServer) store.ResourceServer {
	r.Scopes = slices.Clone(r.Scopes)
	r.SigningSecretSealed = bytes.Clone(r.SigningSecretSealed)
	return r
}

func cloneConnection(c store.Connection) store.Connection {
	c.EnabledClients = slices.Clone(c.EnabledClients)
	if c.Options != nil {
		c.Options = cloneJSON(c.Options).(map[string]any)
	}
	return c
}

// cloneJSON deep-copies a value decoded from JSON (maps, slices and scalars).
func cloneUser(u store.User) store.User {
	if u.AppMetadata != nil {
		u.AppMetadata = cloneJSON(u.AppMetadata).(map[string]any)
	}
	if u.UserMetadata != nil {
		u.UserMetadata = cloneJSON(u.UserMetadata).(map[string]any)
	}
	u.Permissions = slices.Clone(u.Permissions)
	return u
}

func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = cloneJSON(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneJSON(x)
		}
		return out
	default:
		return v
	}
}

package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// ErrTargetNotEmpty is returned by Copy when the target already holds data and Force is off.
var ErrTargetNotEmpty = errors.New("sqlstore: copy target is not empty")

// CopyOptions tune Copy.
type CopyOptions struct {
	// Logs also copies the tenant log.
	Logs bool
	// Force empties a non-empty target first (in the same transaction as the copy).
	Force bool
	// Now decides which refresh-token families are still live; zero means time.Now.
	// (Single-use entries are judged by the wall clock, as UseOnce records them.)
	Now time.Time
}

// CopyCounts says how many rows of each kind Copy wrote.
type CopyCounts struct {
	Tenant, Clients, ResourceServers, ClientGrants, Connections, Users, SigningKeys int
	RefreshFamilies, RefreshTokens, Replay, Logs                                    int
	MFAAuthenticators                                                               int
	Actions, Rules, TriggerBindings                                                 int
	// GuardState counts live brute-force counters and throttle buckets; BreachedHashes the
	// breached-password list.
	GuardState, BreachedHashes int
}

// copyTables are the target's data tables, children before parents (the order to empty them).
var copyTables = []string{"action_bindings", "actions", "rules", "guard_counters", "guard_buckets", "breached_hashes",
	"mfa_authenticators", "refresh_tokens", "refresh_families", "users", "connections", "client_grants", "resource_servers",
	"clients", "signing_keys", "used_once", "logs", "tenant"}

// Copy copies every record of src into dst, which must be migrated, in one transaction on dst:
// the tenant, clients, APIs, client grants, connections, users, signing keys (sealed blobs as they are, so
// both sides need the same key-encryption key), live refresh-token families with all their
// tokens (so rotation and reuse detection carry on), unexpired single-use entries and, with
// Logs, the tenant log. Rows go through the record types, so any dialect copies to any other.
func Copy(ctx context.Context, dst, src *Store, o CopyOptions) (CopyCounts, error) {
	var n CopyCounts
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	tenant, err := readTenant(ctx, src.read)
	if err != nil {
		return n, err
	}
	cls, err := listRows(ctx, src, src.read, clients, "ORDER BY client_id")
	if err != nil {
		return n, err
	}
	apis, err := listRows(ctx, src, src.read, resourceServers, "ORDER BY identifier")
	if err != nil {
		return n, err
	}
	grants, err := listRows(ctx, src, src.read, clientGrants, "ORDER BY id")
	if err != nil {
		return n, err
	}
	conns, err := listRows(ctx, src, src.read, connections, "ORDER BY name")
	if err != nil {
		return n, err
	}
	us, err := listRows(ctx, src, src.read, users, "ORDER BY id")
	if err != nil {
		return n, err
	}
	keys, err := listRows(ctx, src, src.read, signingKeys, "ORDER BY created_at, kid")
	if err != nil {
		return n, err
	}
	live := "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
	fams, err := listRows(ctx, src, src.read, families, "WHERE "+live+" ORDER BY id", now.UnixNano())
	if err != nil {
		return n, err
	}
	toks, err := listRows(ctx, src, src.read, tokens,
		"WHERE family_id IN (SELECT id FROM refresh_families WHERE "+live+") ORDER BY hash", now.UnixNano())
	if err != nil {
		return n, err
	}
	// Enrolled second factors go along (their TOTP secrets stay sealed); paused logins, OOB
	// challenges and failure buckets are minutes-lived and are not copied.
	auths, err := listRows(ctx, src, src.read, authenticators, "ORDER BY id")
	if err != nil {
		return n, err
	}
	replay, err := readReplay(ctx, src, time.Now()) // UseOnce runs on the wall clock
	if err != nil {
		return n, err
	}
	acts, err := listRows(ctx, src, src.read, actions, "ORDER BY name")
	if err != nil {
		return n, err
	}
	rls, err := listRows(ctx, src, src.read, rules, "ORDER BY name")
	if err != nil {
		return n, err
	}
	// Attack-protection state moves too: a pair blocked for brute force must stay blocked on
	// the new database, and the breached-password list was imported by an admin.
	raw := []rawCopy{
		{table: "action_bindings", cols: []string{"trigger_id", "position", "action_name", "display_name"},
			order: "ORDER BY trigger_id, position", count: &n.TriggerBindings},
		{table: "guard_counters", cols: []string{"counter_key", "hits", "expires_at"},
			where: "WHERE expires_at > ?", args: []any{now.UnixNano()}, order: "ORDER BY counter_key", count: &n.GuardState},
		{table: "guard_buckets", cols: []string{"bucket_key", "tat"},
			where: "WHERE tat > ?", args: []any{now.UnixNano()}, order: "ORDER BY bucket_key", count: &n.GuardState},
		{table: "breached_hashes", cols: []string{"prefix", "suffix"}, order: "ORDER BY prefix, suffix", count: &n.BreachedHashes},
	}
	for i := range raw {
		if err := raw[i].read(ctx, src); err != nil {
			return n, err
		}
	}
	var evs []store.LogEvent
	if o.Logs {
		if evs, err = listRows(ctx, src, src.read, logs, "ORDER BY id"); err != nil {
			return n, err
		}
	}

	defer dst.cache.invalidate()
	err = dst.inTx(ctx, func(tx querier) error {
		if err := dst.emptyForCopy(ctx, tx, o.Force); err != nil {
			return err
		}
		if tenant != (store.Tenant{}) {
			if _, err := tx.ExecContext(ctx, dst.q(putTenant), tenant.FriendlyName, tenant.DefaultDirectory,
				tenant.DefaultAudience, tenant.RevokeDeletesGrant, timeVal(tenant.UpdatedAt)); err != nil {
				return fmt.Errorf("sqlstore: copying tenant: %w", err)
			}
			var factors any
			if tenant.MFAFactors != (store.MFAFactors{}) {
				var e encoder
				if factors = e.json(tenant.MFAFactors); e.err != nil {
					return fmt.Errorf("sqlstore: encoding MFA factors: %w", e.err)
				}
			}
			if _, err := tx.ExecContext(ctx, dst.q(putMFA), tenant.MFAPolicy, factors); err != nil {
				return fmt.Errorf("sqlstore: copying MFA settings: %w", err)
			}
			var ap any
			if tenant.AttackProtection != nil {
				var e encoder
				if ap = e.json(tenant.AttackProtection); e.err != nil {
					return fmt.Errorf("sqlstore: encoding attack protection: %w", e.err)
				}
			}
			if _, err := tx.ExecContext(ctx, dst.q(putAttackProtection), ap); err != nil {
				return fmt.Errorf("sqlstore: copying attack protection: %w", err)
			}
			n.Tenant = 1
		}
		var err error
		if n.Clients, err = insertAll(ctx, dst, tx, clients, cls); err != nil {
			return err
		}
		if n.ResourceServers, err = insertAll(ctx, dst, tx, resourceServers, apis); err != nil {
			return err
		}
		if n.ClientGrants, err = insertAll(ctx, dst, tx, clientGrants, grants); err != nil {
			return err
		}
		if n.Connections, err = insertAll(ctx, dst, tx, connections, conns); err != nil {
			return err
		}
		if n.Users, err = insertAll(ctx, dst, tx, users, us); err != nil {
			return err
		}
		if n.SigningKeys, err = insertAll(ctx, dst, tx, signingKeys, keys); err != nil {
			return err
		}
		if n.RefreshFamilies, err = insertAll(ctx, dst, tx, families, fams); err != nil {
			return err
		}
		if n.RefreshTokens, err = insertAll(ctx, dst, tx, tokens, toks); err != nil {
			return err
		}
		if n.MFAAuthenticators, err = insertAll(ctx, dst, tx, authenticators, auths); err != nil {
			return err
		}
		for _, r := range replay {
			if _, err := tx.ExecContext(ctx, dst.q(`INSERT INTO used_once (use_key, expires_at) VALUES (?, ?)`), r.key, r.expires); err != nil {
				return fmt.Errorf("sqlstore: copying single-use key: %w", err)
			}
		}
		n.Replay = len(replay)
		if n.Logs, err = insertAll(ctx, dst, tx, logs, evs); err != nil {
			return err
		}
		if n.Actions, err = insertAll(ctx, dst, tx, actions, acts); err != nil {
			return err
		}
		if n.Rules, err = insertAll(ctx, dst, tx, rules, rls); err != nil {
			return err
		}
		for i := range raw {
			if err := raw[i].write(ctx, dst, tx); err != nil {
				return err
			}
		}
		// Nodes already serving the target cache the hooks by version: make them re-read.
		return dst.bump(ctx, tx)
	})
	if err != nil {
		return CopyCounts{}, err
	}
	return n, nil
}

// emptyForCopy checks, inside the copy's transaction, that the target is empty; with force it
// deletes what is there instead.
func (s *Store) emptyForCopy(ctx context.Context, tx querier, force bool) error {
	for _, t := range copyTables {
		if force {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("sqlstore: emptying %s: %w", t, err)
			}
			continue
		}
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM "+t+" LIMIT 1) x").Scan(&one); err != nil {
			return fmt.Errorf("sqlstore: counting %s: %w", t, err)
		}
		if one > 0 {
			return fmt.Errorf("%w: table %s has rows (use --force to replace them)", ErrTargetNotEmpty, t)
		}
	}
	return nil
}

func insertAll[T any](ctx context.Context, s *Store, tx querier, t *table[T], rows []T) (int, error) {
	for i := range rows {
		if err := insertRow(ctx, s, tx, t, &rows[i]); err != nil {
			return i, err
		}
	}
	return len(rows), nil
}

// rawCopy copies the rows of a table without a record type, column by column. Values come back
// from both drivers as int64 or string, which either dialect accepts for its columns.
type rawCopy struct {
	table, where, order string
	cols                []string
	args                []any
	count               *int
	rows                [][]any
}

func (c *rawCopy) read(ctx context.Context, src *Store) error {
	rows, err := src.read.QueryContext(ctx, src.q("SELECT "+strings.Join(c.cols, ", ")+" FROM "+c.table+" "+c.where+" "+c.order), c.args...)
	if err != nil {
		return fmt.Errorf("sqlstore: reading %s: %w", c.table, err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]any, len(c.cols))
		ptrs := make([]any, len(c.cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlstore: reading %s: %w", c.table, err)
		}
		c.rows = append(c.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: reading %s: %w", c.table, err)
	}
	return nil
}

func (c *rawCopy) write(ctx context.Context, dst *Store, tx querier) error {
	ins := dst.q("INSERT INTO " + c.table + " (" + strings.Join(c.cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(c.cols)-1) + ")")
	for _, vals := range c.rows {
		if _, err := tx.ExecContext(ctx, ins, vals...); err != nil {
			return fmt.Errorf("sqlstore: copying %s: %w", c.table, err)
		}
	}
	*c.count += len(c.rows)
	return nil
}

type replayEntry struct {
	key     string
	expires int64
}

func readReplay(ctx context.Context, s *Store, now time.Time) ([]replayEntry, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT use_key, expires_at FROM used_once WHERE expires_at > ? ORDER BY use_key`), now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading single-use keys: %w", err)
	}
	defer rows.Close()
	var out []replayEntry
	for rows.Next() {
		var r replayEntry
		if err := rows.Scan(&r.key, &r.expires); err != nil {
			return nil, fmt.Errorf("sqlstore: reading single-use keys: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading single-use keys: %w", err)
	}
	return out, nil
}

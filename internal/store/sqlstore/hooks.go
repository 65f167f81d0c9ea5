package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesameauth/sesame/internal/store"
)

var actions = build(&table[store.Action]{
	name: "actions", what: "action", key: "name",
	cols: []string{"name", "id", "code", "runtime", "dependencies", "supported_triggers", "secrets",
		"deployed", "deployed_version", "created_at", "updated_at"},
	keyOf: func(a *store.Action) string { return a.Name },
	values: func(e *encoder, a *store.Action) []any {
		return []any{a.Name, a.ID, a.Code, a.Runtime, e.json(a.Dependencies), e.json(a.SupportedTriggers),
			e.json(a.Secrets), a.Deployed, a.DeployedVersion, timeVal(a.CreatedAt), timeVal(a.UpdatedAt)}
	},
	scan: func(a *store.Action) []any {
		return []any{&a.Name, &a.ID, &a.Code, &a.Runtime, jsonCol{&a.Dependencies}, jsonCol{&a.SupportedTriggers},
			jsonCol{&a.Secrets}, &a.Deployed, &a.DeployedVersion, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}}
	},
})

var actionVersions = build(&table[store.ActionVersion]{
	name: "action_versions", what: "action version", key: "id",
	cols:  []string{"id", "action_id", "number", "code", "runtime", "dependencies", "supported_triggers", "created_at"},
	keyOf: func(v *store.ActionVersion) string { return v.ID },
	values: func(e *encoder, v *store.ActionVersion) []any {
		return []any{v.ID, v.ActionID, v.Number, v.Code, v.Runtime, e.json(v.Dependencies), e.json(v.SupportedTriggers),
			timeVal(v.CreatedAt)}
	},
	scan: func(v *store.ActionVersion) []any {
		return []any{&v.ID, &v.ActionID, &v.Number, &v.Code, &v.Runtime, jsonCol{&v.Dependencies},
			jsonCol{&v.SupportedTriggers}, timeCol{&v.CreatedAt}}
	},
})

var rulesConfigs = build(&table[store.RulesConfig]{
	name: "rules_configs", what: "rules config", key: "config_key",
	cols:  []string{"config_key", "value_sealed", "created_at", "updated_at"},
	keyOf: func(c *store.RulesConfig) string { return c.Key },
	values: func(_ *encoder, c *store.RulesConfig) []any {
		return []any{c.Key, c.ValueSealed, timeVal(c.CreatedAt), timeVal(c.UpdatedAt)}
	},
	scan: func(c *store.RulesConfig) []any {
		return []any{&c.Key, &c.ValueSealed, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}}
	},
})

var rules = build(&table[store.Rule]{
	name: "rules", what: "rule", key: "name",
	cols:  []string{"name", "id", "script", "ord", "enabled", "created_at", "updated_at"},
	keyOf: func(r *store.Rule) string { return r.Name },
	values: func(_ *encoder, r *store.Rule) []any {
		return []any{r.Name, r.ID, r.Script, r.Order, r.Enabled, timeVal(r.CreatedAt), timeVal(r.UpdatedAt)}
	},
	scan: func(r *store.Rule) []any {
		return []any{&r.Name, &r.ID, &r.Script, &r.Order, &r.Enabled, timeCol{&r.CreatedAt}, timeCol{&r.UpdatedAt}}
	},
})

const (
	bumpHooksVersion = `UPDATE hooks_version SET version = version + 1 WHERE id = 1`
	getHooksVersion  = `SELECT version FROM hooks_version WHERE id = 1`
	listBindings     = `SELECT action_name, display_name FROM action_bindings WHERE trigger_id = ? ORDER BY position`
	clearBindings    = `DELETE FROM action_bindings WHERE trigger_id = ?`
	addBinding       = `INSERT INTO action_bindings (trigger_id, position, action_name, display_name) VALUES (?, ?, ?, ?)`
	unbindAction     = `DELETE FROM action_bindings WHERE action_name = ?`
	lockAction       = `UPDATE actions SET deployed = deployed WHERE name = ?`
	maxVersion       = `SELECT COALESCE(MAX(number), 0) FROM action_versions WHERE action_id = ?`
	setDeployed      = `UPDATE actions SET deployed = ?, deployed_version = ? WHERE name = ?`
	updateRuleByID   = `UPDATE rules SET name = ?, id = ?, script = ?, ord = ?, enabled = ?, created_at = ?, updated_at = ? WHERE name = ?`
)

// bump counts one more write to the hooks tables; it runs in the writing transaction.
func (s *Store) bump(ctx context.Context, q querier) error {
	if _, err := q.ExecContext(ctx, s.q(bumpHooksVersion)); err != nil {
		return fmt.Errorf("sqlstore: bumping hooks version: %w", err)
	}
	return nil
}

// ListActions returns every action ordered by name.
func (s *Store) ListActions(ctx context.Context) ([]store.Action, error) {
	return listRows(ctx, s, s.read, actions, "ORDER BY name")
}

// GetAction returns the action with this name.
func (s *Store) GetAction(ctx context.Context, name string) (store.Action, error) {
	return getRow(ctx, s, s.read, actions, name)
}

// PutAction creates or replaces the action with a.Name, keeping a stored action's ID,
// CreatedAt and DeployedVersion (only DeployActionVersion sets that).
func (s *Store) PutAction(ctx context.Context, a store.Action) error {
	return s.inTx(ctx, func(q querier) error {
		err := upsertRow(ctx, s, q, actions, &a, func(old *store.Action, a *store.Action) {
			a.DeployedVersion = ""
			if old != nil {
				a.ID, a.CreatedAt, a.DeployedVersion = old.ID, old.CreatedAt, old.DeployedVersion
			}
		})
		if err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// CreateAction inserts a new action (never deployed yet).
func (s *Store) CreateAction(ctx context.Context, a store.Action) error {
	a.DeployedVersion = ""
	return s.inTx(ctx, func(q querier) error {
		if err := insertRow(ctx, s, q, actions, &a); err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// CreateRule inserts a new rule.
func (s *Store) CreateRule(ctx context.Context, r store.Rule) error {
	return s.inTx(ctx, func(q querier) error {
		if err := insertRow(ctx, s, q, rules, &r); err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// upsertRow inserts v, or replaces the stored record with v's key; keep first copies into v
// what a replacement keeps of the stored record (old), or clears what a new one may not set
// (old nil).
func upsertRow[T any](ctx context.Context, s *Store, q querier, t *table[T], v *T, keep func(old, v *T)) error {
	key := t.keyOf(v)
	old, err := getRow(ctx, s, q, t, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		keep(nil, v)
		return insertRow(ctx, s, q, t, v)
	case err != nil:
		return err
	}
	keep(&old, v)
	var e encoder
	args := t.updateArgs(&e, v, key)
	if e.err != nil {
		return fmt.Errorf("sqlstore: encoding %s %q: %w", t.what, key, e.err)
	}
	if _, err := q.ExecContext(ctx, s.q(t.upd), args...); err != nil {
		return s.writeErr("updating", t.what, key, err)
	}
	return nil
}

// DeployActionVersion stores v as the action's next version and deploys it.
func (s *Store) DeployActionVersion(ctx context.Context, actionName string, v store.ActionVersion) (store.ActionVersion, error) {
	err := s.inTx(ctx, func(q querier) error {
		// Lock the action's row before numbering, so that parallel deploys queue (PostgreSQL
		// would otherwise let two of them read the same highest number).
		n, err := affected(q.ExecContext(ctx, s.q(lockAction), actionName))
		if err != nil {
			return fmt.Errorf("sqlstore: locking action %q: %w", actionName, unavailable(err))
		}
		if n == 0 {
			return actions.notFound(actionName)
		}
		a, err := getRow(ctx, s, q, actions, actionName)
		if err != nil {
			return err
		}
		v.ActionID = a.ID
		if err := q.QueryRowContext(ctx, s.q(maxVersion), a.ID).Scan(&v.Number); err != nil {
			return fmt.Errorf("sqlstore: numbering a version of action %q: %w", actionName, err)
		}
		v.Number++
		if err := insertRow(ctx, s, q, actionVersions, &v); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, s.q(setDeployed), true, v.ID, actionName); err != nil {
			return s.writeErr("deploying", "action", actionName, err)
		}
		return s.bump(ctx, q)
	})
	if err != nil {
		return store.ActionVersion{}, err
	}
	return v, nil
}

// ListActionVersions returns the action's versions, newest first.
func (s *Store) ListActionVersions(ctx context.Context, actionID string) ([]store.ActionVersion, error) {
	return listRows(ctx, s, s.read, actionVersions, "WHERE action_id = ? ORDER BY number DESC", actionID)
}

// GetActionVersion returns one version of the action.
func (s *Store) GetActionVersion(ctx context.Context, actionID, versionID string) (store.ActionVersion, error) {
	v, err := getRow(ctx, s, s.read, actionVersions, versionID)
	if err == nil && v.ActionID != actionID {
		return store.ActionVersion{}, actionVersions.notFound(versionID)
	}
	return v, err
}

// ListRulesConfigs returns every rules configuration value ordered by key.
func (s *Store) ListRulesConfigs(ctx context.Context) ([]store.RulesConfig, error) {
	return listRows(ctx, s, s.read, rulesConfigs, "ORDER BY config_key")
}

// PutRulesConfig creates or replaces a rules configuration value, keeping CreatedAt.
func (s *Store) PutRulesConfig(ctx context.Context, c store.RulesConfig) error {
	return s.inTx(ctx, func(q querier) error {
		err := upsertRow(ctx, s, q, rulesConfigs, &c, func(old, c *store.RulesConfig) {
			if old != nil {
				c.CreatedAt = old.CreatedAt
			}
		})
		if err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// DeleteRulesConfig deletes a rules configuration value.
func (s *Store) DeleteRulesConfig(ctx context.Context, key string) error {
	return s.inTx(ctx, func(q querier) error {
		if err := deleteRow(ctx, s, q, rulesConfigs, key); err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// DeleteAction deletes the action and its trigger bindings.
func (s *Store) DeleteAction(ctx context.Context, name string) error {
	return s.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, s.q(unbindAction), name); err != nil {
			return fmt.Errorf("sqlstore: unbinding action %q: %w", name, err)
		}
		if err := deleteRow(ctx, s, q, actions, name); err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// TriggerBindings returns the trigger's bindings in execution order.
func (s *Store) TriggerBindings(ctx context.Context, trigger string) ([]store.TriggerBinding, error) {
	rows, err := s.read.QueryContext(ctx, s.q(listBindings), trigger)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing bindings of %q: %w", trigger, unavailable(err))
	}
	defer rows.Close()
	var out []store.TriggerBinding
	for rows.Next() {
		var b store.TriggerBinding
		if err := rows.Scan(&b.ActionName, &b.DisplayName); err != nil {
			return nil, fmt.Errorf("sqlstore: listing bindings of %q: %w", trigger, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing bindings of %q: %w", trigger, err)
	}
	return out, nil
}

// SetTriggerBindings replaces the trigger's bindings; every one must name a stored action.
func (s *Store) SetTriggerBindings(ctx context.Context, trigger string, bs []store.TriggerBinding) error {
	return s.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, s.q(clearBindings), trigger); err != nil {
			return fmt.Errorf("sqlstore: clearing bindings of %q: %w", trigger, err)
		}
		for i, b := range bs {
			if _, err := getRow(ctx, s, q, actions, b.ActionName); err != nil {
				return fmt.Errorf("sqlstore: binding %q to %q: %w", b.ActionName, trigger, err)
			}
			if _, err := q.ExecContext(ctx, s.q(addBinding), trigger, i, b.ActionName, b.DisplayName); err != nil {
				return s.writeErr("binding", "action", b.ActionName, err)
			}
		}
		return s.bump(ctx, q)
	})
}

// ListRules returns every rule ordered by Order, then name.
func (s *Store) ListRules(ctx context.Context) ([]store.Rule, error) {
	return listRows(ctx, s, s.read, rules, "ORDER BY ord, name")
}

// PutRule creates or replaces the rule with r.Name, keeping a stored rule's ID and CreatedAt.
func (s *Store) PutRule(ctx context.Context, r store.Rule) error {
	return s.inTx(ctx, func(q querier) error {
		err := upsertRow(ctx, s, q, rules, &r, func(old, r *store.Rule) {
			if old != nil {
				r.ID, r.CreatedAt = old.ID, old.CreatedAt
			}
		})
		if err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// UpdateRule runs fn on the rule with this ID and stores the result, renaming it when fn
// changes the name.
func (s *Store) UpdateRule(ctx context.Context, id string, fn func(*store.Rule) error) error {
	return s.inTx(ctx, func(q querier) error {
		list, err := listRows(ctx, s, q, rules, "WHERE id = ?", id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("sqlstore: rule %q: %w", id, store.ErrNotFound)
		}
		r := list[0]
		oldName := r.Name
		if err := fn(&r); err != nil {
			return err
		}
		r.ID = id
		var e encoder
		// The key column is the name: the update sets it like any other column.
		vals := rules.values(&e, &r)
		if _, err := q.ExecContext(ctx, s.q(updateRuleByID), append(vals, oldName)...); err != nil {
			return s.writeErr("updating", "rule", r.Name, err)
		}
		return s.bump(ctx, q)
	})
}

// DeleteRule deletes the rule.
func (s *Store) DeleteRule(ctx context.Context, name string) error {
	return s.inTx(ctx, func(q querier) error {
		if err := deleteRow(ctx, s, q, rules, name); err != nil {
			return err
		}
		return s.bump(ctx, q)
	})
}

// HooksVersion returns the count of writes to actions, rules and bindings.
func (s *Store) HooksVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.read.QueryRowContext(ctx, s.q(getHooksVersion)).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlstore: reading hooks version: %w", unavailable(err))
	}
	return v, nil
}

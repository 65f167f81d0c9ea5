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
		"deployed", "created_at", "updated_at"},
	keyOf: func(a *store.Action) string { return a.Name },
	values: func(e *encoder, a *store.Action) []any {
		return []any{a.Name, a.ID, a.Code, a.Runtime, e.json(a.Dependencies), e.json(a.SupportedTriggers),
			e.json(a.Secrets), a.Deployed, timeVal(a.CreatedAt), timeVal(a.UpdatedAt)}
	},
	scan: func(a *store.Action) []any {
		return []any{&a.Name, &a.ID, &a.Code, &a.Runtime, jsonCol{&a.Dependencies}, jsonCol{&a.SupportedTriggers},
			jsonCol{&a.Secrets}, &a.Deployed, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}}
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

// PutAction creates or replaces the action with a.Name, keeping a stored action's ID and
// CreatedAt.
func (s *Store) PutAction(ctx context.Context, a store.Action) error {
	return s.inTx(ctx, func(q querier) error {
		old, err := getRow(ctx, s, q, actions, a.Name)
		switch {
		case err == nil:
			a.ID, a.CreatedAt = old.ID, old.CreatedAt
			var e encoder
			args := actions.updateArgs(&e, &a, a.Name)
			if e.err != nil {
				return fmt.Errorf("sqlstore: encoding action %q: %w", a.Name, e.err)
			}
			if _, err := q.ExecContext(ctx, s.q(actions.upd), args...); err != nil {
				return s.writeErr("updating", "action", a.Name, err)
			}
		case errors.Is(err, store.ErrNotFound):
			if err := insertRow(ctx, s, q, actions, &a); err != nil {
				return err
			}
		default:
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
		old, err := getRow(ctx, s, q, rules, r.Name)
		switch {
		case err == nil:
			r.ID, r.CreatedAt = old.ID, old.CreatedAt
			var e encoder
			if _, err := q.ExecContext(ctx, s.q(rules.upd), rules.updateArgs(&e, &r, r.Name)...); err != nil {
				return s.writeErr("updating", "rule", r.Name, err)
			}
		case errors.Is(err, store.ErrNotFound):
			if err := insertRow(ctx, s, q, rules, &r); err != nil {
				return err
			}
		default:
			return err
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

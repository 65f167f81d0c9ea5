package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store"
)

func (p *applyPlan) planConnections(stored []store.Connection) {
	byName := map[string]store.Connection{}
	for _, c := range stored {
		byName[c.Name] = c
	}
	now := p.s.now()
	for _, f := range append(slices.Clone(p.tf.Databases), p.tf.Connections...) {
		cur, exists := byName[f.Name]
		if exists && cur.Strategy != f.Strategy {
			p.problem(f.Path+".strategy", "the stored connection %q has strategy %q, not %q", f.Name, cur.Strategy, f.Strategy)
			continue
		}
		want := cur
		if exists {
			want.EnabledClients = slices.Clone(cur.EnabledClients)
			want.Options = maps.Clone(cur.Options)
		} else {
			want = store.Connection{ID: store.NewConnectionID(), Name: f.Name, Strategy: f.Strategy,
				EnabledClients: []string{}, Options: map[string]any{}, CreatedAt: now, UpdatedAt: now}
		}
		if f.EnabledClients != nil {
			want.EnabledClients = p.resolveClients(f)
		}
		if f.Options != nil {
			opts, errs := p.s.connectionOptions(f.Name, f.Strategy, f.Options, cur.Options, p.tf.BaseDir)
			for _, e := range errs {
				var ve *ValidationError
				if errors.As(e, &ve) {
					p.problem(f.Path+"."+ve.Field, "%s", ve.Message)
				} else {
					p.problem(f.Path+".options", "%v", e)
				}
			}
			want.Options = maps.Clone(opts)
			if want.Options == nil {
				want.Options = map[string]any{}
			}
		} else if f.Strategy == StrategyAD || f.Strategy == StrategyLDAP {
			if _, errs := p.s.connectionOptions(f.Name, f.Strategy, cur.Options, cur.Options, p.tf.BaseDir); len(errs) > 0 {
				p.problem(f.Path+".options", "is required for strategy %s (ldap_url, ldap_bind_user, ldap_bind_credentials, ldap_base...)", f.Strategy)
			}
		}
		p.connections[want.Name] = want.Strategy
		label := fmt.Sprintf("connection %q", want.Name)
		if !exists {
			p.step(label, true, false, func(ctx context.Context) error { return p.s.Store.CreateConnection(ctx, want) })
			continue
		}
		changed := !applySame(applyStampless(cur), applyStampless(want))
		want.UpdatedAt = now
		p.step(label, false, changed, func(ctx context.Context) error {
			return p.s.Store.UpdateConnection(ctx, want.Name, func(c *store.Connection) error {
				want.CreatedAt = c.CreatedAt
				*c = want
				return nil
			})
		})
	}
}

// resolveClients turns enabled_clients entries into client ids: a client name (as the Deploy
// CLI writes them) of the file or the store, or a client id. The result is sorted so that the
// order of the file does not count as a change.
func (p *applyPlan) resolveClients(f config.Connection) []string {
	out := []string{}
	for i, e := range f.EnabledClients {
		id, ok := p.resolveClient(fmt.Sprintf("%s.enabled_clients[%d]", f.Path, i), e)
		if !ok {
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

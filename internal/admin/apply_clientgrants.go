package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/sesameauth/sesame/internal/store"
)

// planClientGrants plans the clientGrants section. client_id resolves like enabled_clients (a
// client name of the file or the store, else a client id); the audience must be an API of the
// file or the store; the scopes are checked by CheckClientGrantScope, the rule
// CreateClientGrant applies. A grant is matched by its client and audience, so re-applying a
// file changes nothing, and a changed scope list updates the stored grant in place.
func (p *applyPlan) planClientGrants(ctx context.Context) error {
	if len(p.tf.ClientGrants) == 0 {
		return nil
	}
	stored, err := p.s.Store.ListClientGrants(ctx, store.ClientGrantFilter{})
	if err != nil {
		return err
	}
	byPair := map[[2]string]store.ClientGrant{}
	for _, g := range stored {
		byPair[[2]string{g.ClientID, g.Audience}] = g
	}
	now := p.s.now()
	for _, f := range p.tf.ClientGrants {
		f.Audience = p.s.CanonicalAudience(f.Audience)
		clientID, ok := p.resolveClient(f.Path+".client_id", f.ClientID)
		apiScopes, known := p.apis[f.Audience]
		if !known && f.Audience != "" {
			p.problem(f.Path+".audience", "no API has the identifier %q", f.Audience)
		}
		if !ok || !known {
			continue
		}
		cur, exists := byPair[[2]string{clientID, f.Audience}]
		want := cur
		if !exists {
			want = store.ClientGrant{ID: store.NewClientGrantID(), ClientID: clientID, Audience: f.Audience,
				Scope: []string{}, CreatedAt: now, UpdatedAt: now}
		}
		if f.Scope != nil {
			want.Scope = slices.Clone(f.Scope)
		}
		p.validationProblems(f.Path, CheckClientGrantScope(want.Scope, apiScopes))
		label := fmt.Sprintf("client grant %q for %q", f.ClientID, f.Audience)
		if !exists {
			p.step(label, true, false, func(ctx context.Context) error { return p.s.Store.CreateClientGrant(ctx, want) })
			continue
		}
		scope := want.Scope
		p.step(label, false, !slices.Equal(cur.Scope, scope), func(ctx context.Context) error {
			return p.s.Store.UpdateClientGrant(ctx, cur.ID, func(g *store.ClientGrant) error {
				g.Scope, g.UpdatedAt = scope, now
				return nil
			})
		})
	}
	return nil
}

// resolveClient turns a client reference of the file (a name, as the Deploy CLI writes it,
// or a client id) into a client id, reporting a problem at path when it names none or several.
func (p *applyPlan) resolveClient(path, ref string) (string, bool) {
	switch ids := p.clientNames[ref]; {
	case len(ids) == 1:
		return ids[0], true
	case len(ids) > 1:
		p.problem(path, "%d clients are named %q: use the client id", len(ids), ref)
	case p.clientsByID[ref]:
		return ref, true
	case ref != "":
		p.problem(path, "no client is named %q or has that client_id", ref)
	}
	return "", false
}

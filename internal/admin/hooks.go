package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
)

// maxHookSource bounds a rule script or action module read from a file.
const maxHookSource = 1 << 20

// hookSource is a rule's script or an action's code: a file reference relative to the tenant
// file's directory (the Deploy CLI writes "./rules/Name.js"), or the code itself when it is
// not a single-line name ending in .js.
func hookSource(baseDir, ref string) (string, error) {
	if strings.ContainsAny(ref, "\n;{") || !strings.HasSuffix(strings.TrimSpace(ref), ".js") {
		return ref, nil
	}
	path := strings.TrimSpace(ref)
	if !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", ref, errors.Unwrap(err))
	}
	if fi.Size() > maxHookSource {
		return "", fmt.Errorf("%s is larger than %d bytes", ref, maxHookSource)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", ref, errors.Unwrap(err))
	}
	return string(b), nil
}

// compileProblem reports code that does not compile at its line and column.
func (p *applyPlan) compileProblem(path string, err error) {
	var ce *hooks.CompileError
	if errors.As(err, &ce) {
		p.problem(path, "does not compile: line %d, column %d: %s", ce.Line, ce.Column, ce.Message)
		return
	}
	p.problem(path, "does not compile: %v", err)
}

// planHooks plans the rules, actions and triggers sections. Every script is compiled here, so
// code with a syntax error is refused before anything is written. Actions' secrets are sealed
// with the key-encryption key.
func (p *applyPlan) planHooks(ctx context.Context) error {
	tf := p.tf
	if len(tf.Rules)+len(tf.Actions)+len(tf.Triggers) == 0 {
		return nil
	}
	check := hooks.NewEngine(hooks.Options{})
	now := p.s.now()
	storedRules, err := p.s.Store.ListRules(ctx)
	if err != nil {
		return err
	}
	for i, r := range tf.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		src, err := hookSource(tf.BaseDir, r.Script)
		if err != nil {
			p.problem(path+".script", "%v", err)
			continue
		}
		if err := check.CompileRule(r.Name, src); err != nil {
			p.compileProblem(path+".script", err)
			continue
		}
		rec := store.Rule{ID: store.NewID("rul_", 8), Name: r.Name, Script: src, Order: i + 1, Enabled: true,
			CreatedAt: now, UpdatedAt: now}
		if r.Order != nil {
			rec.Order = *r.Order
		}
		if r.Enabled != nil {
			rec.Enabled = *r.Enabled
		}
		i := slices.IndexFunc(storedRules, func(s store.Rule) bool { return s.Name == r.Name })
		changed := i >= 0 && (storedRules[i].Script != rec.Script || storedRules[i].Order != rec.Order ||
			storedRules[i].Enabled != rec.Enabled)
		p.step("rule "+r.Name, i < 0, changed, func(ctx context.Context) error { return p.s.Store.PutRule(ctx, rec) })
	}

	storedActions, err := p.s.Store.ListActions(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, a := range storedActions {
		known[a.Name] = true
	}
	for i, a := range tf.Actions {
		path := fmt.Sprintf("actions[%d]", i)
		known[a.Name] = true
		src, err := hookSource(tf.BaseDir, a.Code)
		if err != nil {
			p.problem(path+".code", "%v", err)
			continue
		}
		if err := check.CompileAction(a.Name, src); err != nil {
			p.compileProblem(path+".code", err)
			continue
		}
		rec := store.Action{ID: store.NewID("act_", 8), Name: a.Name, Code: src, Runtime: a.Runtime,
			Deployed: a.Deployed == nil || *a.Deployed, CreatedAt: now, UpdatedAt: now}
		if rec.Runtime == "" {
			rec.Runtime = "node18"
		}
		for _, d := range a.Dependencies {
			rec.Dependencies = append(rec.Dependencies, store.ActionDependency{Name: d.Name, Version: d.Version})
		}
		for _, t := range a.SupportedTriggers {
			rec.SupportedTriggers = append(rec.SupportedTriggers, t.ID)
		}
		j := slices.IndexFunc(storedActions, func(s store.Action) bool { return s.Name == a.Name })
		sameSecrets := j >= 0 && len(storedActions[j].Secrets) == len(a.Secrets)
		for k, sec := range a.Secrets {
			if p.s.Box == nil {
				p.problem(fmt.Sprintf("%s.secrets[%d]", path, k), "no key-encryption key to seal the secret with")
				break
			}
			aad := store.ActionSecretAAD(a.Name, sec.Name)
			if sameSecrets {
				old := storedActions[j].Secrets[k]
				v, err := p.s.Box.Open(old.ValueSealed, aad)
				sameSecrets = err == nil && old.Name == sec.Name && string(v) == sec.Value
			}
			rec.Secrets = append(rec.Secrets, store.ActionSecret{Name: sec.Name, ValueSealed: p.s.Box.Seal([]byte(sec.Value), aad)})
		}
		changed := false
		if j >= 0 {
			old := storedActions[j]
			changed = !sameSecrets || old.Code != rec.Code || old.Runtime != rec.Runtime || old.Deployed != rec.Deployed ||
				!applySame(old.Dependencies, rec.Dependencies) || !slices.Equal(old.SupportedTriggers, rec.SupportedTriggers)
		}
		p.step("action "+a.Name, j < 0, changed, func(ctx context.Context) error { return p.s.Store.PutAction(ctx, rec) })
	}

	for _, trigger := range sortedKeys(tf.Triggers) {
		bindings := tf.Triggers[trigger]
		if trigger != store.TriggerPostLogin && trigger != store.TriggerCredentialsExchange {
			if len(bindings) > 0 {
				tf.Ignored = append(tf.Ignored, "triggers."+trigger)
			}
			continue
		}
		var want []store.TriggerBinding
		for i, b := range bindings {
			if !known[b.ActionName] {
				p.problem(fmt.Sprintf("triggers.%s[%d].action_name", trigger, i), "no action named %q", b.ActionName)
				continue
			}
			want = append(want, store.TriggerBinding{ActionName: b.ActionName, DisplayName: cmpOr(b.DisplayName, b.ActionName)})
		}
		have, err := p.s.Store.TriggerBindings(ctx, trigger)
		if err != nil {
			return err
		}
		p.step("trigger "+trigger, false, !slices.Equal(have, want), func(ctx context.Context) error {
			return p.s.Store.SetTriggerBindings(ctx, trigger, want)
		})
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

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
		rec := store.Rule{ID: store.NewID("rul_", 8), Name: r.Name, Script: src, Order: i + 1, Enabled: true,
			CreatedAt: now, UpdatedAt: now}
		if r.Order != nil {
			rec.Order = *r.Order
		}
		if r.Enabled != nil {
			rec.Enabled = *r.Enabled
		}
		if err := checkRule(check, rec); err != nil {
			p.validationProblems(path, err)
			continue
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
	// The triggers each action (stored or in the file) supports, by name.
	known := map[string][]string{}
	for _, a := range storedActions {
		known[a.Name] = a.SupportedTriggers
	}
	for i, a := range tf.Actions {
		path := fmt.Sprintf("actions[%d]", i)
		src, err := hookSource(tf.BaseDir, a.Code)
		if err != nil {
			known[a.Name] = nil
			p.problem(path+".code", "%v", err)
			continue
		}
		rec := store.Action{ID: store.NewID("act_", 8), Name: a.Name, Code: src, Runtime: cmpOr(a.Runtime, DefaultActionRuntime),
			Deployed: a.Deployed == nil || *a.Deployed, CreatedAt: now, UpdatedAt: now}
		for _, d := range a.Dependencies {
			rec.Dependencies = append(rec.Dependencies, store.ActionDependency{Name: d.Name, Version: d.Version})
		}
		for _, t := range a.SupportedTriggers {
			rec.SupportedTriggers = append(rec.SupportedTriggers, t.ID)
		}
		known[a.Name] = rec.SupportedTriggers
		j := slices.IndexFunc(storedActions, func(s store.Action) bool { return s.Name == a.Name })
		var stored store.Action
		if j >= 0 {
			stored = storedActions[j]
		}
		secrets := make([]SecretChange, len(a.Secrets))
		for k, sec := range a.Secrets {
			secrets[k] = SecretChange{Name: sec.Name, Value: &sec.Value}
		}
		sealed, sameSecrets, err := p.s.sealSecrets(a.Name, stored.Secrets, secrets)
		if err != nil {
			p.validationProblems(path, err)
			continue
		}
		rec.Secrets = sealed
		if err := checkAction(check, rec); err != nil {
			p.validationProblems(path, err)
			continue
		}
		changed := false
		if j >= 0 {
			d, err := p.s.actionDetails(ctx, stored)
			if err != nil {
				return err
			}
			changed = !sameSecrets || stored.Code != rec.Code || stored.Runtime != rec.Runtime || stored.Deployed != rec.Deployed ||
				!applySame(stored.Dependencies, rec.Dependencies) || !slices.Equal(stored.SupportedTriggers, rec.SupportedTriggers) ||
				(rec.Deployed && !d.AllChangesDeployed)
		}
		p.step("action "+a.Name, j < 0, changed, func(ctx context.Context) error {
			if err := p.s.Store.PutAction(ctx, rec); err != nil {
				return err
			}
			if !rec.Deployed {
				return nil
			}
			_, err := p.s.DeployDraft(ctx, rec.Name)
			return err
		})
	}

	for _, trigger := range sortedKeys(tf.Triggers) {
		bindings := tf.Triggers[trigger]
		if _, ok := Trigger(trigger); !ok {
			if len(bindings) > 0 {
				tf.Ignored = append(tf.Ignored, "triggers."+trigger)
			}
			continue
		}
		var want []store.TriggerBinding
		for i, b := range bindings {
			supported, ok := known[b.ActionName]
			if !ok {
				p.problem(fmt.Sprintf("triggers.%s[%d].action_name", trigger, i), "no action named %q", b.ActionName)
				continue
			}
			if msg := bindingProblem(trigger, supported); msg != "" {
				p.problem(fmt.Sprintf("triggers.%s[%d].action_name", trigger, i), "%s", msg)
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

package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store"
)

// ApplyReport says what Apply did, object by object, in the order it applied them. When a
// write fails, Created and Changed hold exactly the objects written before it, Failed names
// the one that failed, and nothing after it was written.
type ApplyReport struct {
	Created   []string
	Changed   []string
	Unchanged []string
	// Failed is the object whose write failed ("" when Apply succeeded).
	Failed string
	// Ignored lists what the file holds that Sesame does not apply (TenantFile.Ignored).
	Ignored []string
	// Warnings lists keys unknown to the Deploy CLI format (TenantFile.Unknown).
	Warnings []string
	// GeneratedSecrets are the secrets Apply made up for the objects it wrote. They are stored
	// only hashed or sealed, so this is the one time they can be shown (also after a failure:
	// the objects written before it keep their secrets).
	GeneratedSecrets []GeneratedSecret
}

// GeneratedSecret is a secret Apply generated for a client (its client secret) or an HS256
// API (its signing secret).
type GeneratedSecret struct {
	// Kind is "client" or "api".
	Kind string
	Name string
	// ClientID is set for a client, Identifier for an API.
	ClientID   string
	Identifier string
	Secret     string
}

// passwordVerifier is the part of password.Hasher that Apply needs to tell whether a user's
// plaintext password in the file is the one already stored, so that applying a file twice
// changes nothing.
type passwordVerifier interface {
	Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error)
}

const (
	applyCreate = iota + 1
	applyChange
	applyKeep
)

// applyStep is one object's planned write, and the secrets generated for it.
type applyStep struct {
	label   string
	action  int
	write   func(ctx context.Context) error
	secrets []GeneratedSecret
}

// applyPlan is everything Apply decided before writing anything.
type applyPlan struct {
	s        *Service
	tf       *config.TenantFile
	problems []config.Problem
	steps    []applyStep
	secrets  []GeneratedSecret
	// stepped counts the secrets already tied to a step: a record's secrets are generated
	// while it is planned, before its step is added.
	stepped int
	// Lookups of what will exist once the plan is written.
	apis        map[string][]store.Scope // identifier -> scopes
	clientsByID map[string]bool
	clientNames map[string][]string // name -> client ids
	connections map[string]string   // name -> strategy
	newAlgs     []string
}

func (p *applyPlan) problem(path, format string, args ...any) {
	p.problems = append(p.problems, config.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// validationProblems turns the CRUD rules' joined *ValidationError values into problems at
// path.
func (p *applyPlan) validationProblems(path string, err error) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	for _, e := range errs {
		var ve *ValidationError
		if errors.As(e, &ve) {
			p.problem(path+"."+ve.Field, "%s", ve.Message)
		} else {
			p.problem(path, "%v", e)
		}
	}
}

// Apply makes the store match the tenant file: it creates and updates (never deletes) the
// APIs, clients, connections and users the file names, then the tenant settings, in that
// order so that references resolve. Objects are matched by API identifier, by client_id (or
// by name when the file gives none), by connection name, and by user_id or the user's email
// or username within their connection. Fields the file leaves out keep their stored values.
//
// Everything is validated, against the file and the store, before anything is written: a file
// with a problem writes nothing and yields a *config.TenantFileError listing every problem.
// Applying the same file twice changes nothing the second time.
func (s *Service) Apply(ctx context.Context, tf *config.TenantFile) (*ApplyReport, error) {
	fileProblems := checkTenantFile(tf)
	// Client grants of the file may name the Management API, which must exist to be granted.
	if err := s.EnsureManagementAPI(ctx); err != nil {
		return nil, err
	}
	p := &applyPlan{s: s, tf: tf, apis: map[string][]store.Scope{}, clientsByID: map[string]bool{},
		clientNames: map[string][]string{}, connections: map[string]string{}}
	if err := p.build(ctx); err != nil {
		return nil, err
	}
	if problems := applyMergeProblems(fileProblems, p.problems); len(problems) > 0 {
		return nil, &config.TenantFileError{Problems: problems}
	}
	report := &ApplyReport{Ignored: slices.Clone(tf.Ignored), Warnings: slices.Clone(tf.Unknown)}
	// The writes are one per object, in order; a failure (the store gone, a concurrent writer)
	// stops them, and the report then says exactly what was written.
	for _, st := range p.steps {
		if st.action == applyKeep {
			report.Unchanged = append(report.Unchanged, st.label)
			continue
		}
		if err := st.write(ctx); err != nil {
			report.Failed = st.label
			return report, fmt.Errorf("applying %s: %w", st.label, err)
		}
		if st.action == applyCreate {
			report.Created = append(report.Created, st.label)
		} else {
			report.Changed = append(report.Changed, st.label)
		}
		report.GeneratedSecrets = append(report.GeneratedSecrets, st.secrets...)
	}
	if s.Keys != nil && len(p.newAlgs) > 0 {
		if err := s.Keys.Ensure(ctx, p.newAlgs...); err != nil {
			report.Failed = "signing keys for " + strings.Join(p.newAlgs, ", ")
			return report, fmt.Errorf("making signing keys for %s: %w", strings.Join(p.newAlgs, ", "), err)
		}
	}
	return report, nil
}

func (p *applyPlan) build(ctx context.Context) error {
	storedAPIs, err := p.s.Store.ListResourceServers(ctx)
	if err != nil {
		return err
	}
	storedClients, err := p.s.Store.ListClients(ctx)
	if err != nil {
		return err
	}
	storedConns, err := p.s.Store.ListConnections(ctx)
	if err != nil {
		return err
	}
	for _, rs := range storedAPIs {
		p.apis[rs.Identifier] = rs.Scopes
	}
	for _, c := range storedConns {
		p.connections[c.Name] = c.Strategy
	}
	p.planAPIs(storedAPIs)
	p.planClients(storedClients)
	p.planConnections(storedConns)
	if err := p.planClientGrants(ctx); err != nil {
		return err
	}
	if err := p.planUsers(ctx); err != nil {
		return err
	}
	if err := p.planTenant(ctx); err != nil {
		return err
	}
	if err := p.planAttackProtection(ctx); err != nil {
		return err
	}
	if err := p.planMFA(ctx); err != nil {
		return err
	}
	return p.planHooks(ctx)
}

// applySame reports whether two records hold the same data, timestamps aside. They are compared
// as JSON so that what a store round trip does to free-form maps (numbers becoming float64,
// empty and nil collections) does not count as a change.
func applySame(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var va, vb any
	if json.Unmarshal(ja, &va) != nil || json.Unmarshal(jb, &vb) != nil {
		return false
	}
	return applyEqualJSON(va, vb)
}

func applyEqualJSON(a, b any) bool {
	if applyEmptyJSON(a) && applyEmptyJSON(b) {
		return true
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		keys := maps.Clone(x)
		maps.Copy(keys, y)
		for k := range keys {
			if !applyEqualJSON(x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !applyEqualJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func applyEmptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func (p *applyPlan) step(label string, create, changed bool, write func(context.Context) error) {
	action := applyKeep
	switch {
	case create:
		action = applyCreate
	case changed:
		action = applyChange
	}
	p.steps = append(p.steps, applyStep{label: label, action: action, write: write, secrets: slices.Clone(p.secrets[p.stepped:])})
	p.stepped = len(p.secrets)
}

// --- helpers --------------------------------------------------------------------------------

// setIf sets *dst to *v when the file gave a value.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// applyStampless returns a copy of a record without its timestamps, for change detection.
func applyStampless[T store.ResourceServer | store.Client | store.Connection | store.User | store.Tenant](r T) T {
	switch x := any(&r).(type) {
	case *store.ResourceServer:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
	case *store.Client:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
		x.Credentials = slices.Clone(x.Credentials)
		for i := range x.Credentials {
			x.Credentials[i].CreatedAt = x.Credentials[i].CreatedAt.UTC().Truncate(time.Second)
		}
	case *store.Connection:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
	case *store.User:
		x.CreatedAt, x.UpdatedAt = time.Time{}, time.Time{}
		x.LastLogin = x.LastLogin.UTC().Truncate(time.Second)
	case *store.Tenant:
		x.UpdatedAt = time.Time{}
	}
	return r
}

// Write prints the report for a person: one line per object, then the generated secrets.
func (r *ApplyReport) Write(w io.Writer) {
	var b bytes.Buffer
	if r.Failed != "" {
		fmt.Fprintf(&b, "FAILED at %s: only what is listed as created or changed below was written\n", r.Failed)
	}
	fmt.Fprintf(&b, "%d created, %d changed, %d unchanged, %d ignored, %d warnings\n",
		len(r.Created), len(r.Changed), len(r.Unchanged), len(r.Ignored), len(r.Warnings))
	for _, sec := range []struct {
		verb  string
		items []string
	}{{"created", r.Created}, {"changed", r.Changed}, {"unchanged", r.Unchanged}, {"ignored", r.Ignored}, {"warning", r.Warnings}} {
		for _, it := range sec.items {
			fmt.Fprintf(&b, "  %-9s %s\n", sec.verb, it)
		}
	}
	if len(r.GeneratedSecrets) > 0 {
		b.WriteString("\nGenerated secrets (shown only now; only their hashes or sealed copies are stored):\n")
		for _, g := range r.GeneratedSecrets {
			if g.Kind == "api" {
				fmt.Fprintf(&b, "  api %q signing secret: %s\n", g.Identifier, g.Secret)
			} else {
				fmt.Fprintf(&b, "  client %q (%s) client secret: %s\n", g.Name, g.ClientID, g.Secret)
			}
		}
	}
	_, _ = w.Write(b.Bytes())
}

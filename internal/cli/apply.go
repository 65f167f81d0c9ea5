package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
)

// keywordMappingsEnv is the Auth0 Deploy CLI's variable of keyword replacements, a JSON object;
// honouring it lets a pipeline written for a0deploy run sesame apply unchanged.
const keywordMappingsEnv = "AUTH0_KEYWORD_REPLACE_MAPPINGS"

// placeholder finds the Deploy CLI's ##KEY## and @@KEY@@ keywords in a tenant file.
var placeholder = regexp.MustCompile(`##([A-Za-z0-9_]+)##|@@([A-Za-z0-9_]+)@@`)

func newApplyCmd(a *app) *cobra.Command {
	var (
		file   string
		strict bool
		vars   []string
	)
	cmd := &cobra.Command{
		Use:   "apply -f tenant.yaml [--strict] [--var KEY=VALUE ...]",
		Short: "Apply a tenant file (Auth0 Deploy CLI YAML layout); idempotent",
		Long: `Apply a tenant file: tenant settings, clients, connections, APIs and users, with the field
names of Auth0's Management API (the layout of a0deploy export -f yaml). Applying the same file
twice changes nothing. Keywords ##KEY## (replaced as is) and @@KEY@@ (replaced as a JSON string)
take their values, in rising precedence, from environment variables of the same name, from
AUTH0_KEYWORD_REPLACE_MAPPINGS (a JSON object, as for the Deploy CLI) and from --var.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("name the tenant file with -f")
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("tenant file: %w", err)
			}
			kv, err := a.keywordVars(data, vars)
			if err != nil {
				return err
			}
			tf, err := config.LoadTenantFile(file, config.TenantOptions{Strict: strict, Vars: kv})
			if err != nil {
				return err
			}
			svc, closeFn, err := a.openService(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := svc.Apply(cmd.Context(), tf)
			if rep != nil {
				// Also after a failed write: what was written before it, with the secrets
				// generated for it (shown only now), then the error.
				if a.flags.json {
					if perr := printJSON(cmd.OutOrStdout(), applyView(rep)); perr != nil && err == nil {
						err = perr
					}
				} else {
					rep.Write(cmd.OutOrStdout())
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "tenant file (YAML)")
	f.BoolVar(&strict, "strict", false, "refuse keys Sesame ignores or does not know, instead of warning")
	f.StringArrayVar(&vars, "var", nil, "keyword replacement KEY=VALUE (repeatable)")
	return cmd
}

// keywordVars collects the replacement values for the keywords the file uses.
func (a *app) keywordVars(data []byte, flags []string) (map[string]string, error) {
	vars := map[string]string{}
	for _, m := range placeholder.FindAllSubmatch(data, -1) {
		key := string(m[1]) + string(m[2])
		if v, ok := a.env(key); ok {
			vars[key] = v
		}
	}
	if raw, ok := a.env(keywordMappingsEnv); ok && strings.TrimSpace(raw) != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object: %v", keywordMappingsEnv, err)
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				vars[k] = s
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", keywordMappingsEnv, k, err)
			}
			vars[k] = string(b)
		}
	}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--var %q: want KEY=VALUE", kv)
		}
		vars[k] = v
	}
	return vars, nil
}

type applyJSON struct {
	Created          []string          `json:"created"`
	Changed          []string          `json:"changed"`
	Unchanged        []string          `json:"unchanged"`
	Ignored          []string          `json:"ignored"`
	Warnings         []string          `json:"warnings"`
	GeneratedSecrets []generatedSecret `json:"generated_secrets"`
	// Failed names the object whose write failed; what precedes it was written.
	Failed string `json:"failed,omitempty"`
}

type generatedSecret struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	ClientID   string `json:"client_id,omitempty"`
	Identifier string `json:"identifier,omitempty"`
	Secret     string `json:"secret"`
}

func applyView(r *admin.ApplyReport) applyJSON {
	v := applyJSON{
		Created: nonNil(r.Created), Changed: nonNil(r.Changed), Unchanged: nonNil(r.Unchanged),
		Ignored: nonNil(r.Ignored), Warnings: nonNil(r.Warnings), GeneratedSecrets: []generatedSecret{},
		Failed: r.Failed,
	}
	for _, g := range r.GeneratedSecrets {
		v.GeneratedSecrets = append(v.GeneratedSecrets, generatedSecret(g))
	}
	return v
}

package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/store"
)

// actionJSON is an action as `actions list --json` prints it; secret values never appear.
type actionJSON struct {
	Name     string   `json:"name"`
	Deployed bool     `json:"deployed"`
	Runtime  string   `json:"runtime"`
	Position int      `json:"post_login_position,omitempty"`
	Secrets  []string `json:"secrets"`
}

func newActionsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "actions",
		Short: "Manage post-login Actions (JavaScript run at every token exchange)",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List actions and their place in the post-login flow",
			Args:  cobra.NoArgs,
			RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
				acts, err := svc.Store.ListActions(cmd.Context())
				if err != nil {
					return err
				}
				bound, err := svc.Store.TriggerBindings(cmd.Context(), store.TriggerPostLogin)
				if err != nil {
					return err
				}
				views := make([]actionJSON, 0, len(acts))
				rows := make([][]string, 0, len(acts))
				for _, act := range acts {
					v := actionJSON{Name: act.Name, Deployed: act.Deployed, Runtime: act.Runtime, Secrets: []string{}}
					v.Position = 1 + slices.IndexFunc(bound, func(b store.TriggerBinding) bool { return b.ActionName == act.Name })
					for _, s := range act.Secrets {
						v.Secrets = append(v.Secrets, s.Name)
					}
					pos := "-"
					if v.Position > 0 {
						pos = itoa(v.Position)
					}
					views = append(views, v)
					rows = append(rows, []string{v.Name, yesNo(v.Deployed), pos, v.Runtime, orDash(strings.Join(v.Secrets, ","))})
				}
				return a.output(cmd, views, func(w io.Writer) error {
					return printTable(w, []string{"NAME", "DEPLOYED", "POST-LOGIN", "RUNTIME", "SECRETS"}, rows)
				})
			}),
		},
		newActionsDeployCmd(a),
		newActionsTestCmd(a),
	)
	return cmd
}

func newActionsDeployCmd(a *app) *cobra.Command {
	var (
		codeFile string
		secrets  []string
		bind     bool
	)
	cmd := &cobra.Command{
		Use:   "deploy NAME [--code FILE] [--secret NAME]... [--bind]",
		Short: "Create or update an action from a file and deploy it",
		Long: "Deploy compiles the action's code (refusing it with the line and column of a syntax error),\n" +
			"stores it deployed, and with --bind appends it to the post-login flow. Secret values are read\n" +
			"from stdin, one line per --secret, in order; they are sealed with the key-encryption key.\n" +
			"Without --code the stored code is deployed again. Running servers pick the change up within 2 s.",
		Args: cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			ctx, name := cmd.Context(), args[0]
			act, err := svc.Store.GetAction(ctx, name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				if codeFile == "" {
					return fmt.Errorf("action %q does not exist: give its code with --code", name)
				}
				act = store.Action{ID: store.NewID("act_", 8), Name: name, Runtime: "node18",
					SupportedTriggers: []string{store.TriggerPostLogin}}
			case err != nil:
				return err
			}
			if codeFile != "" {
				b, err := os.ReadFile(codeFile)
				if err != nil {
					return err
				}
				act.Code = string(b)
			}
			if err := hooks.NewEngine(hooks.Options{}).CompileAction(name, act.Code); err != nil {
				return err
			}
			if len(secrets) > 0 {
				if svc.Box == nil {
					return errors.New("no key-encryption key configured to seal secrets with")
				}
				r := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 1<<20))
				for _, sn := range secrets {
					line, err := r.ReadString('\n')
					if err != nil && (err != io.EOF || line == "") {
						return fmt.Errorf("reading the value of secret %s from stdin: %w", sn, err)
					}
					v := strings.TrimRight(line, "\r\n")
					act.Secrets = slices.DeleteFunc(act.Secrets, func(s store.ActionSecret) bool { return s.Name == sn })
					act.Secrets = append(act.Secrets, store.ActionSecret{Name: sn, ValueSealed: svc.Box.Seal([]byte(v), store.ActionSecretAAD(name, sn))})
				}
			}
			act.Deployed = true
			act.UpdatedAt = time.Now().UTC()
			if act.CreatedAt.IsZero() {
				act.CreatedAt = act.UpdatedAt
			}
			if err := svc.Store.PutAction(ctx, act); err != nil {
				return err
			}
			if _, err := svc.DeployDraft(ctx, name); err != nil {
				return err
			}
			if bind {
				bs, err := svc.Store.TriggerBindings(ctx, store.TriggerPostLogin)
				if err != nil {
					return err
				}
				if !slices.ContainsFunc(bs, func(b store.TriggerBinding) bool { return b.ActionName == name }) {
					bs = append(bs, store.TriggerBinding{ActionName: name, DisplayName: name})
					if err := svc.Store.SetTriggerBindings(ctx, store.TriggerPostLogin, bs); err != nil {
						return err
					}
				}
			}
			return a.output(cmd, map[string]any{"deployed": name}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Deployed action %s\n", name)
				return err
			})
		}),
	}
	cmd.Flags().StringVar(&codeFile, "code", "", "JavaScript file exporting onExecutePostLogin")
	cmd.Flags().StringArrayVar(&secrets, "secret", nil, "secret NAME whose value is read from stdin (repeatable)")
	cmd.Flags().BoolVar(&bind, "bind", false, "append the action to the post-login flow")
	return cmd
}

// testResult is what `actions test` prints: the changes the action asks of the login (the
// same result the Management API's test endpoint answers).
type testResult = admin.ActionTestResult

func newActionsTestCmd(a *app) *cobra.Command {
	var eventFile string
	cmd := &cobra.Command{
		Use:   "test NAME --event event.json",
		Short: "Run one stored action against a sample event and print the token changes",
		Args:  cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			ctx, name := cmd.Context(), args[0]
			act, err := svc.Store.GetAction(ctx, name)
			if err != nil {
				return err
			}
			var data []byte
			if eventFile != "" {
				if data, err = os.ReadFile(eventFile); err != nil {
					return err
				}
			}
			res, err := svc.TestAction(ctx, act, data)
			if err != nil {
				return err
			}
			return a.output(cmd, res, func(w io.Writer) error { return printTestResult(w, res) })
		}),
	}
	cmd.Flags().StringVar(&eventFile, "event", "", "sample event as JSON (Auth0's post-login event shape)")
	return cmd
}

func printTestResult(w io.Writer, r testResult) error {
	var fields [][2]string
	claims := func(label string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fields = append(fields, [2]string{label + " " + k, fmt.Sprintf("%v", m[k])})
		}
	}
	fields = append(fields, [2]string{"result", r.Result})
	claims("access token claim", r.AccessTokenClaims)
	claims("ID token claim", r.IDTokenClaims)
	if r.Scopes != nil {
		fields = append(fields, [2]string{"scopes", strings.Join(r.Scopes, " ")})
	}
	if r.MFA {
		fields = append(fields, [2]string{"multifactor", "required"})
	}
	claims("app_metadata", r.AppMetadata)
	claims("user_metadata", r.UserMetadata)
	for _, e := range r.Executions {
		fields = append(fields, [2]string{"executed " + e.Name, e.Duration.String() + " " + e.Error})
	}
	return printFields(w, fields)
}

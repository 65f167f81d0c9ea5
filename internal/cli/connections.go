package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	ldapdir "github.com/sesameauth/sesame/internal/directory/ldap"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

func newConnectionsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connections",
		Short: "Manage connections (user directories; the realm of the password-realm grant)",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List connections",
			Args:  cobra.NoArgs,
			RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
				cs, err := svc.ListConnections(cmd.Context())
				if err != nil {
					return err
				}
				views := make([]connectionJSON, 0, len(cs))
				rows := make([][]string, 0, len(cs))
				for _, c := range cs {
					views = append(views, connectionView(c))
					rows = append(rows, []string{c.Name, c.ID, c.Strategy, orDash(strings.Join(c.EnabledClients, ","))})
				}
				return a.output(cmd, views, func(w io.Writer) error {
					return printTable(w, []string{"NAME", "ID", "STRATEGY", "ENABLED CLIENTS"}, rows)
				})
			}),
		},
		&cobra.Command{
			Use:   "show NAME",
			Short: "Show a connection",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				c, err := svc.GetConnection(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.output(cmd, connectionView(c), func(w io.Writer) error { return printConnection(w, c) })
			}),
		},
		newConnectionsCreateCmd(a),
		newConnectionsUpdateCmd(a),
		newConnectionsTestCmd(a),
		newConnectionsGetUserCmd(a),
		&cobra.Command{
			Use:   "delete NAME",
			Short: "Delete a connection and every user in it",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				if err := svc.DeleteConnection(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.output(cmd, map[string]string{"deleted": args[0]}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Deleted connection %s and its users\n", args[0])
					return err
				})
			}),
		},
		connectionClientCmd(a, "enable-client", "Let an application log users in through the connection", (*admin.Service).EnableClient),
		connectionClientCmd(a, "disable-client", "Stop an application from using the connection", (*admin.Service).DisableClient),
	)
	return cmd
}

func connectionClientCmd(a *app, use, short string, op func(*admin.Service, context.Context, string, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use + " CONNECTION CLIENT_ID",
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			if err := op(svc, cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			c, err := svc.GetConnection(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.output(cmd, connectionView(c), func(w io.Writer) error { return printConnection(w, c) })
		}),
	}
}

func newConnectionsCreateCmd(a *app) *cobra.Command {
	var (
		name, strategy, options string
		enabled                 []string
		of                      optionFlags
		scripts, conf           []string
		importMode              bool
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME [--strategy auth0|ad|ldap|email|sms] [--options JSON] [--option KEY=VALUE ...] [--enable-client CLIENT_ID ...] [--custom-script login=FILE ... [--configuration KEY=VALUE ...] [--import-mode]]",
		Short: "Create a connection: a user database (auth0, a custom database with --custom-script) or an LDAP/Active Directory realm (ad)",
		Long: `Create a connection.

With --custom-script it is a custom database (Auth0's "Use my own database"): each
--custom-script NAME=FILE reads one of its scripts (login, get_user, create, verify,
change_password, delete, change_email) from FILE; --configuration KEY=VALUE sets the scripts'
configuration (sealed at rest); --import-mode migrates users lazily. See
docs/custom-databases.md. LDAP/Active Directory options: docs/ldap.md.`,
		Example: `  sesame connections create --name employees --strategy ad --enable-client CLIENT_ID \
    --option ldap_url=ldaps://ldap.acme.internal:636 --option ldap_ca=./ldap-ca.pem \
    --option ldap_bind_user=cn=sesame,ou=services,dc=acme,dc=internal \
    --option ldap_base=ou=people,dc=acme,dc=internal --bind-credentials-env LDAP_BIND_PASSWORD`,
		Args: cobra.NoArgs,
		RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
			var base map[string]any
			if options != "" {
				if err := json.Unmarshal([]byte(options), &base); err != nil {
					return fmt.Errorf("--options: not a JSON object: %w", err)
				}
			}
			opts, err := of.options(a, base)
			if err != nil {
				return err
			}
			custom, err := customDBFlags(scripts, conf, importMode)
			if err != nil {
				return err
			}
			maps.Copy(opts, custom)
			c, err := svc.CreateConnectionFrom(cmd.Context(), admin.ConnectionInput{Name: name, Strategy: strategy,
				EnabledClients: enabled, Options: opts, BaseDir: "."})
			if err != nil {
				return err
			}
			return a.output(cmd, connectionView(c), func(w io.Writer) error {
				fmt.Fprintf(w, "Created connection %s\n", c.Name)
				return printConnection(w, c)
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "connection name, e.g. Username-Password-Authentication (required)")
	f.StringVar(&strategy, "strategy", admin.StrategyAuth0, "strategy: auth0 (the built-in user database), ad or ldap (an LDAP/Active Directory realm), email or sms (passwordless one-time codes)")
	f.StringVar(&options, "options", "", `the strategy's options as a JSON object, Auth0's names, e.g. '{"totp":{"length":6,"time_step":300},"disable_signup":true}' (--option KEY=VALUE sets one on top)`)
	f.StringArrayVar(&enabled, "enable-client", nil, "client id allowed to use the connection (repeatable)")
	f.StringArrayVar(&scripts, "custom-script", nil, "NAME=FILE: a custom database script (login, get_user, create, ...) read from FILE (repeatable)")
	f.StringArrayVar(&conf, "configuration", nil, "KEY=VALUE of the custom database scripts' configuration, sealed at rest (repeatable)")
	f.BoolVar(&importMode, "import-mode", false, "migrate the custom database's users lazily, at their first login")
	of.register(cmd)
	return cmd
}

func newConnectionsUpdateCmd(a *app) *cobra.Command {
	var of optionFlags
	cmd := &cobra.Command{
		Use:   "update NAME [--option KEY=VALUE ...] [--unset-option KEY ...] [--bind-credentials-env VAR]",
		Short: "Change a connection's options (the others keep their values; secrets stay sealed)",
		Args:  cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			cur, err := svc.GetConnection(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			// The stored options without their sealed secrets: the service keeps those unless a
			// new one is given.
			opts, err := of.options(a, admin.PublicConnectionOptions(cur.Strategy, cur.Options))
			if err != nil {
				return err
			}
			c, err := svc.UpdateConnection(cmd.Context(), cur.ID, admin.ConnectionPatch{Options: &opts, BaseDir: "."})
			if err != nil {
				return err
			}
			return a.output(cmd, connectionView(c), func(w io.Writer) error {
				fmt.Fprintf(w, "Updated connection %s\n", c.Name)
				return printConnection(w, c)
			})
		}),
	}
	of.register(cmd)
	cmd.Flags().StringArrayVar(&of.unset, "unset-option", nil, "option to remove (repeatable)")
	return cmd
}

// optionFlags are the flags that set connection options.
type optionFlags struct {
	set     []string
	unset   []string
	bindEnv string
}

func (o *optionFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&o.set, "option", nil, "option KEY=VALUE (repeatable; true/false and whole numbers are typed; see docs/ldap.md)")
	f.StringVar(&o.bindEnv, "bind-credentials-env", "", "read ldap_bind_credentials from this environment variable (kept out of the process list)")
}

// options applies the flags to base (nil: none).
func (o *optionFlags) options(a *app, base map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--option %q: want KEY=VALUE", kv)
		}
		out[k] = optionValue(v)
	}
	for _, k := range o.unset {
		delete(out, k)
	}
	if o.bindEnv != "" {
		v, ok := a.env(o.bindEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("--bind-credentials-env: %s is not set", o.bindEnv)
		}
		out[ldapdir.OptBindCredentials] = v
	}
	return out, nil
}

// optionValue types a flag's value as a tenant file would: booleans and whole numbers.
func optionValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.Atoi(v); err == nil && strconv.Itoa(n) == v {
		return n
	}
	return v
}

// customDBFlags builds a custom database's options from the create flags; nil without
// --custom-script.
func customDBFlags(scripts, conf []string, importMode bool) (map[string]any, error) {
	if len(scripts) == 0 {
		if len(conf) > 0 || importMode {
			return nil, errors.New("--configuration and --import-mode are for custom databases: add --custom-script login=FILE")
		}
		return nil, nil
	}
	cs := map[string]any{}
	for _, kv := range scripts {
		k, file, ok := strings.Cut(kv, "=")
		if !ok || k == "" || file == "" {
			return nil, fmt.Errorf("--custom-script %q: want NAME=FILE", kv)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--custom-script %s: %w", k, err)
		}
		cs[k] = string(b)
	}
	cm := map[string]any{}
	for _, kv := range conf {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--configuration %q: want KEY=VALUE", kv)
		}
		cm[k] = v
	}
	return map[string]any{"enabledDatabaseCustomization": true, "import_mode": importMode,
		"customScripts": cs, "configuration": cm}, nil
}

// newConnectionsGetUserCmd runs a custom database's get_user script: what an admin checks
// first when a legacy user cannot log in.
func newConnectionsGetUserCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get-user CONNECTION EMAIL",
		Short: "Look a user up in a custom database's legacy store (its get_user script)",
		Args:  cobra.ExactArgs(2),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			p, err := svc.LegacyUser(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if p == nil {
				return fmt.Errorf("the get_user script of %s finds no user %s", args[0], args[1])
			}
			return a.output(cmd, p, func(w io.Writer) error {
				keys := slices.Sorted(maps.Keys(p))
				rows := make([][2]string, 0, len(keys))
				for _, k := range keys {
					rows = append(rows, [2]string{k, fmt.Sprint(p[k])})
				}
				return printFields(w, rows)
			})
		}),
	}
}

func printConnection(w io.Writer, c store.Connection) error {
	return printFields(w, [][2]string{
		{"id", c.ID},
		{"name", c.Name},
		{"strategy", c.Strategy},
		{"enabled_clients", orDash(strings.Join(c.EnabledClients, " "))},
	})
}

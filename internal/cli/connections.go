package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

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
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME [--strategy auth0|email|sms] [--options JSON] [--enable-client CLIENT_ID ...]",
		Short: "Create a connection: a user database, or passwordless codes by email or SMS",
		Args:  cobra.NoArgs,
		RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
			in := admin.ConnectionInput{Name: name, Strategy: strategy, EnabledClients: enabled}
			if options != "" {
				if err := json.Unmarshal([]byte(options), &in.Options); err != nil {
					return fmt.Errorf("--options: not a JSON object: %w", err)
				}
			}
			c, err := svc.CreateConnectionFrom(cmd.Context(), in)
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
	f.StringVar(&strategy, "strategy", admin.StrategyAuth0, "strategy: auth0 (the built-in user database), email or sms (passwordless one-time codes)")
	f.StringVar(&options, "options", "", `the strategy's options as a JSON object, Auth0's names, e.g. '{"totp":{"length":6,"time_step":300},"disable_signup":true}'`)
	f.StringArrayVar(&enabled, "enable-client", nil, "client id allowed to use the connection (repeatable)")
	return cmd
}

func printConnection(w io.Writer, c store.Connection) error {
	return printFields(w, [][2]string{
		{"id", c.ID},
		{"name", c.Name},
		{"strategy", c.Strategy},
		{"enabled_clients", orDash(strings.Join(c.EnabledClients, " "))},
	})
}

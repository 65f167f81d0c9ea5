package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

// clientGrantJSON is Auth0's client grant object.
type clientGrantJSON struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`
}

func clientGrantView(g store.ClientGrant) clientGrantJSON {
	scope := g.Scope
	if scope == nil {
		scope = []string{}
	}
	return clientGrantJSON{ID: g.ID, ClientID: g.ClientID, Audience: g.Audience, Scope: scope}
}

func newClientGrantsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "client-grants",
		Short: "Manage client grants (which client may get client-credentials tokens for which API)",
	}
	var filter store.ClientGrantFilter
	list := &cobra.Command{
		Use:   "list [--client-id ID] [--audience IDENTIFIER]",
		Short: "List client grants",
		Args:  cobra.NoArgs,
		RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
			gs, err := svc.ListClientGrants(cmd.Context(), filter)
			if err != nil {
				return err
			}
			views := make([]clientGrantJSON, 0, len(gs))
			rows := make([][]string, 0, len(gs))
			for _, g := range gs {
				views = append(views, clientGrantView(g))
				rows = append(rows, []string{g.ID, g.ClientID, g.Audience, orDash(strings.Join(g.Scope, ","))})
			}
			return a.output(cmd, views, func(w io.Writer) error {
				return printTable(w, []string{"ID", "CLIENT ID", "AUDIENCE", "SCOPE"}, rows)
			})
		}),
	}
	list.Flags().StringVar(&filter.ClientID, "client-id", "", "only the grants of this client")
	list.Flags().StringVar(&filter.Audience, "audience", "", "only the grants for this API")
	cmd.AddCommand(list, newClientGrantsCreateCmd(a), &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a client grant (the client's tokens already issued stay valid until they expire)",
		Args:  cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			if err := svc.DeleteClientGrant(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.output(cmd, map[string]string{"deleted": args[0]}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Deleted client grant %s\n", args[0])
				return err
			})
		}),
	})
	return cmd
}

func newClientGrantsCreateCmd(a *app) *cobra.Command {
	var (
		in    admin.ClientGrantInput
		scope string
	)
	cmd := &cobra.Command{
		Use:   "create --client-id ID --audience IDENTIFIER [--scope read:x,write:x]",
		Short: "Let a client get client-credentials tokens for an API",
		Args:  cobra.NoArgs,
		RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
			for _, sc := range admin.ParseScopes(scope) {
				in.Scope = append(in.Scope, sc.Value)
			}
			g, err := svc.CreateClientGrant(cmd.Context(), in)
			if err != nil {
				return err
			}
			return a.output(cmd, clientGrantView(g), func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Created client grant %s: client %s may get tokens for %s with scope %q\n",
					g.ID, g.ClientID, g.Audience, strings.Join(g.Scope, " "))
				return err
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.ClientID, "client-id", "", "the client (required)")
	f.StringVar(&in.Audience, "audience", "", "the API's identifier (required)")
	f.StringVar(&scope, "scope", "", "scopes of the API the client may ask for, comma separated (default: none)")
	return cmd
}

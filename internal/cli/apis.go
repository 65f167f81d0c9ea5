package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

func newAPIsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "apis",
		Aliases: []string{"resource-servers"},
		Short:   "Manage APIs (resource servers: the audiences of access tokens)",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List APIs",
			Args:  cobra.NoArgs,
			RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
				apis, err := svc.ListAPIs(cmd.Context())
				if err != nil {
					return err
				}
				views := make([]apiJSON, 0, len(apis))
				rows := make([][]string, 0, len(apis))
				for _, rs := range apis {
					views = append(views, apiView(rs))
					rows = append(rows, []string{rs.Identifier, rs.Name, rs.SigningAlg, yesNo(rs.AllowOfflineAccess), itoa(rs.TokenLifetime), scopeList(rs.Scopes)})
				}
				return a.output(cmd, views, func(w io.Writer) error {
					return printTable(w, []string{"IDENTIFIER", "NAME", "SIGNING ALG", "OFFLINE ACCESS", "TOKEN LIFETIME", "SCOPES"}, rows)
				})
			}),
		},
		&cobra.Command{
			Use:   "show IDENTIFIER|ID",
			Short: "Show an API",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				rs, err := svc.GetAPI(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.output(cmd, apiView(rs), func(w io.Writer) error { return printAPI(w, rs) })
			}),
		},
		newAPIsCreateCmd(a),
		&cobra.Command{
			Use:   "delete IDENTIFIER|ID",
			Short: "Delete an API",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				if err := svc.DeleteAPI(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.output(cmd, map[string]string{"deleted": args[0]}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Deleted API %s\n", args[0])
					return err
				})
			}),
		},
	)
	return cmd
}

func newAPIsCreateCmd(a *app) *cobra.Command {
	var (
		in     admin.APIInput
		scopes string
	)
	cmd := &cobra.Command{
		Use:   "create --identifier URI [--name NAME] [--scopes read:x,write:x] [--signing-alg ALG]",
		Short: "Create an API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Scopes = admin.ParseScopes(scopes)
			svc, closeFn, err := a.openService(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			rs, err := svc.CreateAPI(cmd.Context(), in)
			if err != nil {
				return err
			}
			return a.output(cmd, apiView(rs), func(w io.Writer) error {
				fmt.Fprintf(w, "Created API %s\n", rs.Identifier)
				return printAPI(w, rs)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Identifier, "identifier", "", "the audience, usually a URL (required, unique, cannot change)")
	f.StringVar(&in.Name, "name", "", "display name (default: the identifier)")
	f.StringVar(&scopes, "scopes", "", "scopes the API defines, comma separated (e.g. read:orders,write:orders)")
	f.StringVar(&in.SigningAlg, "signing-alg", "", "access token algorithm: "+strings.Join(admin.SigningAlgs, ", ")+" (default RS256)")
	f.BoolVar(&in.AllowOfflineAccess, "offline-access", false, "allow refresh tokens (offline_access) for this API")
	f.IntVar(&in.TokenLifetime, "token-lifetime", 0, "access token lifetime in seconds (default 86400)")
	f.StringVar(&in.TokenDialect, "token-dialect", "", "access_token (default), access_token_authz, rfc9068_profile or rfc9068_profile_authz")
	f.BoolVar(&in.EnforcePolicies, "rbac", false, "enforce RBAC: grant only the scopes the user has permissions for")
	return cmd
}

func scopeList(ss []store.Scope) string {
	vs := make([]string, 0, len(ss))
	for _, s := range ss {
		vs = append(vs, s.Value)
	}
	return orDash(strings.Join(vs, ","))
}

func printAPI(w io.Writer, rs store.ResourceServer) error {
	return printFields(w, [][2]string{
		{"id", rs.ID},
		{"identifier", rs.Identifier},
		{"name", rs.Name},
		{"signing_alg", rs.SigningAlg},
		{"allow_offline_access", yesNo(rs.AllowOfflineAccess)},
		{"token_lifetime", itoa(rs.TokenLifetime) + "s"},
		{"token_dialect", rs.TokenDialect},
		{"enforce_policies", yesNo(rs.EnforcePolicies)},
		{"scopes", scopeList(rs.Scopes)},
	})
}

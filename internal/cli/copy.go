package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

func newCopyCmd(a *app) *cobra.Command {
	var (
		from, to    string
		logs, force bool
	)
	cmd := &cobra.Command{
		Use:   "copy --from DSN --to DSN",
		Short: "Copy every record from one database to another (e.g. SQLite to PostgreSQL)",
		Long: `Copy the tenant, clients, APIs, connections, users, signing keys, live refresh tokens and
single-use entries from one database to another, in one transaction on the target. Sealed
values are copied as they are: run the target with the same key-encryption key. The source
must be migrated; the target is migrated first. A target that already holds records is
refused unless --force, which replaces them. Stop the nodes writing to the source first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if from == "" || to == "" {
				return fmt.Errorf("both --from and --to are required")
			}
			if from == to {
				return fmt.Errorf("--from and --to name the same database")
			}
			src, err := sqlstore.Open(ctx, from)
			if err != nil {
				return fmt.Errorf("opening --from: %w", err)
			}
			defer src.Close()
			if ok, err := src.SchemaUpToDate(ctx); err != nil || !ok {
				if err == nil {
					err = fmt.Errorf("the --from database schema is out of date: run `sesame migrate --db` on it first")
				}
				return err
			}
			dst, err := sqlstore.Open(ctx, to)
			if err != nil {
				return fmt.Errorf("opening --to: %w", err)
			}
			defer dst.Close()
			if err := dst.Migrate(ctx); err != nil {
				return fmt.Errorf("migrating --to: %w", err)
			}
			n, err := sqlstore.Copy(ctx, dst, src, sqlstore.CopyOptions{Logs: logs, Force: force})
			if err != nil {
				return err
			}
			counts := []struct {
				name string
				n    int
			}{
				{"tenant", n.Tenant}, {"clients", n.Clients}, {"apis", n.ResourceServers}, {"client_grants", n.ClientGrants},
				{"connections", n.Connections}, {"users", n.Users}, {"signing_keys", n.SigningKeys},
				{"refresh_families", n.RefreshFamilies}, {"refresh_tokens", n.RefreshTokens},
				{"single_use", n.Replay}, {"logs", n.Logs}, {"mfa_authenticators", n.MFAAuthenticators},
				{"actions", n.Actions}, {"rules", n.Rules}, {"trigger_bindings", n.TriggerBindings},
				{"guard_state", n.GuardState}, {"breached_hashes", n.BreachedHashes},
			}
			if a.flags.json {
				m := map[string]any{"from": redactDSN(from), "to": redactDSN(to)}
				for _, c := range counts {
					m[c.name] = c.n
				}
				return printJSON(cmd.OutOrStdout(), m)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Copied %s to %s:\n", redactDSN(from), redactDSN(to))
			for _, c := range counts {
				fmt.Fprintf(out, "  %-17s %d\n", c.name, c.n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "source database DSN")
	cmd.Flags().StringVar(&to, "to", "", "target database DSN (migrated if needed)")
	cmd.Flags().BoolVar(&logs, "logs", false, "also copy the tenant log")
	cmd.Flags().BoolVar(&force, "force", false, "replace the records of a non-empty target")
	return cmd
}

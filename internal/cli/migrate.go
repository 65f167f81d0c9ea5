package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database schema migrations",
		Long: `Apply pending schema migrations to the configured database. SQLite databases are migrated
automatically whenever sesame opens them; PostgreSQL databases, shared by nodes that may run
different versions during a rollout, are migrated only by this command (or --migrate, or
auto_migrate: true).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.resolveServerConfig(cmd)
			if err != nil {
				return err
			}
			b, err := a.openBackendWith(cmd, cfg, true)
			if err != nil {
				return err
			}
			defer b.Close()
			if a.flags.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"migrated": true, "db": redactDSN(cfg.DB)})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Database %s is up to date\n", redactDSN(cfg.DB))
			return err
		},
	}
}

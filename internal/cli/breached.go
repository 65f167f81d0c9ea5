package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/guard"
)

// newBreachedCmd manages the breached-password list that breachedPasswordDetection checks.
func newBreachedCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "breached",
		Short: "Manage the list of breached passwords",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE",
		Short: "Import SHA-1 hashes of breached passwords (lines HASH or HASH:COUNT, as Pwned Passwords downloads)",
		Long: `Import SHA-1 hashes of breached passwords into the store, so that every node sees them.

FILE holds one full SHA-1 hash (40 hex digits) per line, optionally followed by :COUNT, as in
the Pwned Passwords downloads; blank lines and lines starting with # are skipped. Importing
the same file again adds nothing. Lookups use the hash's first five hex digits, as the
k-anonymity range API does. Breached-password detection itself is enabled in the tenant file
(attackProtection.breachedPasswordDetection).`,
		Args: cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			n, err := guard.ImportBreached(cmd.Context(), svc.Store, f)
			if err != nil {
				return fmt.Errorf("importing %s (%d new hashes stored before the error): %w", args[0], n, err)
			}
			return a.output(cmd, map[string]any{"imported": n}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Imported %d new breached password hashes\n", n)
				return err
			})
		}),
	})
	return cmd
}

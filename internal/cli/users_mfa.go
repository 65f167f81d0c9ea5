package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
)

// authenticatorJSON is an MFA authenticator as the Management API shows it
// (/api/v2/users/{id}/authentication-methods, abridged).
type authenticatorJSON struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Name      string `json:"name,omitempty"`
	Confirmed bool   `json:"confirmed"`
	CreatedAt string `json:"created_at"`
}

func newUsersMFACmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Inspect or reset a user's MFA authenticators",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list USER_ID",
			Short: "List a user's MFA authenticators",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				auths, err := svc.ListMFAAuthenticators(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				views := make([]authenticatorJSON, 0, len(auths))
				rows := make([][]string, 0, len(auths))
				for _, x := range auths {
					v := authenticatorJSON{ID: x.ID, Type: x.Kind, Name: x.Name, Confirmed: x.Confirmed,
						CreatedAt: x.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")}
					views = append(views, v)
					rows = append(rows, []string{v.ID, v.Type, orDash(v.Name), yesNo(v.Confirmed), v.CreatedAt})
				}
				return a.output(cmd, views, func(w io.Writer) error {
					return printTable(w, []string{"ID", "TYPE", "NAME", "CONFIRMED", "CREATED"}, rows)
				})
			}),
		},
		&cobra.Command{
			Use:   "reset USER_ID",
			Short: "Delete every MFA authenticator of a user (they enrol again at their next login)",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				n, err := svc.ResetMFA(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.output(cmd, map[string]any{"user_id": args[0], "deleted": n}, func(w io.Writer) error {
					plural := "s"
					if n == 1 {
						plural = ""
					}
					_, err := fmt.Fprintf(w, "Reset MFA of %s: %d authenticator%s deleted\n", args[0], n, plural)
					return err
				})
			}),
		},
	)
	return cmd
}

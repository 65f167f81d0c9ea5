package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Inspect and rotate token signing keys",
	}
	list := func(cmd *cobra.Command, b *backend) error {
		ks, err := b.keys.List(cmd.Context())
		if err != nil {
			return err
		}
		views := make([]keyJSON, 0, len(ks))
		rows := make([][]string, 0, len(ks))
		for _, k := range ks {
			v := keyView(k)
			views = append(views, v)
			rows = append(rows, []string{k.KID, k.Alg, k.State, v.CreatedAt, orDash(v.ActivatedAt), orDash(v.PublishUntil)})
		}
		return a.output(cmd, views, func(w io.Writer) error {
			return printTable(w, []string{"KID", "ALG", "STATE", "CREATED", "ACTIVATED", "PUBLISHED UNTIL"}, rows)
		})
	}
	var alg string
	rotate := &cobra.Command{
		Use:   "rotate [--alg ALG]",
		Short: "Promote the next key to current and publish a new next key",
		Long: `Rotate signing keys: the current key becomes previous (still published in the JWKS so that
tokens it signed keep verifying), the next key (already published, so clients have cached it)
starts signing, and a new next key is generated. Without --alg every algorithm rotates.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			if err := b.keys.Rotate(cmd.Context(), alg); err != nil {
				return err
			}
			if !a.flags.json {
				what := alg
				if what == "" {
					what = "every algorithm"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Rotated signing keys for %s\n", what)
			}
			return list(cmd, b)
		},
	}
	rotate.Flags().StringVar(&alg, "alg", "", "rotate only this algorithm's keys (RS256, PS256, RS512, ES256, EdDSA)")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List signing keys (next, current, previous and retired)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				b, err := a.openBackend(cmd)
				if err != nil {
					return err
				}
				defer b.Close()
				return list(cmd, b)
			},
		},
		rotate,
	)
	return cmd
}

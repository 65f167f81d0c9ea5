package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/store"
)

func newKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Inspect, rotate and revoke token signing keys",
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
	revoke := &cobra.Command{
		Use:   "revoke KID",
		Short: "Withdraw a compromised signing key at once",
		Long: `Revoke a signing key (emergency): unlike rotate, which keeps the rotated-out key published
for 31 days, the key leaves the JWKS at once and tokens it signed stop verifying (introspection,
/userinfo). Every node sees it within a second (signing keys are re-read from the database at
most once a second). If KID is the current key, the next key (already published) starts
signing first; a revoked current or next key is replaced by a new next key. The only key of an
algorithm is never revoked. APIs that cache the JWKS drop the key when they refetch it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			rev, err := b.keys.Revoke(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			k := rev.Revoked
			// The revocation is done; a log write that fails must not report it as failed.
			_ = b.store.AppendLog(cmd.Context(), store.LogEvent{Date: time.Now().UTC(), Type: "sapi",
				Description: "Revoke an Application Signing Key",
				Details:     map[string]any{"kid": k.KID, "alg": k.Alg, "state": k.State, "current": rev.Current}})
			if !a.flags.json {
				fmt.Fprintf(cmd.OutOrStdout(), "Revoked %s signing key %s (was %s); %s signs now\n", k.Alg, k.KID, k.State, rev.Current)
			}
			return list(cmd, b)
		},
	}
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
		revoke,
	)
	return cmd
}

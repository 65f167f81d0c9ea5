// Package cli is the sesame command line: serve, demo, apply and the admin verbs. Commands parse
// flags and print; every rule they apply lives in admin or server.
package cli

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs the CLI and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := NewRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "sesame:", err)
		return 1
	}
	return 0
}

// NewRoot builds the command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "sesame",
		Short:         "Sesame: a self-hosted OAuth 2.0 / OpenID Connect server for the password flow",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
	// Each file of this package contributes its constructor here.
	)
	return root
}

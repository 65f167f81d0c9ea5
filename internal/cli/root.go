// Package cli is the sesame command line: serve, demo, apply and the admin verbs. Commands parse
// flags and print; every rule they apply lives in admin or server.
//
// The environment is read once, by Main, and handed down as a lookup function: no other code
// calls os.Getenv, so tests inject an environment and the precedence flags > SESAME_* variables
// > config file > defaults is decided in one place (config.go).
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/config"
)

// Main runs the CLI and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := NewRoot(os.LookupEnv)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "sesame:", renderError(err))
		return 1
	}
	return 0
}

// app is what every command shares: the injected environment and the root's persistent flags.
type app struct {
	// lookupEnv reads an environment variable (os.LookupEnv in the binary); nil means an empty
	// environment.
	lookupEnv func(string) (string, bool)
	flags     globalFlags
	// adjustConfig, when set, is what the command changed in the resolved server config (the
	// demo's defaults); a SIGHUP reload applies it again before comparing.
	adjustConfig func(*config.Server)
}

func (a *app) env(name string) (string, bool) {
	if a.lookupEnv == nil {
		return "", false
	}
	return a.lookupEnv(name)
}

// NewRoot builds the command tree. lookupEnv is how commands read SESAME_* variables
// (os.LookupEnv in the binary; tests pass a map's lookup, or nil for none).
func NewRoot(lookupEnv func(string) (string, bool)) *cobra.Command {
	a := &app{lookupEnv: lookupEnv}
	root := &cobra.Command{
		Use:           "sesame",
		Short:         "Sesame: a self-hosted OAuth 2.0 / OpenID Connect server for the password flow",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	a.globalFlags(root.PersistentFlags())
	root.AddCommand(
		// Each file of this package contributes its constructor here. serve and demo take
		// the same *app: newServeCmd(a), newDemoCmd(a).
		newServeCmd(a),
		newDemoCmd(a),
		newClientsCmd(a),
		newAPIsCmd(a),
		newClientGrantsCmd(a),
		newConnectionsCmd(a),
		newUsersCmd(a),
		newKeysCmd(a),
		newApplyCmd(a),
		newMigrateCmd(a),
		newBenchCmd(a),
		newCopyCmd(a),
		newBackupCmd(a),
		newRestoreCmd(a),
		newHealthcheckCmd(),
		newBreachedCmd(a),
		newLogsCmd(a),
		newActionsCmd(a),
	)
	return root
}

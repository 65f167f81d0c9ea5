package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
)

// newConnectionsTestCmd is `sesame connections test NAME --username U`: a login against the
// connection's directory that explains each step, what an admin needs when logins fail. It
// reads the password from stdin (first line) unless --password-env names a variable, so the
// password stays out of the process list and the shell history.
func newConnectionsTestCmd(a *app) *cobra.Command {
	var username, passwordEnv string
	cmd := &cobra.Command{
		Use:   "test NAME --username USER [--password-env VAR]",
		Short: "Try a login against an LDAP/Active Directory connection, explaining each step",
		Long: `Tries a login against the connection's directory as the token endpoint does — connect
(and TLS), bind as the service account, search for the user with the escaped username, expect
exactly one entry, bind as that entry with the password, read the groups — and prints each
step with what the directory answered. The password is read from the first line of standard
input, or from the variable --password-env names. Nothing is written to the database.`,
		Args: cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			c, err := svc.GetConnection(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if username == "" {
				return errors.New("--username is required")
			}
			pw, err := readTestPassword(a, cmd.InOrStdin(), passwordEnv)
			if err != nil {
				return err
			}
			res, err := svc.TestDirectoryLogin(cmd.Context(), c, username, pw)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Testing connection %s (%s, timeout %s)\n", res.Connection, res.URL, res.Timeout)
			for _, s := range res.Steps {
				status := "ok"
				if !s.OK {
					status = "FAILED: " + s.Error
				}
				took := time.Duration(s.TookMS * float64(time.Millisecond)).Round(time.Microsecond)
				fmt.Fprintf(w, "  %-13s %s (%s) %s\n", s.Name, s.Detail, took, status)
			}
			if !res.Succeeded {
				return fmt.Errorf("login refused: %s", res.Explanation)
			}
			fmt.Fprintf(w, "Login succeeded: user_id %s, email %s, groups [%s]\n", res.UserID, orDash(res.Email), strings.Join(res.Groups, " "))
			if res.Blocked {
				fmt.Fprintln(w, "Note: the entry is disabled in the directory: the token endpoint answers \"user is blocked\".")
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&username, "username", "", "the username to log in with (required)")
	cmd.Flags().StringVar(&passwordEnv, "password-env", "", "read the password from this environment variable instead of stdin")
	return cmd
}

func readTestPassword(a *app, in io.Reader, env string) (string, error) {
	if env != "" {
		v, ok := a.env(env)
		if !ok {
			return "", fmt.Errorf("--password-env: %s is not set", env)
		}
		return v, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/directory"
	ldapdir "github.com/sesameauth/sesame/internal/directory/ldap"
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
			if c.Strategy != admin.StrategyAD && c.Strategy != admin.StrategyLDAP {
				return fmt.Errorf("connection %s has strategy %s: only ad and ldap connections can be tested against their directory", c.Name, c.Strategy)
			}
			if username == "" {
				return errors.New("--username is required")
			}
			pw, err := readTestPassword(a, cmd.InOrStdin(), passwordEnv)
			if err != nil {
				return err
			}
			cfg, err := ldapdir.ParseConfig(c.Name, c.Strategy, c.Options, svc.Box)
			if err != nil {
				return fmt.Errorf("connection %s: %w", c.Name, err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Testing connection %s (%s, timeout %s)\n", c.Name, cfg.URL.Redacted(), cfg.Timeout)
			d, err := ldapdir.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(s ldapdir.Step) {
				status := "ok"
				if s.Err != nil {
					status = "FAILED: " + s.Err.Error()
				}
				fmt.Fprintf(w, "  %-13s %s (%s) %s\n", s.Name, s.Detail, s.Took.Round(time.Microsecond), status)
			})
			if err != nil {
				return err
			}
			defer d.Close()
			u, err := d.Authenticate(cmd.Context(), username, pw)
			if err != nil {
				return fmt.Errorf("login refused: %s", explainLoginError(err))
			}
			fmt.Fprintf(w, "Login succeeded: user_id %s, email %s, groups [%s]\n", u.UserID, orDash(u.Email), strings.Join(u.Groups, " "))
			if u.Blocked {
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

// explainLoginError says what a refused test login means for the admin.
func explainLoginError(err error) string {
	var ae *directory.AccountError
	switch {
	case errors.Is(err, directory.ErrUnknownUser):
		return "no entry matches the username (check ldap_base and ldap_user_by_name)"
	case errors.Is(err, directory.ErrInvalidCredentials):
		return "wrong password, an empty password, or several entries match the username: " + err.Error()
	case errors.As(err, &ae):
		return "the directory refused the account: " + ae.Detail
	case errors.Is(err, directory.ErrUnavailable):
		return "the directory could not be reached or did not answer in time: " + err.Error()
	}
	return err.Error()
}

package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

func newUsersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage users of database connections",
	}
	cmd.AddCommand(
		newUsersListCmd(a),
		&cobra.Command{
			Use:   "show USER_ID",
			Short: "Show a user (never the password hash)",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				u, err := svc.GetUser(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.output(cmd, userView(u), func(w io.Writer) error { return printUser(w, u) })
			}),
		},
		newUsersCreateCmd(a),
		userActionCmd(a, "delete", "Delete a user and revoke their refresh tokens", "Deleted", (*admin.Service).DeleteUser, false),
		userActionCmd(a, "block", "Block a user (by id, email or username): logins and refreshes fail with \"user is blocked\"", "Blocked", (*admin.Service).BlockUser, true),
		newUsersUnblockCmd(a),
		newUsersBlocksCmd(a),
		userActionCmd(a, "grant-admin", "Give a user (by id, email or username) every Management API permission: the web console lets them in", "Admin", (*admin.Service).GrantAdmin, true),
		newUsersSetPasswordCmd(a),
		newUsersImportCmd(a),
		newUsersMFACmd(a),
	)
	return cmd
}

func newUsersListCmd(a *app) *cobra.Command {
	var f store.UserFilter
	cmd := &cobra.Command{
		Use:   "list [--connection NAME]",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
			us, err := svc.ListUsers(cmd.Context(), f)
			if err != nil {
				return err
			}
			views := make([]userJSON, 0, len(us))
			rows := make([][]string, 0, len(us))
			for _, u := range us {
				views = append(views, userView(u))
				rows = append(rows, []string{u.ID, u.Connection, u.Email, orDash(u.Username), yesNo(u.Blocked), itoa(u.LoginsCount)})
			}
			return a.output(cmd, views, func(w io.Writer) error {
				return printTable(w, []string{"USER ID", "CONNECTION", "EMAIL", "USERNAME", "BLOCKED", "LOGINS"}, rows)
			})
		}),
	}
	cmd.Flags().StringVar(&f.Connection, "connection", "", "only users of this connection")
	cmd.Flags().IntVar(&f.Limit, "limit", 0, "at most this many users (0: all)")
	cmd.Flags().IntVar(&f.Offset, "offset", 0, "skip this many users")
	return cmd
}

// userActionCmd is a command that does op to one user. With byLogin the argument may also be
// the email or username of exactly one user (see resolveUser); destructive commands keep to
// the user id.
func userActionCmd(a *app, verb, short, done string, op func(*admin.Service, context.Context, string) error, byLogin bool) *cobra.Command {
	use := verb + " USER_ID"
	if byLogin {
		use = verb + " (USER_ID | EMAIL | USERNAME)"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			id := args[0]
			if byLogin {
				var err error
				if id, err = resolveUser(cmd.Context(), svc, id); err != nil {
					return err
				}
			}
			if err := op(svc, cmd.Context(), id); err != nil {
				return err
			}
			return a.output(cmd, map[string]string{strings.ToLower(done): id}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s user %s\n", done, id)
				return err
			})
		}),
	}
}

// resolveUser turns a command's user argument into a user id: a user id stays as it is, the
// email or username of exactly one user becomes that user's id. Admins name users the way the
// users log in, and a brute-force block is keyed by that login, so "unblock alice@example.com"
// must not answer "user not found" when Alice exists.
func resolveUser(ctx context.Context, svc *admin.Service, ref string) (string, error) {
	us, err := svc.FindUsers(ctx, ref)
	if err != nil {
		return "", err
	}
	switch len(us) {
	case 1:
		return us[0].ID, nil
	case 0:
		return "", fmt.Errorf("no user has the id, email or username %q; to act on the brute-force blocks of a login that is no user's, use --identifier %q", ref, ref)
	}
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID + " (" + u.Connection + ")"
	}
	return "", fmt.Errorf("%q is the email or username of %d users: %s; name one by its user id", ref, len(us), strings.Join(ids, ", "))
}

// userBlocksJSON is Auth0's user-blocks response; attempts and blocked_until are Sesame's
// additions, which Auth0 clients ignore.
type userBlocksJSON struct {
	BlockedFor []userBlockJSON `json:"blocked_for"`
}

type userBlockJSON struct {
	Identifier string `json:"identifier"`
	// IP is absent in count_per_identifier mode: the block holds from every IP.
	IP           string `json:"ip,omitempty"`
	Connection   string `json:"connection,omitempty"`
	Attempts     int    `json:"attempts"`
	BlockedUntil string `json:"blocked_until"`
}

// userOrIdentifier checks that a command names exactly one of a USER_ID and an --identifier.
func userOrIdentifier(identifier *string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if (len(args) == 1) == (*identifier != "") || len(args) > 1 {
			return fmt.Errorf("name either a USER_ID or an --identifier")
		}
		return nil
	}
}

func newUsersUnblockCmd(a *app) *cobra.Command {
	var identifier string
	unblockUser := userActionCmd(a, "unblock", "", "Unblocked", (*admin.Service).UnblockUser, true)
	cmd := &cobra.Command{
		Use:   "unblock (USER_ID | EMAIL | USERNAME | --identifier EMAIL_OR_USERNAME)",
		Short: "Unblock a user (blocked flag and brute-force blocks), or release an identifier's brute-force blocks",
		Args:  userOrIdentifier(&identifier),
		RunE: func(cmd *cobra.Command, args []string) error {
			if identifier == "" {
				return unblockUser.RunE(cmd, args)
			}
			return a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
				n, err := svc.UnblockIdentifier(cmd.Context(), identifier)
				if err != nil {
					return err
				}
				return a.output(cmd, map[string]any{"identifier": identifier, "released": n}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Released %d brute-force block(s) of %s\n", n, identifier)
					return err
				})
			})(cmd, args)
		},
	}
	cmd.Flags().StringVar(&identifier, "identifier", "", "release the brute-force blocks of this email or username, from every IP")
	return cmd
}

func newUsersBlocksCmd(a *app) *cobra.Command {
	var identifier string
	cmd := &cobra.Command{
		Use:   "blocks (USER_ID | EMAIL | USERNAME | --identifier EMAIL_OR_USERNAME)",
		Short: "List brute-force blocks of a user's email and username, by IP (release them with unblock)",
		Args:  userOrIdentifier(&identifier),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			var bs []admin.UserBlock
			var err error
			if identifier != "" {
				bs, err = svc.IdentifierBlocks(cmd.Context(), identifier)
			} else {
				var id string
				if id, err = resolveUser(cmd.Context(), svc, args[0]); err != nil {
					return err
				}
				bs, err = svc.UserBlocks(cmd.Context(), id)
			}
			if err != nil {
				return err
			}
			view := userBlocksJSON{BlockedFor: []userBlockJSON{}}
			rows := make([][]string, 0, len(bs))
			for _, b := range bs {
				view.BlockedFor = append(view.BlockedFor, userBlockJSON{Identifier: b.Identifier, IP: b.IP,
					Connection: b.Connection, Attempts: b.Attempts, BlockedUntil: isoTime(b.Until)})
				ip := b.IP
				if ip == "" {
					ip = "any"
				}
				rows = append(rows, []string{b.Identifier, ip, orDash(b.Connection), itoa(b.Attempts), isoTime(b.Until)})
			}
			return a.output(cmd, view, func(w io.Writer) error {
				if len(rows) == 0 {
					_, err := fmt.Fprintln(w, "No brute-force blocks")
					return err
				}
				return printTable(w, []string{"IDENTIFIER", "IP", "CONNECTION", "ATTEMPTS", "BLOCKED UNTIL"}, rows)
			})
		}),
	}
	cmd.Flags().StringVar(&identifier, "identifier", "", "list the blocks of this email or username instead of a user's")
	return cmd
}

func newUsersCreateCmd(a *app) *cobra.Command {
	var (
		in       admin.UserInput
		pwStdin  bool
		blocked  bool
		verified bool
	)
	cmd := &cobra.Command{
		Use:   "create --connection NAME --email EMAIL [--username NAME] --password-stdin",
		Short: "Create a user; the password is read from stdin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !pwStdin {
				return fmt.Errorf("a password is required: pass it on stdin with --password-stdin (never as a flag)")
			}
			pw, err := readSecretStdin(cmd, "password")
			if err != nil {
				return err
			}
			in.Password, in.Blocked, in.EmailVerified = pw, blocked, verified
			svc, closeFn, err := a.openService(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			u, err := svc.CreateUser(cmd.Context(), in)
			if err != nil {
				return err
			}
			return a.output(cmd, userView(u), func(w io.Writer) error {
				fmt.Fprintf(w, "Created user %s\n", u.ID)
				return printUser(w, u)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Connection, "connection", "", "database connection (required)")
	f.StringVar(&in.Email, "email", "", "email address (required)")
	f.StringVar(&in.Username, "username", "", "username (required when the connection requires one)")
	f.StringVar(&in.Name, "name", "", "full name (default: the email)")
	f.StringVar(&in.GivenName, "given-name", "", "given name")
	f.StringVar(&in.FamilyName, "family-name", "", "family name")
	f.BoolVar(&verified, "email-verified", false, "mark the email as verified")
	f.BoolVar(&blocked, "blocked", false, "create the user blocked")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the password from stdin (first line)")
	return cmd
}

func newUsersSetPasswordCmd(a *app) *cobra.Command {
	var pwStdin, revoke bool
	cmd := &cobra.Command{
		Use:   "set-password USER_ID --password-stdin [--revoke-refresh-tokens]",
		Short: "Set a user's password, read from stdin",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !pwStdin {
				return fmt.Errorf("the new password is read from stdin: pass --password-stdin (never as a flag)")
			}
			pw, err := readSecretStdin(cmd, "password")
			if err != nil {
				return err
			}
			svc, closeFn, err := a.openService(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			if err := svc.SetPassword(cmd.Context(), args[0], pw); err != nil {
				return err
			}
			revoked := 0
			if revoke {
				if revoked, err = svc.RevokeRefreshTokens(cmd.Context(), args[0]); err != nil {
					return err
				}
			}
			return a.output(cmd, map[string]any{"user_id": args[0], "password_changed": true, "revoked_refresh_tokens": revoked}, func(w io.Writer) error {
				fmt.Fprintf(w, "Password changed for user %s\n", args[0])
				if revoke {
					fmt.Fprintf(w, "Revoked %d refresh token families\n", revoked)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from stdin (first line)")
	cmd.Flags().BoolVar(&revoke, "revoke-refresh-tokens", false, "also revoke the user's refresh tokens (signs out every device)")
	return cmd
}

func newUsersImportCmd(a *app) *cobra.Command {
	var (
		connection string
		opts       admin.ImportOptions
	)
	cmd := &cobra.Command{
		Use:   "import --connection NAME FILE [--upsert]",
		Short: "Import users from an Auth0 bulk-import JSON file (- for stdin)",
		Long: `Import users from a file in Auth0's bulk user import format: a JSON array of users with
email, email_verified, user_id, username, given_name, family_name, name, nickname, picture,
blocked, app_metadata, user_metadata and password_hash (bcrypt) or custom_password_hash.
Imported users log in with their old password and are rehashed to argon2id on that login.
Rows fail independently; the command exits non-zero when any row failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			svc, closeFn, err := a.openService(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := svc.ImportUsers(cmd.Context(), connection, r, opts)
			if err != nil {
				return err
			}
			if err := a.output(cmd, rep, func(w io.Writer) error { return printImport(w, rep) }); err != nil {
				return err
			}
			if len(rep.Failed) > 0 {
				return fmt.Errorf("%d of %d users were not imported", len(rep.Failed), rep.Total)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&connection, "connection", "", "database connection to import into (required)")
	cmd.Flags().BoolVar(&opts.Upsert, "upsert", false, "update users that already exist instead of failing them")
	return cmd
}

func printImport(w io.Writer, rep admin.ImportReport) error {
	fmt.Fprintf(w, "Imported %d of %d users: %d inserted, %d updated, %d failed\n", rep.Created+rep.Updated, rep.Total, rep.Created, rep.Updated, len(rep.Failed))
	for _, f := range rep.Failed {
		fmt.Fprintf(w, "  failed  %s\n", f)
	}
	for _, f := range rep.Warnings {
		fmt.Fprintf(w, "  warning %s\n", f)
	}
	return nil
}

func printUser(w io.Writer, u store.User) error {
	fields := [][2]string{
		{"user_id", u.ID},
		{"connection", u.Connection},
		{"email", u.Email},
		{"email_verified", yesNo(u.EmailVerified)},
		{"username", orDash(u.Username)},
		{"name", orDash(u.Name)},
		{"nickname", orDash(u.Nickname)},
		{"blocked", yesNo(u.Blocked)},
		{"logins_count", itoa(u.LoginsCount)},
		{"last_login", orDash(isoTime(u.LastLogin))},
		{"created_at", isoTime(u.CreatedAt)},
	}
	return printFields(w, fields)
}

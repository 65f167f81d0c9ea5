package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/store"
)

func newClientsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "clients",
		Aliases: []string{"apps"},
		Short:   "Manage applications (clients)",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List applications",
			Args:  cobra.NoArgs,
			RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
				cs, err := svc.ListClients(cmd.Context())
				if err != nil {
					return err
				}
				views := make([]clientJSON, 0, len(cs))
				rows := make([][]string, 0, len(cs))
				for _, c := range cs {
					views = append(views, clientView(c, ""))
					rows = append(rows, []string{c.ClientID, c.Name, c.AppType, c.TokenEndpointAuthMethod, shortGrants(c.GrantTypes)})
				}
				return a.output(cmd, views, func(w io.Writer) error {
					return printTable(w, []string{"CLIENT ID", "NAME", "APP TYPE", "AUTH METHOD", "GRANT TYPES"}, rows)
				})
			}),
		},
		&cobra.Command{
			Use:   "show CLIENT_ID",
			Short: "Show an application (never its secret)",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				c, err := svc.GetClient(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.output(cmd, clientView(c, ""), func(w io.Writer) error { return printClient(w, c, "") })
			}),
		},
		newClientsCreateCmd(a),
		newClientsUpdateCmd(a),
		&cobra.Command{
			Use:   "delete CLIENT_ID",
			Short: "Delete an application",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				if err := svc.DeleteClient(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.output(cmd, map[string]string{"deleted": args[0]}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Deleted client %s\n", args[0])
					return err
				})
			}),
		},
		&cobra.Command{
			Use:   "rotate-secret CLIENT_ID",
			Short: "Replace an application's secret (the old one stops working at once)",
			Args:  cobra.ExactArgs(1),
			RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
				secret, err := svc.RotateClientSecret(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				c, err := svc.GetClient(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.output(cmd, clientView(c, secret), func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "New secret for client %s (shown only now):\nclient_secret: %s\n", c.ClientID, secret)
					return err
				})
			}),
		},
	)
	return cmd
}

func newClientsCreateCmd(a *app) *cobra.Command {
	var (
		in          admin.ClientInput
		grants      []string
		secretStdin bool
		rotating    bool
		publicKeys  []string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME [--app-type TYPE] [--grant-types G,...] [--auth-method M] [--public-key FILE]...",
		Short: "Create an application; its secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("grant-types") {
				in.GrantTypes = expandGrants(grants)
			}
			if secretStdin {
				s, err := readSecretStdin(cmd, "client secret")
				if err != nil {
					return err
				}
				in.Secret = s
			}
			for _, file := range publicKeys {
				text, err := os.ReadFile(file)
				if err != nil {
					return fmt.Errorf("--public-key: %w", err)
				}
				in.Credentials = append(in.Credentials, store.ClientCredential{Name: filepath.Base(file), PEM: string(text)})
			}
			if rotating {
				p := admin.DefaultRefreshPolicy(in.AppType)
				p.RotationType, p.ExpirationType = "rotating", "expiring"
				p.InfiniteTokenLifetime, p.InfiniteIdleTokenLifetime = false, false
				in.RefreshToken = &p
			}
			svc, closeFn, err := a.openService(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			c, secret, err := svc.CreateClient(cmd.Context(), in)
			if err != nil {
				return err
			}
			// A secret supplied on stdin is the caller's already; echo only a generated one.
			shown := secret
			if secretStdin {
				shown = ""
			}
			return a.output(cmd, clientView(c, shown), func(w io.Writer) error {
				fmt.Fprintf(w, "Created client %s (%s)\n", c.ClientID, c.Name)
				return printClient(w, c, shown)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "application name (required)")
	f.StringVar(&in.Description, "description", "", "description")
	f.StringVar(&in.ClientID, "client-id", "", "client id (default: 32 random alphanumerics)")
	f.StringVar(&in.AppType, "app-type", "", "non_interactive, regular_web (default), spa or native")
	f.StringSliceVar(&grants, "grant-types", nil, "grant types, comma separated; short forms password-realm, mfa-otp, mfa-oob, mfa-recovery-code, passwordless-otp (default password,password-realm,refresh_token)")
	f.StringVar(&in.TokenEndpointAuthMethod, "auth-method", "", "client_secret_post, client_secret_basic, private_key_jwt or none (default by app type)")
	f.StringVar(&in.IDTokenAlg, "id-token-alg", "", "ID token algorithm: RS256 (default), PS256 or HS256")
	f.StringArrayVar(&publicKeys, "public-key", nil, "PEM file of a public key or certificate for private_key_jwt (RSA of 2048 bits or more, ECDSA P-256/384/521 or Ed25519); repeatable")
	f.BoolVar(&secretStdin, "secret-stdin", false, "read the client secret from stdin instead of generating one")
	f.BoolVar(&rotating, "rotating-refresh-tokens", false, "rotate refresh tokens on every use (and make them expire)")
	f.BoolVar(&in.IsTokenEndpointIPHeaderTrusted, "trust-ip-header", false, "honour auth0-forwarded-for from this (confidential) client")
	f.StringSliceVar(&in.WebOrigins, "web-origins", nil, webOriginsUsage)
	return cmd
}

// webOriginsUsage describes --web-origins (Auth0's Allowed Web Origins).
const webOriginsUsage = "browser origins allowed to call the token endpoint (CORS), comma separated: scheme://host[:port], or https://*.example.com for one level of subdomains"

func newClientsUpdateCmd(a *app) *cobra.Command {
	var origins []string
	cmd := &cobra.Command{
		Use:   "update CLIENT_ID --web-origins ORIGIN,...",
		Short: "Change an application's settings",
		Args:  cobra.ExactArgs(1),
		RunE: a.withService(func(cmd *cobra.Command, args []string, svc *admin.Service) error {
			if !cmd.Flags().Changed("web-origins") {
				return fmt.Errorf("nothing to update: give --web-origins (an empty value clears them)")
			}
			c, err := svc.SetClientWebOrigins(cmd.Context(), args[0], origins)
			if err != nil {
				return err
			}
			return a.output(cmd, clientView(c, ""), func(w io.Writer) error {
				fmt.Fprintf(w, "Updated client %s (%s)\n", c.ClientID, c.Name)
				return printClient(w, c, "")
			})
		}),
	}
	cmd.Flags().StringSliceVar(&origins, "web-origins", nil, webOriginsUsage)
	return cmd
}

// grantShort maps the short forms accepted on the command line to Auth0's grant type URIs.
var grantShort = map[string]string{
	"password-realm":    admin.GrantPasswordRealm,
	"mfa-otp":           admin.GrantMFAOTP,
	"mfa-oob":           admin.GrantMFAOOB,
	"mfa-recovery-code": admin.GrantMFARecoveryCode,
	"passwordless-otp":  admin.GrantPasswordlessOTP,
}

func expandGrants(gs []string) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		g = strings.TrimSpace(g)
		if long, ok := grantShort[g]; ok {
			g = long
		}
		out = append(out, g)
	}
	return out
}

func shortGrants(gs []string) string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		for short, long := range grantShort {
			if g == long {
				g = short
			}
		}
		out = append(out, g)
	}
	return strings.Join(out, ",")
}

func printClient(w io.Writer, c store.Client, secret string) error {
	fields := [][2]string{
		{"client_id", c.ClientID},
		{"name", c.Name},
		{"app_type", c.AppType},
		{"token_endpoint_auth_method", c.TokenEndpointAuthMethod},
		{"grant_types", strings.Join(c.GrantTypes, " ")},
		{"id token alg", c.IDTokenAlg},
		{"id token lifetime", itoa(c.IDTokenLifetime) + "s"},
		{"refresh tokens", c.RefreshToken.RotationType + ", " + c.RefreshToken.ExpirationType},
	}
	if c.Description != "" {
		fields = append(fields, [2]string{"description", c.Description})
	}
	if len(c.WebOrigins) > 0 {
		fields = append(fields, [2]string{"web_origins", strings.Join(c.WebOrigins, " ")})
	}
	if secret != "" {
		fields = append(fields, [2]string{"client_secret", secret + "  (shown only now: store it safely)"})
	}
	return printFields(w, fields)
}

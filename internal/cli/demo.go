package cli

import (
	"crypto/rand"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/apiauth"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/demoapi"
	"github.com/sesameauth/sesame/internal/server"
)

//go:embed demodata/tenant.yaml
var demoTenant []byte

// The demo tenant's fixed names (see demodata/tenant.yaml).
const (
	demoDB         = "sqlite://./sesame-demo.db"
	demoAPI        = "https://sample-api.example.com"
	demoConnection = "Username-Password-Authentication"
	demoAppName    = "Demo App"
	demoNativeName = "Demo Native App"
	demoUserEmail  = "demo@example.com"
)

func newDemoCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the server on an embedded SQLite file with a ready demo tenant and sample API",
		Long: `Run the server with a demo tenant: an API (` + demoAPI + `), a confidential and a public
application, a user database with one user, and a sample API under /api/ that checks the access
tokens. The database is ./sesame-demo.db unless --db says otherwise. The demo app's secret and the
demo user's password are generated at every start and printed with a curl command that gets tokens.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.resolveServerConfig(cmd)
			if err != nil {
				return err
			}
			// The demo's own settings, applied again to the config a SIGHUP re-reads.
			a.adjustConfig = func(cfg *config.Server) {
				if _, set := a.env("SESAME_DB"); !set && !cmd.Flags().Changed("db") && a.flags.config == "" {
					cfg.DB = demoDB
				}
				// The demo is development: with the default log sender, email and SMS codes
				// are read from the log.
				cfg.DevLogMFACodes = true
				// Metrics are on in the demo, on a loopback port of their own.
				if cfg.MetricsAddr == "" {
					cfg.MetricsAddr = "127.0.0.1:0"
				}
			}
			a.adjustConfig(&cfg)
			creds, err := a.prepareDemo(cmd, cfg)
			if err != nil {
				return err
			}
			// The sample API checks tokens against this server's own JWKS, over loopback.
			roots := x509.NewCertPool()
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsTrusting(roots)}}
			v, err := apiauth.New(apiauth.Config{Issuer: cfg.EffectiveIssuer(), Audience: demoAPI, HTTPClient: client})
			if err != nil {
				return err
			}
			opts := server.Options{Mount: map[string]http.Handler{"/api/": demoapi.Handler(v)}}
			return a.runServer(cmd, cfg, opts, func(srv *server.Server) error {
				if c := srv.SelfSignedCertificate(); c != nil {
					roots.AddCert(c.Leaf)
				}
				if err := printDemoBanner(cmd.OutOrStdout(), srv.Issuer, creds, cfg.TLSEnabled()); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "Prometheus metrics: curl http://%s/metrics\n", srv.MetricsAddr())
				return err
			})
		},
	}
	serverFlags(cmd.Flags())
	return cmd
}

// demoCredentials are what the banner prints.
type demoCredentials struct {
	AppID, AppSecret, NativeID, Password string
}

// prepareDemo applies the demo tenant with a new password for the demo user, then gives the demo
// app a new secret: neither can be read back from the store, which keeps only hashes.
func (a *app) prepareDemo(cmd *cobra.Command, cfg config.Server) (demoCredentials, error) {
	ctx := cmd.Context()
	b, err := a.openBackendWith(cmd, cfg, true)
	if err != nil {
		return demoCredentials{}, err
	}
	defer b.Close()
	creds := demoCredentials{Password: demoPassword()}
	tf, err := config.ParseTenantFile(demoTenant, config.TenantOptions{Vars: map[string]string{"DEMO_PASSWORD": creds.Password}})
	if err != nil {
		return demoCredentials{}, fmt.Errorf("demo tenant: %w", err)
	}
	if _, err := b.svc.Apply(ctx, tf); err != nil {
		return demoCredentials{}, fmt.Errorf("applying the demo tenant: %w", err)
	}
	clients, err := b.svc.ListClients(ctx)
	if err != nil {
		return creds, err
	}
	for _, c := range clients {
		switch c.Name {
		case demoAppName:
			creds.AppID = c.ClientID
		case demoNativeName:
			creds.NativeID = c.ClientID
		}
	}
	if creds.AppID == "" || creds.NativeID == "" {
		return creds, errors.New("demo tenant: demo applications missing after apply")
	}
	creds.AppSecret, err = b.svc.RotateClientSecret(ctx, creds.AppID)
	return creds, err
}

// demoPassword is a fresh random password that is safe to paste into a shell. Its fixed prefix
// holds a lower-case and an upper-case letter and a digit, so that it meets the connection's
// password policy whatever the random part happens to contain.
func demoPassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "Demo1-" + base64.RawURLEncoding.EncodeToString(b)
}

var demoBanner = template.Must(template.New("banner").Parse(`
Sesame demo is running at {{.Issuer}}

  Demo App (confidential)  client_id      {{.AppID}}
                           client_secret  {{.AppSecret}}
  Demo Native App (public) client_id      {{.NativeID}}
  User                     username       {{.User}}
                           password       {{.Password}}
  API                      identifier     {{.API}}   scopes: read:sample write:sample
  Connection               {{.Connection}} (the default directory)

Get tokens (Resource Owner Password grant):

  curl{{.K}} -s {{.Issuer}}oauth/token \
    -d grant_type=password -d client_id={{.AppID}} -d client_secret={{.AppSecret}} \
    -d username={{.User}} -d password={{.Password}} \
    -d audience={{.API}} -d 'scope=openid profile email offline_access'

Call the sample API with the access_token from that answer:

  curl{{.K}} -s {{.Issuer}}api/private-scoped -H "Authorization: Bearer ACCESS_TOKEN"

Refresh (each refresh token works once; the answer carries the next one):

  curl{{.K}} -s {{.Issuer}}oauth/token -d grant_type=refresh_token \
    -d client_id={{.AppID}} -d client_secret={{.AppSecret}} -d refresh_token=REFRESH_TOKEN

Also: {{.Issuer}}.well-known/openid-configuration, {{.Issuer}}userinfo, {{.Issuer}}api/public
`))

func printDemoBanner(w io.Writer, issuer string, c demoCredentials, tls bool) error {
	k := ""
	if tls {
		k = " -k" // the development certificate is self-signed
	}
	return demoBanner.Execute(w, map[string]string{
		"Issuer": issuer, "AppID": c.AppID, "AppSecret": c.AppSecret, "NativeID": c.NativeID,
		"User": demoUserEmail, "Password": c.Password, "API": demoAPI, "Connection": demoConnection, "K": k,
	})
}

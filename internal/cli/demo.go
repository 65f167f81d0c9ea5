package cli

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/apiauth"
	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/demoapi"
	"github.com/sesameauth/sesame/internal/server"
	"github.com/sesameauth/sesame/internal/store"
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
	demoMgmtName   = "Demo Management Client"
	// demoCertFile is where the demo writes its self-signed certificate (--tls-self-signed),
	// for the Deploy CLI and the SDKs to trust (NODE_EXTRA_CA_CERTS, curl --cacert).
	demoCertFile  = "sesame-demo-cert.pem"
	demoUserEmail = "demo@example.com"
)

func newDemoCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the server on an embedded SQLite file with a ready demo tenant and sample API",
		Long: `Run the server with a demo tenant: an API (` + demoAPI + `), a confidential and a public
application, a user database with one user, and a sample API under /api/ that checks the access
tokens, and a machine client with every Management API scope. The database is ./sesame-demo.db
unless --db says otherwise. The demo apps' secrets and the demo user's password are generated at
every start and printed with curl commands that get tokens and call the Management API, and the
environment for Auth0's Deploy CLI (a0deploy), which needs https: with --tls-self-signed the
certificate is written to ./` + demoCertFile + ` for it to trust.`,
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
				// The self-signed certificate is made with the TLS config, which Serve would
				// build only after this: build it now (it is kept) so that the sample API
				// trusts it and the banner can name its file.
				if _, err := srv.TLSConfig(); err != nil {
					return err
				}
				certFile := cfg.TLSCert
				if c := srv.SelfSignedCertificate(); c != nil {
					roots.AddCert(c.Leaf)
					if certFile, err = writeDemoCert(c.Leaf.Raw); err != nil {
						return err
					}
				}
				if err := printDemoBanner(cmd.OutOrStdout(), srv.Issuer, creds, cfg.TLSEnabled(), certFile, cfg.TLSSelfSigned); err != nil {
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
	MgmtID, MgmtSecret                   string
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
		case demoMgmtName:
			creds.MgmtID = c.ClientID
		}
	}
	if creds.AppID == "" || creds.NativeID == "" || creds.MgmtID == "" {
		return creds, errors.New("demo tenant: demo applications missing after apply")
	}
	if err := grantAllManagementScopes(ctx, b.svc, creds.MgmtID); err != nil {
		return creds, err
	}
	if err := prepareDemoConsole(ctx, b.svc, cfg.EffectiveIssuer()); err != nil {
		return creds, err
	}
	if creds.AppSecret, err = b.svc.RotateClientSecret(ctx, creds.AppID); err != nil {
		return creds, err
	}
	creds.MgmtSecret, err = b.svc.RotateClientSecret(ctx, creds.MgmtID)
	return creds, err
}

// grantAllManagementScopes gives clientID a client grant for this server's Management API with
// every management scope, creating it or bringing its scopes up to date.
func grantAllManagementScopes(ctx context.Context, svc *admin.Service, clientID string) error {
	grants, err := svc.ListClientGrants(ctx, store.ClientGrantFilter{ClientID: clientID, Audience: svc.ManagementAudience})
	if err != nil {
		return err
	}
	if len(grants) > 0 {
		_, err = svc.UpdateClientGrant(ctx, grants[0].ID, admin.ManagementScopes)
		return err
	}
	_, err = svc.CreateClientGrant(ctx, admin.ClientGrantInput{ClientID: clientID, Audience: svc.ManagementAudience, Scope: admin.ManagementScopes})
	return err
}

// writeDemoCert writes the demo's self-signed certificate (DER) as PEM to demoCertFile in the
// working directory and returns its absolute path. It is public (a certificate, no key).
func writeDemoCert(der []byte) (string, error) {
	path, err := filepath.Abs(demoCertFile)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", fmt.Errorf("writing the demo certificate: %w", err)
	}
	return path, nil
}

// prepareDemoConsole lets the demo user into the web console: the console's application may
// use the demo connection (applying the demo tenant set that connection's applications to the
// file's list), and the user holds every Management API permission.
func prepareDemoConsole(ctx context.Context, svc *admin.Service, issuer string) error {
	if err := svc.EnsureManagementAPI(ctx); err != nil {
		return err
	}
	console, err := svc.EnsureConsoleClient(ctx, issuer)
	if err != nil {
		return fmt.Errorf("demo console: %w", err)
	}
	if err := svc.EnableClient(ctx, demoConnection, console.ClientID); err != nil {
		return fmt.Errorf("demo console: %w", err)
	}
	us, err := svc.FindUsers(ctx, demoUserEmail)
	if err != nil {
		return err
	}
	if len(us) != 1 {
		return fmt.Errorf("demo tenant: %d users named %s", len(us), demoUserEmail)
	}
	return svc.GrantAdmin(ctx, us[0].ID)
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

Web console: {{.Issuer}}console/ (sign in as {{.User}}: the demo makes that user an administrator)

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

Management API ({{.MgmtAPI}}, Auth0's Management API v2):

  Demo Management Client   client_id      {{.MgmtID}}
  (every management scope) client_secret  {{.MgmtSecret}}

  curl{{.K}} -s {{.Issuer}}oauth/token -d grant_type=client_credentials \
    -d client_id={{.MgmtID}} -d client_secret={{.MgmtSecret}} -d audience={{.MgmtAPI}}

  curl{{.K}} -s {{.MgmtAPI}}users -H "Authorization: Bearer MGMT_ACCESS_TOKEN"
{{if .CertFile}}
Auth0 Deploy CLI (npm auth0-deploy-cli: a0deploy export / import) against this tenant:

  export AUTH0_DOMAIN={{.Domain}} AUTH0_CLIENT_ID={{.MgmtID}} \
    AUTH0_CLIENT_SECRET={{.MgmtSecret}} \
    NODE_EXTRA_CA_CERTS={{.CertFile}}
  a0deploy export --format yaml --output_folder ./tenant-export
{{if not .SelfSigned}}
  (NODE_EXTRA_CA_CERTS names --tls-cert; if a private CA signed it, name that CA's certificate
  instead, and leave it out for a publicly trusted one.)
{{end}}{{else}}
Auth0 Deploy CLI and the SDKs' management clients speak https only: restart the demo with
--tls-self-signed (or --tls-cert/--tls-key) and it prints their environment.
{{end}}`))

// printDemoBanner prints what the demo made and how to use it. certFile is the certificate
// clients must trust ("" without TLS); selfSigned says the demo made it.
func printDemoBanner(w io.Writer, issuer string, c demoCredentials, tls bool, certFile string, selfSigned bool) error {
	k := ""
	switch {
	case tls && certFile != "" && selfSigned:
		k = " --cacert " + certFile // trust exactly the demo's certificate
	case tls:
		k = " -k" // a certificate the demo cannot name a trust anchor for
	}
	domain := issuer
	if u, err := url.Parse(issuer); err == nil {
		domain = u.Host
	}
	if !tls {
		certFile = ""
	}
	return demoBanner.Execute(w, map[string]any{
		"Issuer": issuer, "AppID": c.AppID, "AppSecret": c.AppSecret, "NativeID": c.NativeID,
		"User": demoUserEmail, "Password": c.Password, "API": demoAPI, "Connection": demoConnection, "K": k,
		"MgmtID": c.MgmtID, "MgmtSecret": c.MgmtSecret, "MgmtAPI": admin.ManagementAudience(issuer),
		"Domain": domain, "CertFile": certFile, "SelfSigned": selfSigned,
	})
}

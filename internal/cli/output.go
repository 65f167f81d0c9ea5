package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store"
	"github.com/sesameauth/sesame/internal/token"
)

// The JSON views below use the Auth0 Management API's field names, so that scripts written
// against `auth0` CLI output or the Management API read them unchanged. Secrets and password
// hashes have no field here except client_secret, which only create and rotate-secret fill.

type clientJSON struct {
	ClientID                string            `json:"client_id"`
	Name                    string            `json:"name"`
	Description             string            `json:"description,omitempty"`
	AppType                 string            `json:"app_type"`
	GrantTypes              []string          `json:"grant_types"`
	TokenEndpointAuthMethod string            `json:"token_endpoint_auth_method"`
	ClientSecret            string            `json:"client_secret,omitempty"`
	IsFirstParty            bool              `json:"is_first_party"`
	JWTConfiguration        jwtConfigJSON     `json:"jwt_configuration"`
	RefreshToken            refreshJSON       `json:"refresh_token"`
	IPHeaderTrusted         bool              `json:"is_token_endpoint_ip_header_trusted"`
	ClientMetadata          map[string]string `json:"client_metadata,omitempty"`
	Credentials             []credentialJSON  `json:"credentials,omitempty"`
	WebOrigins              []string          `json:"web_origins"`
}

type jwtConfigJSON struct {
	Alg               string `json:"alg"`
	LifetimeInSeconds int    `json:"lifetime_in_seconds"`
}

type refreshJSON struct {
	RotationType              string `json:"rotation_type"`
	ExpirationType            string `json:"expiration_type"`
	Leeway                    int    `json:"leeway"`
	TokenLifetime             int    `json:"token_lifetime"`
	InfiniteTokenLifetime     bool   `json:"infinite_token_lifetime"`
	IdleTokenLifetime         int    `json:"idle_token_lifetime"`
	InfiniteIdleTokenLifetime bool   `json:"infinite_idle_token_lifetime"`
}

type credentialJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	CreatedAt string `json:"created_at"`
}

func clientView(c store.Client, secret string) clientJSON {
	v := clientJSON{
		ClientID: c.ClientID, Name: c.Name, Description: c.Description, AppType: c.AppType,
		GrantTypes: nonNil(c.GrantTypes), TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		ClientSecret: secret, IsFirstParty: true,
		JWTConfiguration: jwtConfigJSON{Alg: c.IDTokenAlg, LifetimeInSeconds: c.IDTokenLifetime},
		RefreshToken: refreshJSON{
			RotationType: c.RefreshToken.RotationType, ExpirationType: c.RefreshToken.ExpirationType,
			Leeway: c.RefreshToken.Leeway, TokenLifetime: c.RefreshToken.TokenLifetime,
			InfiniteTokenLifetime:     c.RefreshToken.InfiniteTokenLifetime,
			IdleTokenLifetime:         c.RefreshToken.IdleTokenLifetime,
			InfiniteIdleTokenLifetime: c.RefreshToken.InfiniteIdleTokenLifetime,
		},
		IPHeaderTrusted: c.IsTokenEndpointIPHeaderTrusted,
		ClientMetadata:  c.Metadata,
		WebOrigins:      nonNil(c.WebOrigins),
	}
	for _, cr := range c.Credentials {
		v.Credentials = append(v.Credentials, credentialJSON{ID: cr.ID, Name: cr.Name, CreatedAt: isoTime(cr.CreatedAt)})
	}
	return v
}

type apiJSON struct {
	ID                 string      `json:"id"`
	Identifier         string      `json:"identifier"`
	Name               string      `json:"name"`
	Scopes             []scopeJSON `json:"scopes"`
	SigningAlg         string      `json:"signing_alg"`
	AllowOfflineAccess bool        `json:"allow_offline_access"`
	TokenLifetime      int         `json:"token_lifetime"`
	TokenDialect       string      `json:"token_dialect"`
	EnforcePolicies    bool        `json:"enforce_policies"`
}

type scopeJSON struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

func apiView(rs store.ResourceServer) apiJSON {
	v := apiJSON{
		ID: rs.ID, Identifier: rs.Identifier, Name: rs.Name, Scopes: []scopeJSON{},
		SigningAlg: rs.SigningAlg, AllowOfflineAccess: rs.AllowOfflineAccess,
		TokenLifetime: rs.TokenLifetime, TokenDialect: rs.TokenDialect, EnforcePolicies: rs.EnforcePolicies,
	}
	for _, s := range rs.Scopes {
		v.Scopes = append(v.Scopes, scopeJSON(s))
	}
	return v
}

type connectionJSON struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Strategy       string         `json:"strategy"`
	EnabledClients []string       `json:"enabled_clients"`
	Options        map[string]any `json:"options"`
}

func connectionView(c store.Connection) connectionJSON {
	opts := c.Options
	if opts == nil {
		opts = map[string]any{}
	}
	// Sealed secrets (LDAP bind credentials) are never shown.
	opts = admin.PublicConnectionOptions(c.Strategy, opts)
	return connectionJSON{ID: c.ID, Name: c.Name, Strategy: c.Strategy, EnabledClients: nonNil(c.EnabledClients), Options: opts}
}

type userJSON struct {
	UserID        string         `json:"user_id"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Username      string         `json:"username,omitempty"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Blocked       bool           `json:"blocked"`
	LoginsCount   int            `json:"logins_count"`
	LastLogin     string         `json:"last_login,omitempty"`
	LastIP        string         `json:"last_ip,omitempty"`
	CreatedAt     string         `json:"created_at"`
	UpdatedAt     string         `json:"updated_at"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	Identities    []identityJSON `json:"identities"`
}

type identityJSON struct {
	Connection string `json:"connection"`
	Provider   string `json:"provider"`
	UserID     string `json:"user_id"`
	IsSocial   bool   `json:"isSocial"`
}

func userView(u store.User) userJSON {
	provider, id, ok := strings.Cut(u.ID, "|")
	if !ok {
		provider, id = "auth0", u.ID
	}
	return userJSON{
		UserID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Username: u.Username,
		Name: u.Name, Nickname: u.Nickname, Picture: u.Picture, GivenName: u.GivenName,
		FamilyName: u.FamilyName, Blocked: u.Blocked, LoginsCount: u.LoginsCount,
		LastLogin: isoTime(u.LastLogin), LastIP: u.LastIP,
		CreatedAt: isoTime(u.CreatedAt), UpdatedAt: isoTime(u.UpdatedAt),
		AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata,
		Identities: []identityJSON{{Connection: u.Connection, Provider: provider, UserID: id}},
	}
}

type keyJSON struct {
	KID          string `json:"kid"`
	Alg          string `json:"alg"`
	State        string `json:"state"`
	Thumbprint   string `json:"thumbprint,omitempty"`
	CreatedAt    string `json:"created_at"`
	ActivatedAt  string `json:"activated_at,omitempty"`
	PublishUntil string `json:"publish_until,omitempty"`
}

func keyView(k token.KeyInfo) keyJSON {
	return keyJSON{KID: k.KID, Alg: k.Alg, State: k.State, Thumbprint: k.Thumbprint,
		CreatedAt: isoTime(k.CreatedAt), ActivatedAt: isoTime(k.ActivatedAt), PublishUntil: isoTime(k.PublishUntil)}
}

// isoTime renders a time the way Auth0 does (ISO 8601, UTC, milliseconds); zero is "".
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// printJSON writes v indented, with a trailing newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printTable writes a header and rows aligned in columns.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// printFields writes "name: value" lines aligned, for show commands.
func printFields(w io.Writer, fields [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s:\t%s\n", f[0], f[1])
	}
	return tw.Flush()
}

// output prints v as JSON with --json, else calls text.
func (a *app) output(cmd *cobra.Command, v any, text func(w io.Writer) error) error {
	if a.flags.json {
		return printJSON(cmd.OutOrStdout(), v)
	}
	return text(cmd.OutOrStdout())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func itoa(n int) string { return strconv.Itoa(n) }

// readSecretStdin reads a password or secret from stdin: the first line, without its line
// ending. Secrets never come from flags, which leak into shell history and process lists.
func readSecretStdin(cmd *cobra.Command, what string) (string, error) {
	r := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 64<<10))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the %s from stdin: %w", what, err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("no %s on stdin", what)
	}
	return line, nil
}

// renderError formats an error for the terminal: validation problems one per line with their
// field, config problems with their key.
func renderError(err error) string {
	var ce *config.ServerConfigError
	if errors.As(err, &ce) && len(ce.Problems) > 1 {
		return "invalid server config:\n  " + strings.ReplaceAll(ce.Error(), "\n", "\n  ")
	}
	var ve *admin.ValidationError
	if errors.As(err, &ve) && strings.Contains(err.Error(), "\n") {
		return "invalid input:\n  " + strings.ReplaceAll(err.Error(), "\n", "\n  ")
	}
	return err.Error()
}

// redactDSN hides a PostgreSQL URL's password for printing.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

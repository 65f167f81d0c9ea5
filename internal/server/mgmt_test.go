package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
)

// TestManagementAPIServed: sesame serve answers the Management API under {issuer}api/v2/ with a
// client-credentials token for its audience. The client grant names the audience as an Auth0
// export does (https://<Auth0 tenant>/api/v2/), which means this server's Management API.
func TestManagementAPIServed(t *testing.T) {
	srv, base, client := startServer(t, nil)
	ctx := t.Context()
	m2m, secret, err := srv.Admin.CreateClient(ctx, admin.ClientInput{Name: "Deploy CLI", AppType: admin.AppNonInteractive,
		GrantTypes: []string{admin.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := srv.Admin.CreateClientGrant(ctx, admin.ClientGrantInput{ClientID: m2m.ClientID,
		Audience: "https://acme.eu.auth0.com/api/v2/", Scope: []string{"read:clients"}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Audience != srv.Issuer+"api/v2/" {
		t.Fatalf("grant audience %q, want this server's %q", g.Audience, srv.Issuer+"api/v2/")
	}
	res, err := client.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {m2m.ClientID}, "client_secret": {secret}, "audience": {srv.Issuer + "api/v2/"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || tok.Scope != "read:clients" {
		t.Fatalf("token: %d %+v %v", res.StatusCode, tok, err)
	}
	call := func(path string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := call("/api/v2/clients"); code != 200 || !strings.Contains(body, `"name":"Deploy CLI"`) {
		t.Errorf("GET /api/v2/clients: %d %s", code, body)
	}
	// Two: the Deploy CLI's and the console's own (made by Open).
	if code, body := call("/api/v2/clients?include_totals=true"); code != 200 || !strings.Contains(body, `"total":2`) {
		t.Errorf("GET /api/v2/clients?include_totals=true: %d %s", code, body)
	}
}

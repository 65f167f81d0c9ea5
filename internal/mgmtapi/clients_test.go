package mgmtapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/password"
)

func publicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestClients: create, read, patch (only given fields change, metadata merges), rotate the
// secret, delete; each answer in Auth0's shape, each refusal in Auth0's error body.
func TestClients(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "read:clients", "create:clients", "update:clients", "delete:clients", "update:client_keys")
	r := e.do(t, "POST", "/clients", tok, map[string]any{
		"name": "Billing", "app_type": "non_interactive", "grant_types": []string{"client_credentials"},
		"client_metadata": map[string]any{"team": "billing", "tier": "1"}, "callbacks": []string{"https://ignored.example/cb"},
	})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	created := r.obj(t)
	id, _ := created["client_id"].(string)
	secret, _ := created["client_secret"].(string)
	if id == "" || len(secret) < password.MinSecretLength || created["token_endpoint_auth_method"] != "client_secret_post" ||
		created["app_type"] != "non_interactive" {
		t.Fatalf("created client %s", r.raw)
	}
	stored, err := e.svc.GetClient(t.Context(), id)
	if err != nil || !password.VerifySecret(stored.SecretHash, secret) {
		t.Fatalf("the secret answered is not the stored one (%v)", err)
	}

	r = e.do(t, "GET", "/clients/"+id, tok, nil)
	if r.status != 200 || r.obj(t)["name"] != "Billing" || r.obj(t)["client_secret"] != nil {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}

	r = e.do(t, "PATCH", "/clients/"+id, tok, map[string]any{
		"description": "invoices", "client_metadata": map[string]any{"tier": nil, "region": "eu"},
		"refresh_token": map[string]any{"leeway": 30},
	})
	if r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	p := r.obj(t)
	md := p["client_metadata"].(map[string]any)
	if p["name"] != "Billing" || p["description"] != "invoices" || md["team"] != "billing" || md["region"] != "eu" ||
		md["tier"] != nil || p["refresh_token"].(map[string]any)["leeway"] != float64(30) ||
		p["refresh_token"].(map[string]any)["rotation_type"] != "non-rotating" {
		t.Errorf("patched client %s", r.raw)
	}
	stored2, _ := e.svc.GetClient(t.Context(), id)
	if stored2.SecretHash != stored.SecretHash {
		t.Error("a patch without client_secret changed the secret")
	}

	r = e.do(t, "POST", "/clients/"+id+"/rotate-secret", tok, nil)
	newSecret, _ := r.obj(t)["client_secret"].(string)
	if r.status != 200 || newSecret == "" || newSecret == secret {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}

	e.runErrCases(t, tok, []errCase{
		{"unknown client", "GET", "/clients/nope", nil, 404, "inexistent_client"},
		{"patch unknown", "PATCH", "/clients/nope", map[string]any{"name": "x"}, 404, "inexistent_client"},
		{"bad app type", "PATCH", "/clients/" + id, map[string]any{"app_type": "mainframe"}, 400, "invalid_body"},
		{"wrong type", "PATCH", "/clients/" + id, map[string]any{"name": 5}, 400, "invalid_body"},
		{"not JSON", "POST", "/clients", "{", 400, "invalid_body"},
		{"no name", "POST", "/clients", map[string]any{"app_type": "spa"}, 400, "invalid_body"},
		{"public client rotate", "POST", "/clients/" + e.mustClient(t, admin.ClientInput{Name: "SPA", AppType: "spa"}).ClientID + "/rotate-secret", nil, 400, "invalid_body"},
	})
	wantError(t, e.do(t, "GET", "/clients/nope", tok, nil), 404, "inexistent_client", "The client does not exist.")
	if msg := e.do(t, "POST", "/clients", tok, map[string]any{"app_type": "spa"}).obj(t)["message"]; msg != "Payload validation error: name: is required" {
		t.Errorf("message %q", msg)
	}

	if r := e.do(t, "DELETE", "/clients/"+id, tok, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", "/clients/"+id, tok, nil); r.status != 404 {
		t.Errorf("get after delete: %d", r.status)
	}
}

// TestClientCredentials: private_key_jwt public keys are added, listed, read and removed;
// the last key of a private_key_jwt client cannot go.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "create:clients", "read:client_credentials", "create:client_credentials", "delete:client_credentials")
	r := e.do(t, "POST", "/clients", tok, map[string]any{"name": "Signed", "app_type": "non_interactive",
		"client_authentication_methods": map[string]any{"private_key_jwt": map[string]any{"credentials": []any{
			map[string]any{"name": "first", "credential_type": "public_key", "pem": publicKeyPEM(t)}}}}})
	if r.status != 201 || r.obj(t)["token_endpoint_auth_method"] != "private_key_jwt" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.obj(t)["client_id"].(string)
	base := "/clients/" + id + "/credentials"
	r = e.do(t, "POST", base, tok, map[string]any{"name": "second", "credential_type": "public_key", "pem": publicKeyPEM(t)})
	if r.status != 201 || r.obj(t)["name"] != "second" {
		t.Fatalf("add: %d %s", r.status, r.raw)
	}
	second := r.obj(t)["id"].(string)
	if r := e.do(t, "POST", base, tok, map[string]any{"name": "junk", "pem": "not a key"}); r.status != 400 {
		t.Errorf("bad pem: %d %s", r.status, r.raw)
	}
	list := e.do(t, "GET", base, tok, nil).arr(t)
	if len(list) != 2 {
		t.Fatalf("list: %v", list)
	}
	first := list[0].(map[string]any)["id"].(string)
	if r := e.do(t, "GET", base+"/"+second, tok, nil); r.status != 200 || r.obj(t)["credential_type"] != "public_key" {
		t.Errorf("get: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "DELETE", base+"/"+first, tok, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "DELETE", base+"/"+second, tok, nil); r.status != 400 {
		t.Errorf("delete of the last key: %d %s, want 400", r.status, r.raw)
	}
	wantError(t, e.do(t, "GET", base+"/cred_nope", tok, nil), 404, "inexistent_credential", "The credential does not exist.")
}

package admin_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestApplyFileRules proves the rules a tenant file's records must keep, which admin owns
// (config only parses): Apply reports every broken one at its path in the file and writes
// nothing. Where the file names what the store lacks (a user's connection, a grant's client),
// the problems against the store follow the file's own.
func TestApplyFileRules(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "unknown grant type",
			yaml: `
clients:
  - {name: a, grant_types: [password]}
  - {name: b}
  - {name: c, grant_types: [pasword, refresh_token]}`,
			want: []string{`clients[2].grant_types[0]: unknown grant type "pasword"`},
		},
		{
			name: "client grants",
			yaml: `
clients: [{name: a, app_type: non_interactive}]
resourceServers: [{identifier: https://api, scopes: [{value: read}]}]
clientGrants:
  - {client_id: a, audience: https://api, scope: [read, ""]}
  - {audience: https://api}
  - {client_id: a}
  - {client_id: a, audience: https://api}`,
			want: []string{
				"clientGrants[0].scope[1]: must not be empty",
				"clientGrants[1].client_id: is required",
				"clientGrants[2].audience: is required",
				`clientGrants[3]: grants "a" the audience "https://api" again (see clientGrants[0]): one grant per client and audience`,
			},
		},
		{
			name: "client name missing and duplicated",
			yaml: `
clients:
  - {app_type: spa}
  - {name: x}
  - {name: x}`,
			want: []string{
				"clients[0].name: is required",
				`clients[2].name: duplicate client name "x" (also at clients[1])`,
			},
		},
		{
			// The Management API's rules for a name and a client_id (checkName, checkClientID).
			name: "client name and client_id",
			yaml: `
clients:
  - {name: "<b>"}
  - {name: b, client_id: "a~b"}
  - {name: c, client_id: ok-1}
  - {name: d, client_id: ok-1}`,
			want: []string{
				"clients[0].name: must not contain < or >",
				"clients[1].client_id: may only hold letters, digits, '-', '_' and '.'",
				"clients[3].client_id: duplicate client_id (also at clients[2])",
			},
		},
		{
			name: "bad enums",
			yaml: `
clients:
  - name: a
    app_type: website
    token_endpoint_auth_method: secret
    jwt_configuration: {alg: ES256, lifetime_in_seconds: 0}
    refresh_token: {rotation_type: sometimes, expiration_type: never, leeway: -1}`,
			want: []string{
				`clients[0].refresh_token.rotation_type: must be one of rotating, non-rotating, got "sometimes"`,
				`clients[0].refresh_token.expiration_type: must be one of expiring, non-expiring, got "never"`,
				"clients[0].refresh_token.leeway: must not be negative",
				`clients[0].app_type: "website" is not one of non_interactive, regular_web, spa, native`,
				`clients[0].token_endpoint_auth_method: "secret" is not one of client_secret_post, client_secret_basic, private_key_jwt, none`,
				`clients[0].jwt_configuration.alg: "ES256" is not RS256, PS256 or HS256`,
				"clients[0].jwt_configuration.lifetime_in_seconds: 0 is outside 1..31104000",
			},
		},
		{
			name: "secrets",
			yaml: `
clients:
  - {name: short, client_secret: tooshort}
  - {name: spa, app_type: spa, client_secret: 0123456789abcdef0123456789abcdef}
  - {name: cc, app_type: native, grant_types: [client_credentials]}
  - {name: hs, token_endpoint_auth_method: none, jwt_configuration: {alg: HS256}}`,
			want: []string{
				"clients[0].client_secret: must be at least 32 characters",
				"clients[1].client_secret: a public client (token_endpoint_auth_method none) has no secret",
				"clients[2].grant_types[0]: client_credentials needs a confidential client, but token_endpoint_auth_method is none",
				"clients[3].jwt_configuration.alg: HS256 signs with the client secret, which a public client does not have",
			},
		},
		{
			name: "credentials",
			yaml: `
clients:
  - name: a
    token_endpoint_auth_method: private_key_jwt
    client_authentication_methods: {private_key_jwt: {credentials: []}}
  - name: b
    client_authentication_methods:
      private_key_jwt:
        credentials:
          - {name: k1, credential_type: x509, pem: "not a pem"}
          - name: k2
            credential_type: public_key
            pem: |
              -----BEGIN PRIVATE KEY-----
              AAAA
              -----END PRIVATE KEY-----
          - {name: k3, credential_type: public_key}`,
			// What a usable key is and that private_key_jwt needs one, the plan decides on the
			// record as it will be stored: its problems follow the file's own.
			want: []string{
				`clients[1].client_authentication_methods.private_key_jwt.credentials[0].credential_type: must be public_key, got "x509"`,
				"clients[1].client_authentication_methods.private_key_jwt.credentials[2].pem: is required",
				"clients[0].client_authentication_methods.private_key_jwt.credentials: private_key_jwt needs at least one credential",
				"clients[1].client_authentication_methods.private_key_jwt.credentials[0].pem: is not PEM",
				"clients[1].client_authentication_methods.private_key_jwt.credentials[1].pem: is a private key: register the public key or certificate only",
			},
		},
		{
			name: "refresh lifetimes",
			yaml: `
clients:
  - name: a
    refresh_token: {token_lifetime: 100, idle_token_lifetime: 200}
  - name: b
    refresh_token: {token_lifetime: 0, idle_token_lifetime: 99999999}`,
			want: []string{
				"clients[0].refresh_token.idle_token_lifetime: must not exceed token_lifetime (100)",
				"clients[1].refresh_token.token_lifetime: must be between 1 and 31557600 seconds",
				"clients[1].refresh_token.idle_token_lifetime: must be between 1 and 31557600 seconds",
			},
		},
		{
			name: "connections",
			yaml: `
databases:
  - {name: "-bad-"}
  - {name: users, strategy: ad}
  - {enabled_clients: [""]}
connections:
  - {name: users, strategy: auth0}`,
			want: []string{
				`databases[0].name: "-bad-" may only hold letters, digits and single hyphens between them`,
				`databases[1].strategy: must be auth0, got "ad"`,
				"databases[2].name: is required",
				"databases[2].enabled_clients[0]: must not be empty",
				`connections[0].name: duplicate connection name "users" (also at databases[1])`,
				"databases[1].options: is required for strategy ad (ldap_url, ldap_bind_user, ldap_bind_credentials, ldap_base...)",
			},
		},
		{
			name: "passwordless connection in databases",
			yaml: "databases: [{name: email, strategy: email}]",
			want: []string{`databases[0].strategy: must be auth0, got "email"`},
		},
		{
			name: "resource servers",
			yaml: `
resourceServers:
  - name: no identifier
  - identifier: https://a
    scopes: [{value: "read x"}, {value: ""}, {value: r}, {value: r}]
    signing_alg: HS384
    signing_secret: short
    token_lifetime: 9999999
    token_dialect: jwt
  - identifier: https://a
  - identifier: https://b
    token_dialect: access_token_authz
    enforce_policies: false`,
			want: []string{
				`resourceServers[2].identifier: duplicate identifier "https://a" (also at resourceServers[1])`,
				"resourceServers[0].identifier: is required",
				`resourceServers[1].signing_alg: "HS384" is not one of RS256, PS256, RS512, HS256, ES256, EdDSA`,
				"resourceServers[1].token_lifetime: 9999999 is outside 1..2592000 seconds",
				`resourceServers[1].token_dialect: "jwt" is not one of access_token, access_token_authz, rfc9068_profile, rfc9068_profile_authz`,
				`resourceServers[1].scopes[0].value: "read x" may not contain spaces, quotes, backslashes or control characters`,
				"resourceServers[1].scopes[1].value: is required",
				`resourceServers[1].scopes[3].value: "r" is defined twice`,
				"resourceServers[3].token_dialect: access_token_authz needs enforce_policies: true",
			},
		},
		{
			name: "short HS256 signing secret",
			yaml: `
resourceServers:
  - {identifier: https://a, signing_alg: HS256, signing_secret: short}`,
			want: []string{"resourceServers[0].signing_secret: must be at least 32 characters"},
		},
		{
			name: "users",
			yaml: `
databases: [{name: db}]
resourceServers:
  - {identifier: https://api, scopes: [{value: read}]}
users:
  - {email: a@x.test}
  - {connection: db}
  - {connection: db, email: nope, user_id: "12345"}
  - {connection: db, email: A@x.test, password: p, password_hash: $2b$x}
  - {connection: db, email: a@X.TEST, username: "has space", password_hash: plain}
  - connection: db
    username: carol
    permissions:
      - {resource_server_identifier: https://api, permission_name: write}
      - {permission_name: read}
      - {resource_server_identifier: https://api}`,
			want: []string{
				"users[0].connection: is required",
				"users[1]: email or username is required",
				"users[2].user_id: must look like auth0|<24 hex digits>",
				"users[3].password_hash: give password or password_hash, not both",
				"users[4].email: duplicate user (also at users[3])",
				"users[4].password_hash: must be a PHC string such as $argon2id$... or $2b$...",
				"users[5].permissions[1].resource_server_identifier: is required",
				"users[5].permissions[2].permission_name: is required",
				`users[2].email: "nope" is not a valid email address`,
				"users[2]: password or password_hash is required for a new user",
				"users[4].username: \"has space\" may only hold letters, digits and _+-.!#$'^`~@",
				"users[5]: password or password_hash is required for a new user",
				`users[5].permissions[0].permission_name: "write" is not a scope of https://api`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := applyService(t)
			// The file parses: its shape is fine, only its records break rules.
			tf := applyParse(t, tt.yaml)
			_, err := s.Apply(t.Context(), tf)
			if diff := cmp.Diff(tt.want, applyProblems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			clients, _ := s.Store.ListClients(t.Context())
			conns, _ := s.Store.ListConnections(t.Context())
			users, _ := s.Store.CountUsers(t.Context(), "")
			if len(clients) != 0 || len(conns) != 0 || users != 0 {
				t.Errorf("a file with problems wrote: %d clients, %d connections, %d users", len(clients), len(conns), users)
			}
		})
	}
}

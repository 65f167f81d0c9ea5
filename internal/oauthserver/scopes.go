package oauthserver

import (
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/store"
)

// profileScopes are the OpenID Connect scopes that release standard claims (Core §5.4).
var profileScopes = []string{"profile", "email", "address", "phone"}

func splitScope(s string) []string {
	return strings.Fields(s)
}

// grantScopes applies the scope rules of the password grants (WIRE.md §1):
//   - OpenID scopes are granted as requested; openid with none of profile, email, address,
//     phone implies all four;
//   - the password grants imply full trust: no API scope requested means every scope the API
//     defines, otherwise the requested ones the API defines (others are dropped);
//   - with RBAC (enforce_policies) API scopes are limited to the user's permissions, and the
//     *_authz dialects carry a permissions claim;
//   - offline_access survives only if the API allows offline access and the client may use
//     the refresh_token grant.
//
// The result is ordered openid, profile scopes, API scopes (in the API's order), offline_access.
func grantScopes(requested []string, api *store.ResourceServer, userPerms []directory.Permission, client store.Client) (scopes, perms []string) {
	want := map[string]bool{}
	for _, s := range requested {
		want[s] = true
	}
	if want["openid"] {
		scopes = append(scopes, "openid")
		explicit := false
		for _, p := range profileScopes {
			explicit = explicit || want[p]
		}
		for _, p := range profileScopes {
			if want[p] || !explicit {
				scopes = append(scopes, p)
			}
		}
	}
	if api == nil {
		return scopes, nil
	}
	var permitted map[string]bool
	if api.EnforcePolicies {
		permitted = map[string]bool{}
		perms = []string{}
		for _, p := range userPerms {
			if p.ResourceServerIdentifier == api.Identifier {
				permitted[p.PermissionName] = true
			}
		}
		for _, sc := range api.Scopes {
			if permitted[sc.Value] {
				perms = append(perms, sc.Value)
			}
		}
		if !strings.HasSuffix(api.TokenDialect, "_authz") {
			perms = nil
		}
	}
	askedAPI := false
	for _, sc := range api.Scopes {
		askedAPI = askedAPI || want[sc.Value]
	}
	for _, sc := range api.Scopes {
		if (want[sc.Value] || !askedAPI) && (permitted == nil || permitted[sc.Value]) && !slices.Contains(scopes, sc.Value) {
			scopes = append(scopes, sc.Value)
		}
	}
	if want["offline_access"] && offlineAllowed(api, client) {
		scopes = append(scopes, "offline_access")
	}
	return scopes, perms
}

// offlineAllowed reports whether offline_access (a refresh token) may be granted: only for an
// API that allows offline access, to a client that may use the refresh_token grant (WIRE.md
// §1). A token for /userinfo alone (no API) never carries it. The rule holds for scopes that
// Rules and Actions add as much as for requested ones.
func offlineAllowed(api *store.ResourceServer, client store.Client) bool {
	return api != nil && api.AllowOfflineAccess && slices.Contains(client.GrantTypes, grantRefreshToken)
}

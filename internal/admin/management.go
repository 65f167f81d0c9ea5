package admin

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/store"
)

// ManagementAPIName is the name of the built-in API whose tokens call the Management API, as
// Auth0 names it (the Deploy CLI skips the resource server of that name on export and import).
const ManagementAPIName = "Auth0 Management API"

// ManagementAudience returns the identifier of the Management API of a server whose issuer is
// issuer ("https://host/"): Auth0's "https://{tenant domain}/api/v2/".
func ManagementAudience(issuer string) string {
	if !strings.HasSuffix(issuer, "/") {
		issuer += "/"
	}
	return issuer + "api/v2/"
}

// auth0ManagementAudience matches the Management API audience of any Auth0 tenant or server
// ("https://acme.eu.auth0.com/api/v2/"): in a tenant file or a client grant it means this
// server's Management API, so that a tenant exported from Auth0 applies unchanged.
var auth0ManagementAudience = regexp.MustCompile(`^https://[^/?#\s]+/api/v2/?$`)

// CanonicalAudience returns the audience an API reference means here: any
// "https://<host>/api/v2/" is this server's Management API when the service has one; every
// other audience is itself.
func (s *Service) CanonicalAudience(aud string) string {
	if s.ManagementAudience != "" && auth0ManagementAudience.MatchString(aud) {
		return s.ManagementAudience
	}
	return aud
}

// IsManagementAPI reports whether rs is the built-in Management API (a system API: listed, but
// neither changed nor deleted through the Management API, as at Auth0).
func (s *Service) IsManagementAPI(rs store.ResourceServer) bool {
	return s.ManagementAudience != "" && rs.Identifier == s.ManagementAudience
}

// errSystemAPI refuses a change to the Management API's own resource server.
var errSystemAPI = &ValidationError{Field: "identifier", Message: "the " + ManagementAPIName + " is a system API: it cannot be changed or deleted"}

// EnsureManagementAPI creates the built-in Management API (identifier ManagementAudience, all
// of ManagementScopes, RBAC on so that a user's access token carries only the management
// permissions the user holds), or brings an existing one's name and scopes up to date. It
// does nothing when the service has no ManagementAudience.
func (s *Service) EnsureManagementAPI(ctx context.Context) error {
	if s.ManagementAudience == "" {
		return nil
	}
	scopes := make([]store.Scope, len(ManagementScopes))
	for i, v := range ManagementScopes {
		scopes[i] = store.Scope{Value: v, Description: managementScopeDescription(v)}
	}
	now := s.now()
	err := s.Store.UpdateResourceServer(ctx, s.ManagementAudience, func(rs *store.ResourceServer) error {
		if rs.Name == ManagementAPIName && slices.Equal(rs.Scopes, scopes) && rs.EnforcePolicies {
			return errUnchanged
		}
		rs.Name, rs.Scopes, rs.EnforcePolicies, rs.UpdatedAt = ManagementAPIName, scopes, true, now
		return nil
	})
	switch {
	case err == nil, errors.Is(err, errUnchanged):
		return s.rehomeManagementAPIs(ctx)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	err = s.Store.CreateResourceServer(ctx, store.ResourceServer{
		ID: store.NewID("", 12), Identifier: s.ManagementAudience, Name: ManagementAPIName, Scopes: scopes,
		SigningAlg: "RS256", TokenLifetime: DefaultTokenLifetime, TokenDialect: "access_token",
		EnforcePolicies: true, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil && !errors.Is(err, store.ErrConflict) { // a conflict: another node made it meanwhile
		return err
	}
	return s.rehomeManagementAPIs(ctx)
}

// formerManagementAudience matches the identifier a Management API had under an earlier issuer
// (a tenant file applied without the server's issuer gets http://localhost…/api/v2/).
var formerManagementAudience = regexp.MustCompile(`^https?://[^/?#\s]+/api/v2/?$`)

// rehomeManagementAPIs moves the client grants of a Management API made under another issuer
// to this one and deletes it, so that changing the issuer (or applying a tenant file with a
// command that did not know it) does not strand the machine clients' grants. Each step is
// idempotent: a run cut short is completed by the next start.
func (s *Service) rehomeManagementAPIs(ctx context.Context) error {
	apis, err := s.Store.ListResourceServers(ctx)
	if err != nil {
		return err
	}
	for _, old := range apis {
		if old.Name != ManagementAPIName || old.Identifier == s.ManagementAudience || !formerManagementAudience.MatchString(old.Identifier) {
			continue
		}
		grants, err := s.Store.ListClientGrants(ctx, store.ClientGrantFilter{Audience: old.Identifier})
		if err != nil {
			return err
		}
		for _, g := range grants {
			moved := g
			moved.ID, moved.Audience, moved.UpdatedAt = store.NewClientGrantID(), s.ManagementAudience, s.now()
			moved.Scope = slices.DeleteFunc(slices.Clone(g.Scope), func(sc string) bool { return !slices.Contains(ManagementScopes, sc) })
			if err := s.Store.CreateClientGrant(ctx, moved); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		if err := s.Store.DeleteResourceServer(ctx, old.Identifier); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// StoredManagementAudience returns the identifier of the Management API a server already made in
// st ("" when there is none). A command that runs beside a server without being told its issuer
// (`sesame apply`, `sesame client-grants`) takes the server's Management API from the store
// instead of guessing an issuer from its own flags: a guess would make a second Management API
// and, at its EnsureManagementAPI, move the running server's machine clients' grants to it.
func StoredManagementAudience(ctx context.Context, st store.ResourceServers) (string, error) {
	apis, err := st.ListResourceServers(ctx)
	if err != nil {
		return "", err
	}
	for _, rs := range apis {
		if rs.Name == ManagementAPIName && formerManagementAudience.MatchString(rs.Identifier) {
			return rs.Identifier, nil
		}
	}
	return "", nil
}

// errUnchanged aborts an update that would change nothing.
var errUnchanged = errors.New("admin: unchanged")

// managementScopeDescription describes a scope the way Auth0's dashboard does ("Read Clients").
func managementScopeDescription(scope string) string {
	verb, object, _ := strings.Cut(scope, ":")
	words := strings.Split(object, "_")
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.ToUpper(verb[:1]) + verb[1:] + " " + strings.Join(words, " ")
}

// ManagementScopes are the scopes of Auth0's Management API (the OauthScope values of Auth0's
// API definition, as the SDKs list them). All are defined, also those whose endpoints Sesame
// does not serve, so that a client grant exported from Auth0 applies unchanged.
var ManagementScopes = []string{
	"create:actions",
	"create:authentication_methods",
	"create:client_credentials",
	"create:client_grants",
	"create:clients",
	"create:connection_profiles",
	"create:connections",
	"create:connections_keys",
	"create:current_user_device_credentials",
	"create:custom_domains",
	"create:custom_signing_keys",
	"create:directory_provisionings",
	"create:email_provider",
	"create:email_templates",
	"create:encryption_keys",
	"create:event_streams",
	"create:flows",
	"create:flows_vault_connections",
	"create:forms",
	"create:group_roles",
	"create:guardian_enrollment_tickets",
	"create:hooks",
	"create:log_streams",
	"create:network_acls",
	"create:organization_client_grants",
	"create:organization_connections",
	"create:organization_discovery_domains",
	"create:organization_group_roles",
	"create:organization_invitations",
	"create:organization_member_roles",
	"create:organization_members",
	"create:organizations",
	"create:phone_providers",
	"create:phone_templates",
	"create:rate_limit_policies",
	"create:resource_servers",
	"create:role_members",
	"create:roles",
	"create:rules",
	"create:scim_config",
	"create:scim_token",
	"create:self_service_profiles",
	"create:signing_keys",
	"create:sso_access_tickets",
	"create:token_exchange_profiles",
	"create:user_attribute_profiles",
	"create:user_tickets",
	"create:users",
	"create:vdcs_templates",
	"delete:actions",
	"delete:anomaly_blocks",
	"delete:authentication_methods",
	"delete:branding",
	"delete:client_credentials",
	"delete:client_grants",
	"delete:clients",
	"delete:connection_profiles",
	"delete:connections",
	"delete:current_user",
	"delete:current_user_device_credentials",
	"delete:custom_domains",
	"delete:custom_signing_keys",
	"delete:device_credentials",
	"delete:directory_provisionings",
	"delete:email_provider",
	"delete:encryption_keys",
	"delete:event_streams",
	"delete:flows",
	"delete:flows_executions",
	"delete:flows_vault_connections",
	"delete:forms",
	"delete:grants",
	"delete:group_roles",
	"delete:groups",
	"delete:guardian_enrollments",
	"delete:hooks",
	"delete:log_streams",
	"delete:network_acls",
	"delete:organization_client_grants",
	"delete:organization_connections",
	"delete:organization_discovery_domains",
	"delete:organization_group_roles",
	"delete:organization_invitations",
	"delete:organization_member_roles",
	"delete:organization_members",
	"delete:organizations",
	"delete:phone_providers",
	"delete:phone_templates",
	"delete:rate_limit_policies",
	"delete:refresh_tokens",
	"delete:resource_servers",
	"delete:role_members",
	"delete:roles",
	"delete:rules",
	"delete:rules_configs",
	"delete:scim_config",
	"delete:scim_token",
	"delete:self_service_profiles",
	"delete:sessions",
	"delete:sso_access_tickets",
	"delete:token_exchange_profiles",
	"delete:user_attribute_profiles",
	"delete:users",
	"delete:vdcs_templates",
	"read:actions",
	"read:anomaly_blocks",
	"read:attack_protection",
	"read:authentication_methods",
	"read:branding",
	"read:client_credentials",
	"read:client_grants",
	"read:client_keys",
	"read:client_summary",
	"read:clients",
	"read:connection_profiles",
	"read:connections",
	"read:connections_keys",
	"read:current_user",
	"read:custom_domains",
	"read:custom_signing_keys",
	"read:device_credentials",
	"read:directory_provisionings",
	"read:email_provider",
	"read:email_templates",
	"read:encryption_keys",
	"read:event_deliveries",
	"read:event_streams",
	"read:events",
	"read:flows",
	"read:flows_executions",
	"read:flows_vault_connections",
	"read:forms",
	"read:grants",
	"read:group_members",
	"read:group_roles",
	"read:groups",
	"read:guardian_enrollments",
	"read:guardian_factors",
	"read:hooks",
	"read:log_streams",
	"read:logs",
	"read:logs_users",
	"read:mfa_policies",
	"read:network_acls",
	"read:organization_client_grants",
	"read:organization_connections",
	"read:organization_discovery_domains",
	"read:organization_group_roles",
	"read:organization_groups",
	"read:organization_invitations",
	"read:organization_member_effective_roles",
	"read:organization_member_role_source_groups",
	"read:organization_member_roles",
	"read:organization_members",
	"read:organizations",
	"read:organizations_summary",
	"read:phone_providers",
	"read:phone_templates",
	"read:prompts",
	"read:rate_limit_policies",
	"read:refresh_tokens",
	"read:resource_servers",
	"read:role_members",
	"read:roles",
	"read:rules",
	"read:rules_configs",
	"read:scim_config",
	"read:scim_token",
	"read:self_service_profile_custom_texts",
	"read:self_service_profiles",
	"read:sessions",
	"read:signing_keys",
	"read:stats",
	"read:tenant_settings",
	"read:token_exchange_profiles",
	"read:user_attribute_profiles",
	"read:user_effective_permissions",
	"read:user_effective_roles",
	"read:user_idp_tokens",
	"read:user_permission_source_roles",
	"read:user_role_source_groups",
	"read:users",
	"read:vdcs_templates",
	"update:actions",
	"update:attack_protection",
	"update:authentication_methods",
	"update:branding",
	"update:client_credentials",
	"update:client_grants",
	"update:client_keys",
	"update:client_token_vault_privileged_access",
	"update:clients",
	"update:connection_profiles",
	"update:connections",
	"update:connections_keys",
	"update:current_user_identities",
	"update:current_user_metadata",
	"update:custom_domains",
	"update:custom_signing_keys",
	"update:directory_provisionings",
	"update:email_provider",
	"update:email_templates",
	"update:encryption_keys",
	"update:event_deliveries",
	"update:event_streams",
	"update:flows",
	"update:flows_vault_connections",
	"update:forms",
	"update:guardian_factors",
	"update:hooks",
	"update:log_streams",
	"update:mfa_policies",
	"update:network_acls",
	"update:organization_connections",
	"update:organization_discovery_domains",
	"update:organizations",
	"update:phone_providers",
	"update:phone_templates",
	"update:prompts",
	"update:rate_limit_policies",
	"update:refresh_tokens",
	"update:resource_servers",
	"update:roles",
	"update:rules",
	"update:rules_configs",
	"update:scim_config",
	"update:self_service_profile_custom_texts",
	"update:self_service_profiles",
	"update:sessions",
	"update:signing_keys",
	"update:tenant_settings",
	"update:token_exchange_profiles",
	"update:user_attribute_profiles",
	"update:users",
	"update:users_app_metadata",
	"update:vdcs_templates",
}

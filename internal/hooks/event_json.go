package hooks

import (
	"encoding/json"
	"fmt"
	"time"
)

// MaxEventSize bounds a sample event read by ParseEvent.
const MaxEventSize = 1 << 20

// eventJSON is Auth0's post-login event object as JSON (the shape the Auth0 dashboard's
// "Test" tab shows), for ParseEvent.
type eventJSON struct {
	User struct {
		UserID        string         `json:"user_id"`
		Email         string         `json:"email"`
		EmailVerified bool           `json:"email_verified"`
		Username      string         `json:"username"`
		Name          string         `json:"name"`
		Nickname      string         `json:"nickname"`
		Picture       string         `json:"picture"`
		GivenName     string         `json:"given_name"`
		FamilyName    string         `json:"family_name"`
		AppMetadata   map[string]any `json:"app_metadata"`
		UserMetadata  map[string]any `json:"user_metadata"`
		LoginsCount   int            `json:"logins_count"`
		Groups        []string       `json:"groups"`
		CreatedAt     *time.Time     `json:"created_at"`
		UpdatedAt     *time.Time     `json:"updated_at"`
		Identities    []struct {
			Connection string `json:"connection"`
			Provider   string `json:"provider"`
			UserID     string `json:"user_id"`
			IsSocial   bool   `json:"isSocial"`
		} `json:"identities"`
	} `json:"user"`
	Client struct {
		ClientID string            `json:"client_id"`
		Name     string            `json:"name"`
		Metadata map[string]string `json:"metadata"`
	} `json:"client"`
	Connection struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Strategy string            `json:"strategy"`
		Metadata map[string]string `json:"metadata"`
	} `json:"connection"`
	Request struct {
		IP        string            `json:"ip"`
		Hostname  string            `json:"hostname"`
		Method    string            `json:"method"`
		UserAgent string            `json:"user_agent"`
		Body      map[string]string `json:"body"`
	} `json:"request"`
	Transaction struct {
		Protocol        string   `json:"protocol"`
		RequestedScopes []string `json:"requested_scopes"`
	} `json:"transaction"`
	ResourceServer struct {
		Identifier string `json:"identifier"`
	} `json:"resource_server"`
	Authorization struct {
		Roles []string `json:"roles"`
	} `json:"authorization"`
	Tenant struct {
		ID string `json:"id"`
	} `json:"tenant"`
	Secrets      map[string]string `json:"secrets"`
	RefreshToken *struct {
		ID       string `json:"id"`
		ClientID string `json:"client_id"`
	} `json:"refresh_token"`
}

// ParseEvent reads a sample post-login event in Auth0's JSON shape (for `sesame actions
// test`). Absent fields stay empty; the protocol defaults to oauth2-password and the granted
// scopes to the requested ones. Secrets in the sample are returned apart, to override the
// action's own.
func ParseEvent(data []byte) (Event, map[string]string, error) {
	if len(data) > MaxEventSize {
		return Event{}, nil, fmt.Errorf("hooks: event larger than %d bytes", MaxEventSize)
	}
	var j eventJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return Event{}, nil, fmt.Errorf("hooks: reading event: %w", err)
	}
	u := j.User
	ev := Event{
		Protocol:        j.Transaction.Protocol,
		RequestedScopes: j.Transaction.RequestedScopes,
		Scopes:          j.Transaction.RequestedScopes,
		ResourceServer:  j.ResourceServer.Identifier,
		Roles:           j.Authorization.Roles,
		User: User{UserID: u.UserID, Email: u.Email, EmailVerified: u.EmailVerified, Username: u.Username,
			Name: u.Name, Nickname: u.Nickname, Picture: u.Picture, GivenName: u.GivenName, FamilyName: u.FamilyName,
			AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata, LoginsCount: u.LoginsCount, Groups: u.Groups},
		Client:     Client{ClientID: j.Client.ClientID, Name: j.Client.Name, Metadata: j.Client.Metadata},
		Connection: Connection{ID: j.Connection.ID, Name: j.Connection.Name, Strategy: j.Connection.Strategy, Metadata: j.Connection.Metadata},
		Request: Request{IP: j.Request.IP, Hostname: j.Request.Hostname, Method: j.Request.Method,
			UserAgent: j.Request.UserAgent, Body: j.Request.Body},
		TenantID:    j.Tenant.ID,
		AuthMethods: []AuthMethod{{Name: "pwd"}},
	}
	if ev.Protocol == "" {
		ev.Protocol = ProtocolPassword
	}
	if u.CreatedAt != nil {
		ev.User.CreatedAt = *u.CreatedAt
	}
	if u.UpdatedAt != nil {
		ev.User.UpdatedAt = *u.UpdatedAt
	}
	for _, id := range u.Identities {
		ev.User.Identities = append(ev.User.Identities, Identity{Connection: id.Connection, Provider: id.Provider,
			UserID: id.UserID, IsSocial: id.IsSocial})
	}
	if rt := j.RefreshToken; rt != nil {
		ev.RefreshToken = &RefreshToken{ID: rt.ID, ClientID: rt.ClientID, UserID: u.UserID}
	}
	return ev, j.Secrets, nil
}

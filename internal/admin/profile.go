package admin

import (
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// TimeFormat is how the Management API writes times (ISO 8601 in UTC with milliseconds).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime writes t in TimeFormat; the zero time is nil (JSON null).
func FormatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(TimeFormat)
}

// UserProfile is a user as Auth0's Management API shows it (the user object of GET
// /api/v2/users/{id}), field names and all; the password hash never appears. The API's
// responses and the users-exports job both use it, so the two always agree.
func UserProfile(u store.User) map[string]any {
	p := map[string]any{
		"user_id":        u.ID,
		"email":          u.Email,
		"email_verified": u.EmailVerified,
		"name":           u.Name,
		"nickname":       u.Nickname,
		"picture":        u.Picture,
		"created_at":     FormatTime(u.CreatedAt),
		"updated_at":     FormatTime(u.UpdatedAt),
		"logins_count":   u.LoginsCount,
		"blocked":        u.Blocked,
		"user_metadata":  orEmpty(u.UserMetadata),
		"app_metadata":   orEmpty(u.AppMetadata),
		"identities": []any{map[string]any{
			"connection": u.Connection,
			"user_id":    strings.TrimPrefix(u.ID, "auth0|"),
			"provider":   "auth0",
			"isSocial":   false,
		}},
	}
	opt := map[string]string{"username": u.Username, "given_name": u.GivenName, "family_name": u.FamilyName, "last_ip": u.LastIP}
	for k, v := range opt {
		if v != "" {
			p[k] = v
		}
	}
	if !u.LastLogin.IsZero() {
		p["last_login"] = FormatTime(u.LastLogin)
	}
	return p
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

package passwordless

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Vars are the values a message template may name, in Auth0's Liquid names.
type Vars struct {
	Code            string
	ApplicationName string
	ClientID        string
	Connection      string
	// Email or PhoneNumber is the recipient.
	Email, PhoneNumber string
	TimeStep           time.Duration
}

// liquidVar matches {{ name }} and {{ name | filter }} (the filter is ignored).
var liquidVar = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.]+)\s*(?:\|[^}]*)?\}\}`)

// liquidVars returns the names a template uses, space-separated.
func liquidVars(tmpl string) string {
	var names []string
	for _, m := range liquidVar.FindAllStringSubmatch(tmpl, -1) {
		names = append(names, m[1])
	}
	return strings.Join(names, " ")
}

// Render fills a template's {{ variables }}: the subset of Liquid that Auth0's passwordless
// templates use. An unknown name renders empty, as in Liquid. With escapeHTML the values are
// HTML-escaped (an email body is HTML at Auth0, and the recipient's address is the caller's
// choice). @@password@@ is the code too (Auth0's older SMS syntax).
func Render(tmpl string, v Vars, escapeHTML bool) string {
	value := func(name string) string {
		switch name {
		case "code", "password":
			return v.Code
		case "application.name":
			return v.ApplicationName
		case "application.clientID", "application.client_id":
			return v.ClientID
		case "connection.name":
			return v.Connection
		case "email", "user.email":
			return v.Email
		case "phone_number", "user.phone_number":
			return v.PhoneNumber
		case "expires_in_minutes":
			return strconv.Itoa(int(v.TimeStep / time.Minute))
		case "expires_in", "ttl":
			return strconv.Itoa(int(v.TimeStep / time.Second))
		}
		return ""
	}
	out := liquidVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		s := value(liquidVar.FindStringSubmatch(m)[1])
		if escapeHTML {
			s = html.EscapeString(s)
		}
		return s
	})
	return strings.ReplaceAll(out, "@@password@@", v.Code)
}

// OneLine makes a rendered header value safe for a mail header: no line breaks.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// IsHTML reports whether a rendered email body is HTML (Auth0's bodies are), so that the mail
// says so in its Content-Type.
func IsHTML(body string) bool {
	b := strings.ToLower(strings.TrimSpace(body))
	return strings.HasPrefix(b, "<") || strings.Contains(b, "<html") || strings.Contains(b, "<p>") || strings.Contains(b, "<br")
}

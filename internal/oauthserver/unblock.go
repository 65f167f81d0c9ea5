package oauthserver

import (
	"cmp"
	"errors"
	"html/template"
	"net/http"

	"github.com/sesameauth/sesame/internal/guard"
	"github.com/sesameauth/sesame/internal/store"
)

// The unblock link of the user_notification shield. GET only shows a page with a button: mail
// scanners and link previews fetch links, and a fetch must not spend the ticket. The button
// POSTs the ticket, which is then checked, recorded as used (store.Replay, so one use across
// every node) and the user's brute-force blocks released, as an admin unblock would.

var unblockPage = template.Must(template.New("unblock").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.5rem 1rem}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>
{{if .Ticket}}<form method="post" action="unblock"><input type="hidden" name="ticket" value="{{.Ticket}}">
<button type="submit">Unblock my account</button></form>{{end}}
</body></html>
`))

type unblockView struct {
	Title, Message, Ticket string
}

var (
	viewBadTicket = unblockView{Title: "This link does not work",
		Message: "This unblock link is invalid, has expired or was already used. Ask your administrator to unblock your account."}
	viewUnblocked = unblockView{Title: "Your account is unblocked", Message: "You can log in again."}
)

// maxUnblockBody bounds the POST body: a ticket is about 150 bytes.
const maxUnblockBody = 4 << 10

// handleUnblockPage shows the confirmation page for a valid ticket.
func (s *Server) handleUnblockPage(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	if _, err := guard.ParseTicket(s.ticketKey, ticket, s.now()); s.ticketKey == nil || err != nil {
		writePage(w, http.StatusBadRequest, viewBadTicket)
		return
	}
	writePage(w, http.StatusOK, unblockView{Title: "Unblock your account",
		Message: "Your account was blocked after too many failed logins. If they were yours, unblock it:", Ticket: ticket})
}

// handleUnblock redeems a ticket: it releases the user's brute-force blocks and logs ublkdu.
func (s *Server) handleUnblock(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxUnblockBody)
	if err := r.ParseForm(); err != nil || s.ticketKey == nil {
		writePage(w, http.StatusBadRequest, viewBadTicket)
		return
	}
	t, err := guard.ParseTicket(s.ticketKey, r.PostForm.Get("ticket"), s.now())
	if err != nil {
		writePage(w, http.StatusBadRequest, viewBadTicket)
		return
	}
	// Spent before the release: of two concurrent posts of one ticket, one wins.
	switch err := s.store.UseOnce(ctx, "unblock|"+t.ID, t.ExpiresAt); {
	case errors.Is(err, store.ErrConflict):
		writePage(w, http.StatusBadRequest, viewBadTicket)
		return
	case err != nil:
		s.pageError(w, r, err)
		return
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		writePage(w, http.StatusBadRequest, viewBadTicket)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	n, err := s.guard.Unblock(ctx, u.ID, u.Email, u.Username)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if s.events != nil {
		s.events.Emit(store.LogEvent{Type: "ublkdu", Description: "User block released by the user (unblock link)",
			Connection: u.Connection, UserID: u.ID, UserName: cmp.Or(u.Email, u.Username),
			IP: peerIP(r), ClientIP: peerIP(r), UserAgent: truncate(r.UserAgent(), 256),
			Details: map[string]any{"released_counters": n}})
	}
	writePage(w, http.StatusOK, viewUnblocked)
}

// pageError answers a failure the user cannot fix with a page, logging the cause.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("unblock page", "path", r.URL.Path, "cause", err)
	status := asError(err).Status
	writePage(w, status, unblockView{Title: "Something went wrong", Message: "Please try again later."})
}

// writePage renders an HTML page with headers that keep it out of caches and frames and keep
// the ticket in its URL out of Referer headers.
func writePage(w http.ResponseWriter, status int, v unblockView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_ = unblockPage.Execute(w, v)
}

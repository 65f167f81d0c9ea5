package mgmtapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Paging limits, as Auth0's: 50 items a page unless asked, at most 100.
const (
	defaultPerPage = 50
	maxPerPage     = 100
)

// Page is Auth0's offset paging: page (0-based), per_page, include_totals.
type Page struct {
	Page, PerPage int
	IncludeTotals bool
}

// Offset is the index of the page's first item.
func (p Page) Offset() int { return p.Page * p.PerPage }

// ParsePage reads page, per_page and include_totals; a value of the wrong form is 400
// invalid_query_string. Other parameters are ignored.
func ParsePage(q url.Values) (Page, error) {
	p := Page{PerPage: defaultPerPage}
	var err error
	if p.Page, err = intParam(q, "page", 0, 0, 1<<30); err != nil {
		return p, err
	}
	if p.PerPage, err = intParam(q, "per_page", defaultPerPage, 1, maxPerPage); err != nil {
		return p, err
	}
	if p.IncludeTotals, err = boolParam(q, "include_totals"); err != nil {
		return p, err
	}
	return p, nil
}

// pageOf returns the items of page p of all.
func pageOf[T any](all []T, p Page) []T {
	start := min(p.Offset(), len(all))
	end := min(start+p.PerPage, len(all))
	return all[start:end]
}

// WritePage renders one page of an offset-paged list: a bare array, as Auth0 answers without
// include_totals, or {"<key>": [...], "start", "limit", "total"} with it. total is the
// number of items of every page.
func WritePage[T any](w http.ResponseWriter, key string, items []T, p Page, total int) {
	if items == nil {
		items = []T{}
	}
	if !p.IncludeTotals {
		writeJSON(w, http.StatusOK, items)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{key: items, "start": p.Offset(), "limit": p.PerPage, "total": total})
}

// Checkpoint is Auth0's checkpoint paging: from (an opaque cursor from the previous page's
// next) and take.
type Checkpoint struct {
	// From is the decoded cursor: the key of the last item already seen; empty for the first
	// page.
	From string
	Take int
}

// IsCheckpoint reports whether the request asks for checkpoint paging (from or take given).
func IsCheckpoint(q url.Values) bool { return q.Has("from") || q.Has("take") }

// ParseCheckpoint reads from and take; a cursor we did not make, or a take out of 1..100, is
// 400 invalid_query_string.
func ParseCheckpoint(q url.Values) (Checkpoint, error) {
	var cp Checkpoint
	var err error
	if cp.Take, err = intParam(q, "take", defaultPerPage, 1, maxPerPage); err != nil {
		return cp, err
	}
	if from := q.Get("from"); from != "" {
		b, derr := base64.RawURLEncoding.DecodeString(from)
		if derr != nil || len(b) == 0 {
			return cp, badQuery("'Invalid checkpoint' on property from.")
		}
		cp.From = string(b)
	}
	return cp, nil
}

// NextCursor makes the opaque next value for a page whose last item has key.
func NextCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// checkpointOf returns the items of all (ordered by key) after cp.From, at most cp.Take of
// them, and the next cursor ("" on the last page).
func checkpointOf[T any](all []T, cp Checkpoint, key func(T) string) ([]T, string) {
	start := 0
	if cp.From != "" {
		start = len(all)
		for i, it := range all {
			if key(it) > cp.From {
				start = i
				break
			}
		}
	}
	end := min(start+cp.Take, len(all))
	if end < len(all) {
		return all[start:end], NextCursor(key(all[end-1]))
	}
	return all[start:end], ""
}

// WriteCheckpoint renders one page of a checkpoint-paged list: {"<key>": [...], "next"}, next
// left out on the last page (go-auth0's pager loops forever on an empty next).
func WriteCheckpoint[T any](w http.ResponseWriter, key string, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	body := map[string]any{key: items}
	if next != "" {
		body["next"] = next
	}
	writeJSON(w, http.StatusOK, body)
}

// writeList renders a list held whole in memory (clients, APIs, connections: a tenant has
// tens of them) in the paging style the request asks for: checkpoint when it sends from or
// take and the endpoint has a cursor (cursor not nil; all then sorted by it), offset
// otherwise.
func writeList[T any](w http.ResponseWriter, r *http.Request, key string, all []T, cursor func(T) string) error {
	q := r.URL.Query()
	if cursor != nil && IsCheckpoint(q) {
		cp, err := ParseCheckpoint(q)
		if err != nil {
			return err
		}
		items, next := checkpointOf(all, cp, cursor)
		WriteCheckpoint(w, key, items, next)
		return nil
	}
	p, err := ParsePage(q)
	if err != nil {
		return err
	}
	WritePage(w, key, pageOf(all, p), p, len(all))
	return nil
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badQuery("'Expected type integer but found type string' on property %s.", name)
	}
	if n < lo || n > hi {
		return 0, badQuery("'%s' must be between %d and %d.", name, lo, hi)
	}
	return n, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	switch strings.ToLower(q.Get(name)) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badQuery("'Expected type boolean but found type string' on property %s.", name)
}

// splitComma splits a comma-separated query value, dropping empty parts.
func splitComma(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' })
}

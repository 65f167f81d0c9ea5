package admin

import (
	"context"
	"errors"

	"github.com/sesameauth/sesame/internal/store"
)

// userSchema is what a user search may name (Auth0's user search v3 fields that Sesame's
// users have).
var userSchema = querySchema{
	fields: map[string]fieldType{
		"user_id": fieldText, "email": fieldText, "username": fieldText, "name": fieldText, "nickname": fieldText,
		"given_name": fieldText, "family_name": fieldText, "picture": fieldText, "last_ip": fieldText,
		"identities.connection": fieldText, "connection": fieldText,
		"email_verified": fieldBool, "blocked": fieldBool, "logins_count": fieldInt,
		"created_at": fieldTime, "updated_at": fieldTime, "last_login": fieldTime,
		"user_metadata": fieldMeta, "app_metadata": fieldMeta,
	},
	bare: []string{"email", "name", "nickname", "username", "user_id"},
}

var userSortFields = []string{"created_at", "updated_at", "last_login", "logins_count", "email", "name", "nickname", "username", "user_id"}

// Paging limits of Auth0's list endpoints.
const (
	// DefaultPerPage is per_page (and take) when none is given.
	DefaultPerPage = 50
	// MaxPerPage is the largest per_page (and take).
	MaxPerPage = 100
	// MaxSearchWindow is how deep page/per_page reach into a search: like Auth0, only the
	// first 1000 results can be paged through (checkpoint paging and exports reach the rest).
	// It also bounds what an offset costs.
	MaxSearchWindow = 1000
)

// ListParams are a list request's query, order and window: offset paging (Page, PerPage)
// unless Checkpoint, then From (a cursor; "" = the start) and Take.
type ListParams struct {
	Q    string
	Sort string
	// SearchEngine is accepted for v2/v3 requests; every search here is v3.
	SearchEngine  string
	Page, PerPage int
	Checkpoint    bool
	From          string
	Take          int
	IncludeTotals bool
}

// UserPage is one page of a user search: Start and Limit echo the window, Total counts every
// match when asked, Next resumes a checkpoint walk ("" at the end).
type UserPage struct {
	Users        []store.User
	Start, Limit int
	Total        int
	Next         string
}

// window turns paging parameters into a store page, applying Auth0's defaults and limits.
func (p ListParams) window() (store.Page, error) {
	size := DefaultPerPage
	if p.Checkpoint {
		if p.Take != 0 {
			size = p.Take
		}
		if size < 1 || size > MaxPerPage {
			return store.Page{}, invalid("take", "must be between 1 and %d", MaxPerPage)
		}
		return store.Page{Limit: size, After: p.From}, nil
	}
	if p.PerPage != 0 {
		size = p.PerPage
	}
	if size < 1 || size > MaxPerPage {
		return store.Page{}, invalid("per_page", "must be between 1 and %d", MaxPerPage)
	}
	if p.Page < 0 {
		return store.Page{}, invalid("page", "must not be negative")
	}
	return store.Page{Limit: size, Offset: p.Page * size}, nil
}

func (s *Service) searchStore() store.UserSearch { return s.Store }

// SearchUsers runs a user search (GET /api/v2/users): q in the query syntax of parseQuery,
// sort "field:1|-1", offset or checkpoint paging.
func (s *Service) SearchUsers(ctx context.Context, p ListParams) (UserPage, error) {
	if p.SearchEngine != "" && p.SearchEngine != "v3" && p.SearchEngine != "v2" {
		return UserPage{}, invalid("search_engine", "must be v3")
	}
	where, err := parseQuery(p.Q, userSchema)
	if err != nil {
		return UserPage{}, err
	}
	sort, err := parseSort(p.Sort, userSortFields...)
	if err != nil {
		return UserPage{}, err
	}
	win, err := p.window()
	if err != nil {
		return UserPage{}, err
	}
	out := UserPage{Start: win.Offset, Limit: win.Limit, Users: []store.User{}}
	if !p.Checkpoint && win.Offset+win.Limit > MaxSearchWindow {
		win.Limit = max(MaxSearchWindow-win.Offset, 0)
	}
	if win.Limit > 0 {
		us, next, err := s.searchStore().SearchUsers(ctx, store.UserQuery{Where: where, Sort: sort, Page: win})
		if errors.Is(err, store.ErrBadQuery) {
			return UserPage{}, invalid("q", "%v", err)
		}
		if err != nil {
			return UserPage{}, err
		}
		if us != nil {
			out.Users = us
		}
		if p.Checkpoint {
			out.Next = next
		}
	}
	if p.IncludeTotals {
		if out.Total, err = s.searchStore().CountSearchUsers(ctx, where); err != nil {
			return UserPage{}, err
		}
	}
	return out, nil
}

// UsersByEmail returns the users of every connection with this email, in any case (GET
// /api/v2/users-by-email).
func (s *Service) UsersByEmail(ctx context.Context, email string) ([]store.User, error) {
	if email == "" {
		return nil, invalid("email", "is required")
	}
	us, err := s.searchStore().UsersByEmail(ctx, email)
	if us == nil {
		us = []store.User{}
	}
	return us, err
}

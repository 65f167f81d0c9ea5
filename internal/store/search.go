package store

import (
	"context"
	"time"
)

// Cond is a search condition over one record type's fields: Match, And, Or or Not. The
// management service parses Auth0's query syntax into it and checks field names and value
// types; a backend translates it into its own query language with every value a parameter,
// and refuses a field it does not know (ErrBadQuery), so that no text of a query reaches SQL.
type Cond interface{ isCond() }

// And matches when every condition matches (an empty And matches everything).
type And []Cond

// Or matches when any condition matches (an empty Or matches nothing).
type Or []Cond

// Not matches when its condition does not.
type Not struct{ Cond Cond }

// MatchOp is how a Match compares its field.
type MatchOp int

// Match operators.
const (
	// MatchEqual: the field equals Value.
	MatchEqual MatchOp = iota
	// MatchPrefix, MatchSuffix, MatchContains: the text field starts with, ends with or
	// contains Value (a string).
	MatchPrefix
	MatchSuffix
	MatchContains
	// MatchExists: the field is set (a non-empty text, a present metadata key).
	MatchExists
	// MatchRange: the field lies between Lo and Hi (nil = open), inclusive when LoIncl/HiIncl.
	MatchRange
)

// Match compares one field. Field is the Management API name ("email", "logins_count",
// "user_metadata.plan"); Value, Lo and Hi are a string, bool, int64 or time.Time, of the
// field's type (metadata values are compared as their text: "gold", "2", "true").
type Match struct {
	Field          string
	Op             MatchOp
	Value          any
	Lo, Hi         any
	LoIncl, HiIncl bool
}

func (And) isCond()   {}
func (Or) isCond()    {}
func (Not) isCond()   {}
func (Match) isCond() {}

// ErrBadQuery is wrapped by a backend for a condition or sort it cannot translate (an unknown
// field, a value of the wrong type, a malformed cursor).
var ErrBadQuery = badQuery{}

type badQuery struct{}

func (badQuery) Error() string { return "store: unsupported query" }

// Sort orders a search by Field (a sortable field's API name), then by the record's key in
// the same direction, so that every order is total and a cursor can resume it.
type Sort struct {
	Field string
	Desc  bool
}

// Page selects a window of a search: Limit rows (0 = no limit) after skipping Offset, or,
// when After is set, the rows following the cursor a previous page returned (keyset paging:
// its cost does not grow with the depth of the page).
type Page struct {
	Limit  int
	Offset int
	After  string
}

// UserQuery is a user search: users matching Where (nil = all) in Sort order (zero: by
// creation time, then ID).
type UserQuery struct {
	Where Cond
	Sort  Sort
	Page  Page
}

// UserSearch is the user search of the Management API.
type UserSearch interface {
	// SearchUsers returns one page of matching users and the cursor of the row after it ("" at
	// the end). ErrBadQuery for a condition or cursor the backend cannot translate.
	SearchUsers(ctx context.Context, q UserQuery) (users []User, next string, err error)
	// CountSearchUsers returns how many users match where (nil = all).
	CountSearchUsers(ctx context.Context, where Cond) (int, error)
	// UsersByEmail returns the users of every connection whose email equals email
	// case-insensitively, ordered by connection then ID (one index probe).
	UsersByEmail(ctx context.Context, email string) ([]User, error)
	// ListUserRefreshFamilies returns the user's live refresh-token families (not revoked, not
	// past their absolute expiry at now), oldest first, one page of them.
	ListUserRefreshFamilies(ctx context.Context, userID string, now time.Time, p Page) (fams []RefreshFamily, next string, err error)
	// GetRefreshFamily returns a family by ID.
	GetRefreshFamily(ctx context.Context, id string) (RefreshFamily, error)
	// RevokeRefreshFamilyByID revokes the family with this ID (ErrNotFound if none).
	RevokeRefreshFamilyByID(ctx context.Context, id string, at time.Time) error
}

// LogQuery is a log search: events matching Where (nil = all), newest first unless Asc.
// Page.After is a log ID: the events after it in the chosen order (Auth0's from/take).
type LogQuery struct {
	Where Cond
	Asc   bool
	Page  Page
}

// LogSearch is the log search of the Management API.
type LogSearch interface {
	// GetLog returns one event by ID.
	GetLog(ctx context.Context, id string) (LogEvent, error)
	// SearchLogs returns one page of matching events; ErrNotFound when Page.After names no
	// event, ErrBadQuery for a condition the backend cannot translate.
	SearchLogs(ctx context.Context, q LogQuery) ([]LogEvent, error)
	// CountSearchLogs returns how many events match where (nil = all).
	CountSearchLogs(ctx context.Context, where Cond) (int, error)
}

// Job kinds and states (Auth0's jobs API).
const (
	JobUsersImport = "users_import"
	JobUsersExport = "users_export"

	JobPending    = "pending"
	JobProcessing = "processing"
	JobCompleted  = "completed"
	JobFailed     = "failed"
)

// Job is a background users import or export. Input holds what the job needs to run (the
// import file, the export's options); Result what it made (an export's file).
type Job struct {
	ID           string
	Type         string
	Status       string
	ConnectionID string
	Connection   string
	// Params are the job's request options as Auth0 echoes them (upsert, format, fields...).
	Params map[string]any
	// Summary counts an import's rows ({total, inserted, updated, failed}).
	Summary map[string]any
	// Errors are an import's failed rows, in Auth0's /jobs/{id}/errors shape.
	Errors    []map[string]any
	Input     []byte
	Result    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Jobs stores background jobs.
type Jobs interface {
	CreateJob(ctx context.Context, j Job) error
	GetJob(ctx context.Context, id string) (Job, error)
	UpdateJob(ctx context.Context, id string, fn func(*Job) error) error
}

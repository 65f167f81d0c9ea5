package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sesameauth/sesame/internal/store"
)

// fieldKind is how a searchable column compares.
type fieldKind int

const (
	kindText fieldKind = iota
	// kindFolded is a text column stored lower-cased (email_key): values are lower-cased too.
	kindFolded
	kindBool
	kindInt
	kindTime
	// kindJSON is a JSON object column searched by key path ("user_metadata.plan").
	kindJSON
)

// field maps an API field name to a column. nullable text columns are read through COALESCE
// so that a missing value is "" and never a NULL that would poison NOT.
type field struct {
	col      string
	kind     fieldKind
	nullable bool
}

var userFields = map[string]field{
	"user_id":               {col: "id"},
	"email":                 {col: "email_key", kind: kindFolded, nullable: true},
	"username":              {col: "username", nullable: true},
	"name":                  {col: "name"},
	"nickname":              {col: "nickname"},
	"given_name":            {col: "given_name"},
	"family_name":           {col: "family_name"},
	"picture":               {col: "picture"},
	"last_ip":               {col: "last_ip"},
	"identities.connection": {col: "connection"},
	"connection":            {col: "connection"},
	"email_verified":        {col: "email_verified", kind: kindBool},
	"blocked":               {col: "blocked", kind: kindBool},
	"logins_count":          {col: "logins_count", kind: kindInt},
	"created_at":            {col: "created_at", kind: kindTime},
	"updated_at":            {col: "updated_at", kind: kindTime},
	"last_login":            {col: "last_login", kind: kindTime},
	"user_metadata":         {col: "user_metadata", kind: kindJSON},
	"app_metadata":          {col: "app_metadata", kind: kindJSON},
}

var logFields = map[string]field{
	"log_id":        {col: "id"},
	"date":          {col: "date", kind: kindTime},
	"type":          {col: "type"},
	"description":   {col: "description"},
	"client_id":     {col: "client_id"},
	"client_name":   {col: "client_name"},
	"connection":    {col: "connection"},
	"connection_id": {col: "connection_id"},
	"ip":            {col: "ip"},
	"client_ip":     {col: "client_ip"},
	"user_agent":    {col: "user_agent"},
	"user_id":       {col: "user_id"},
	"user_name":     {col: "user_name"},
	"audience":      {col: "audience"},
	"scope":         {col: "scope"},
	"details":       {col: "details", kind: kindJSON},
}

// jsonKey is one segment of a metadata path. The path is sent as a parameter; the rule keeps
// it free of the separators each dialect's path syntax uses.
var jsonKey = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)

// condSQL builds a WHERE expression for a store.Cond, every value a parameter.
type condSQL struct {
	pg     bool
	fields map[string]field
	args   []any
}

func badQuery(format string, args ...any) error {
	return fmt.Errorf("sqlstore: %s: %w", fmt.Sprintf(format, args...), store.ErrBadQuery)
}

func (b *condSQL) build(c store.Cond) (string, error) {
	switch c := c.(type) {
	case nil:
		return "1 = 1", nil
	case store.And:
		return b.join(c, " AND ", "1 = 1")
	case store.Or:
		return b.join(c, " OR ", "1 = 0")
	case store.Not:
		inner, err := b.build(c.Cond)
		if err != nil {
			return "", err
		}
		// A field that is absent compares as NULL; NOT must see it as false, as a search
		// engine does ("NOT plan:gold" matches users without a plan).
		return "NOT COALESCE((" + inner + "), FALSE)", nil
	case store.Match:
		return b.match(c)
	default:
		return "", badQuery("condition %T", c)
	}
}

func (b *condSQL) join(cs []store.Cond, op, empty string) (string, error) {
	if len(cs) == 0 {
		return empty, nil
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		p, err := b.build(c)
		if err != nil {
			return "", err
		}
		parts[i] = "(" + p + ")"
	}
	return strings.Join(parts, op), nil
}

func (b *condSQL) arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

// column resolves a field name to its SQL expression and kind; a metadata path becomes the
// dialect's JSON text extraction with the path as a parameter.
func (b *condSQL) column(name string, exists bool) (string, fieldKind, error) {
	if f, ok := b.fields[name]; ok && f.kind != kindJSON {
		if f.nullable && !(f.kind == kindFolded && !exists) {
			return "COALESCE(" + f.col + ", '')", f.kind, nil
		}
		return f.col, f.kind, nil
	}
	root, path, ok := strings.Cut(name, ".")
	f, known := b.fields[root]
	if !ok || !known || f.kind != kindJSON {
		return "", 0, badQuery("unknown field %q", name)
	}
	keys := strings.Split(path, ".")
	for _, k := range keys {
		if !jsonKey.MatchString(k) {
			return "", 0, badQuery("field %q: key %q", name, k)
		}
	}
	if b.pg {
		p := b.arg(strings.Join(keys, ","))
		if exists {
			return "(" + f.col + "::jsonb #> string_to_array(CAST(" + p + " AS TEXT), ','))", kindJSON, nil
		}
		return "(" + f.col + "::jsonb #>> string_to_array(CAST(" + p + " AS TEXT), ','))", kindJSON, nil
	}
	sqlitePath := `$."` + strings.Join(keys, `"."`) + `"`
	if exists {
		return "json_type(" + f.col + ", " + b.arg(sqlitePath) + ")", kindJSON, nil
	}
	// json_extract gives 1/0 for JSON booleans; PostgreSQL's #>> gives true/false: the CASE
	// makes SQLite say the same, so "plan.trial:true" means one thing on both.
	t, v := b.arg(sqlitePath), b.arg(sqlitePath)
	return "(CASE json_type(" + f.col + ", " + t + ") WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' " +
		"WHEN 'object' THEN NULL WHEN 'array' THEN NULL ELSE CAST(json_extract(" + f.col + ", " + v + ") AS TEXT) END)", kindJSON, nil
}

// value converts a match value to the column's parameter type.
func value(kind fieldKind, v any) (any, error) {
	switch kind {
	case kindText, kindJSON:
		if s, ok := v.(string); ok {
			return s, nil
		}
		if kind == kindJSON {
			switch x := v.(type) {
			case bool, int64:
				return fmt.Sprint(x), nil
			}
		}
	case kindFolded:
		if s, ok := v.(string); ok {
			return emailKey(s), nil
		}
	case kindBool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case kindInt:
		if x, ok := v.(int64); ok {
			return x, nil
		}
	case kindTime:
		if x, ok := v.(time.Time); ok {
			return x.UnixNano(), nil
		}
	}
	return nil, badQuery("value %v (%T) does not fit the field", v, v)
}

func (b *condSQL) match(m store.Match) (string, error) {
	col, kind, err := b.column(m.Field, m.Op == store.MatchExists)
	if err != nil {
		return "", err
	}
	textual := kind == kindText || kind == kindFolded || kind == kindJSON
	switch m.Op {
	case store.MatchEqual:
		v, err := value(kind, m.Value)
		if err != nil {
			return "", err
		}
		return col + " = " + b.arg(v), nil
	case store.MatchPrefix, store.MatchSuffix, store.MatchContains:
		v, err := value(kind, m.Value)
		if err != nil || !textual {
			return "", badQuery("wildcard on field %q", m.Field)
		}
		s := v.(string)
		n := utf8.RuneCountInString(s)
		switch {
		case m.Op == store.MatchContains && b.pg:
			return "strpos(" + col + ", " + b.arg(s) + ") > 0", nil
		case m.Op == store.MatchContains:
			return "instr(" + col + ", " + b.arg(s) + ") > 0", nil
		case m.Op == store.MatchPrefix && b.pg:
			return "left(" + col + ", " + b.arg(n) + ") = " + b.arg(s), nil
		case m.Op == store.MatchPrefix:
			return "substr(" + col + ", 1, " + b.arg(n) + ") = " + b.arg(s), nil
		case b.pg:
			return "right(" + col + ", " + b.arg(n) + ") = " + b.arg(s), nil
		default:
			return "(length(" + col + ") >= " + b.arg(n) + " AND substr(" + col + ", " + b.arg(-n) + ") = " + b.arg(s) + ")", nil
		}
	case store.MatchExists:
		switch kind {
		case kindJSON:
			return col + " IS NOT NULL", nil
		case kindText, kindFolded:
			return "COALESCE(" + col + ", '') <> ''", nil
		default:
			return col + " IS NOT NULL", nil
		}
	case store.MatchRange:
		var parts []string
		for _, bound := range []struct {
			v    any
			incl bool
			op   string
		}{{m.Lo, m.LoIncl, ">"}, {m.Hi, m.HiIncl, "<"}} {
			if bound.v == nil {
				continue
			}
			v, err := value(kind, bound.v)
			if err != nil {
				return "", err
			}
			op := bound.op
			if bound.incl {
				op += "="
			}
			parts = append(parts, col+" "+op+" "+b.arg(v))
		}
		if len(parts) == 0 {
			return col + " IS NOT NULL", nil
		}
		return strings.Join(parts, " AND "), nil
	}
	return "", badQuery("match operator %d", m.Op)
}

// userSorts are the fields users sort by, with the expression each sorts on (NULLs folded so
// that a keyset comparison never meets one).
var userSorts = map[string]struct {
	expr string
	num  bool
}{
	"created_at":   {"created_at", true},
	"updated_at":   {"COALESCE(updated_at, 0)", true},
	"last_login":   {"COALESCE(last_login, 0)", true},
	"logins_count": {"logins_count", true},
	"email":        {"COALESCE(email_key, '')", false},
	"name":         {"name", false},
	"nickname":     {"nickname", false},
	"username":     {"COALESCE(username, '')", false},
	"user_id":      {"id", false},
}

// cursor is the position after a row in a sort: its sort value and ID.
type cursor struct {
	Sort string `json:"s"`
	Num  int64  `json:"n,omitempty"`
	Str  string `json:"v,omitempty"`
	ID   string `json:"id"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
		return c, badQuery("malformed cursor")
	}
	return c, nil
}

// SearchUsers returns one page of the users matching q. Offset pages select their IDs first
// from an index alone (a deferred join), so skipping rows reads no row data; cursor pages
// seek in the sort index and cost the same at any depth.
func (s *Store) SearchUsers(ctx context.Context, q store.UserQuery) ([]store.User, string, error) {
	sortName := q.Sort.Field
	if sortName == "" {
		sortName = "created_at"
	}
	sort, ok := userSorts[sortName]
	if !ok {
		return nil, "", badQuery("sort field %q", sortName)
	}
	b := condSQL{pg: s.d.numbered, fields: userFields}
	where, err := b.build(q.Where)
	if err != nil {
		return nil, "", err
	}
	dir, cmp := "ASC", ">"
	if q.Sort.Desc {
		dir, cmp = "DESC", "<"
	}
	order := " ORDER BY " + sort.expr + " " + dir + ", id " + dir
	if q.Page.After != "" {
		c, err := decodeCursor(q.Page.After)
		if err != nil || c.Sort != sortName {
			return nil, "", badQuery("cursor of another search")
		}
		var v any = c.Str
		if sort.num {
			v = c.Num
		}
		where = "(" + where + ") AND (" + sort.expr + ", id) " + cmp + " (" + b.arg(v) + ", " + b.arg(c.ID) + ")"
	}
	query := users.sel + " WHERE id IN (" + s.window(&b, "SELECT id FROM users WHERE "+where+order, q.Page) + ")" + order
	us, err := search(ctx, s, query, b.args, users)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if q.Page.Limit > 0 && len(us) == q.Page.Limit {
		last := us[len(us)-1]
		c := cursor{Sort: sortName, ID: last.ID}
		switch sortName {
		case "created_at":
			c.Num = last.CreatedAt.UnixNano()
		case "updated_at":
			c.Num = nanos(last.UpdatedAt)
		case "last_login":
			c.Num = nanos(last.LastLogin)
		case "logins_count":
			c.Num = int64(last.LoginsCount)
		case "email":
			c.Str = emailKey(last.Email)
		case "name":
			c.Str = last.Name
		case "nickname":
			c.Str = last.Nickname
		case "username":
			c.Str = last.Username
		case "user_id":
			c.Str = last.ID
		}
		next = c.encode()
	}
	return us, next, nil
}

// window adds a page's LIMIT and OFFSET (an offset only without a cursor) to the ID query
// of a deferred join: skipping rows there reads the index alone.
func (s *Store) window(b *condSQL, inner string, p store.Page) string {
	if p.Limit > 0 {
		inner += " LIMIT " + b.arg(p.Limit)
	} else if p.Offset > 0 {
		inner += " LIMIT " + s.d.noLimit
	}
	if p.Offset > 0 && p.After == "" {
		inner += " OFFSET " + b.arg(p.Offset)
	}
	return inner
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// search runs a built query on the read pool. Search statements are not prepared and cached
// like the fixed ones: their shapes are the users', without bound.
func search[T any](ctx context.Context, s *Store, query string, args []any, t *table[T]) ([]T, error) {
	if s.d.numbered {
		query = s.d.rebind(query)
	}
	rows, err := s.read.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: searching %ss: %w", t.what, unavailable(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(t.scan(&v)...); err != nil {
			return nil, fmt.Errorf("sqlstore: searching %ss: %w", t.what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: searching %ss: %w", t.what, unavailable(err))
	}
	return out, nil
}

// count runs SELECT COUNT(*) over table name for a condition.
func (s *Store) count(ctx context.Context, name string, fields map[string]field, where store.Cond) (int, error) {
	b := condSQL{pg: s.d.numbered, fields: fields}
	w, err := b.build(where)
	if err != nil {
		return 0, err
	}
	query := "SELECT COUNT(*) FROM " + name + " WHERE " + w
	if s.d.numbered {
		query = s.d.rebind(query)
	}
	var n int
	if err := s.read.db.QueryRowContext(ctx, query, b.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: counting %s: %w", name, unavailable(err))
	}
	return n, nil
}

// CountSearchUsers returns how many users match where.
func (s *Store) CountSearchUsers(ctx context.Context, where store.Cond) (int, error) {
	return s.count(ctx, "users", userFields, where)
}

var usersByEmail = users.sel + ` WHERE email_key = ? ORDER BY connection, id`

// UsersByEmail returns every connection's user with this email, case-insensitively.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]store.User, error) {
	if email == "" {
		return nil, nil
	}
	return listRows(ctx, s, s.read, users, strings.TrimPrefix(usersByEmail, users.sel+" "), emailKey(email))
}

// GetLog returns one event by ID.
func (s *Store) GetLog(ctx context.Context, id string) (store.LogEvent, error) {
	return getRow(ctx, s, s.read, logs, id)
}

// SearchLogs returns one page of the events matching q; Page.After is an event ID and the
// page holds the events after it in the chosen order, found by seeking the (date, id) index.
func (s *Store) SearchLogs(ctx context.Context, q store.LogQuery) ([]store.LogEvent, error) {
	b := condSQL{pg: s.d.numbered, fields: logFields}
	where, err := b.build(q.Where)
	if err != nil {
		return nil, err
	}
	dir, cmp := "DESC", "<"
	if q.Asc {
		dir, cmp = "ASC", ">"
	}
	if q.Page.After != "" {
		from, err := s.GetLog(ctx, q.Page.After)
		if err != nil {
			return nil, err
		}
		where = "(" + where + ") AND (date, id) " + cmp + " (" + b.arg(nanos(from.Date)) + ", " + b.arg(from.ID) + ")"
	}
	order := " ORDER BY date " + dir + ", id " + dir
	inner := s.window(&b, "SELECT id FROM logs WHERE "+where+order, q.Page)
	return search(ctx, s, logs.sel+" WHERE id IN ("+inner+")"+order, b.args, logs)
}

// CountSearchLogs returns how many events match where.
func (s *Store) CountSearchLogs(ctx context.Context, where store.Cond) (int, error) {
	return s.count(ctx, "logs", logFields, where)
}

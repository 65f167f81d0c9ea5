package admin

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sesameauth/sesame/internal/store"
)

// fieldType is the type of a searchable field, which decides how a query value is read.
type fieldType int

const (
	fieldText fieldType = iota
	fieldBool
	fieldInt
	fieldTime
	// fieldMeta is a JSON object searched by key path (user_metadata.plan): values are text.
	fieldMeta
)

// querySchema is what one resource's q parameter may name.
type querySchema struct {
	fields map[string]fieldType
	// bare are the fields a term without a field name is looked for in (any of them).
	bare []string
}

// Query limits: a query string is a user's input and becomes one SQL statement.
const (
	maxQueryLen     = 2048
	maxQueryDepth   = 16
	maxQueryClauses = 64
)

// parseQuery reads the common subset of the Lucene query syntax that Auth0's user search (v3)
// and log search accept, into a store.Cond:
//
//	email:"jane@example.com"      exact value (quoted: no wildcards inside)
//	email:*@example.com name:jo*  leading or trailing wildcard (*x*: contains; field:*: is set)
//	user_metadata.plan:"gold"     metadata by key path
//	logins_count:[2 TO 10]        range, [] inclusive, {} exclusive, * open
//	_exists_:app_metadata.org     the field is set
//	a AND b, a OR b, NOT a, -a, +a, ( … )
//	jane                          a bare term: any of the resource's default fields
//
// Terms side by side without an operator combine as Lucene's default does: any of them
// matches (OR), except that a -term or NOT term excludes and a +term is required. Matching is
// exact and case-sensitive, except emails, which Auth0 stores lower-cased and compares in any
// case. A date on a time field (created_at:2024-05-01) means that whole UTC day.
func parseQuery(q string, schema querySchema) (store.Cond, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if len(q) > maxQueryLen {
		return nil, invalid("q", "longer than %d characters", maxQueryLen)
	}
	toks, err := lexQuery(q)
	if err != nil {
		return nil, err
	}
	p := &queryParser{toks: toks, schema: schema}
	c, err := p.clauses(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, invalid("q", "unexpected %q", p.toks[p.pos].text)
	}
	return c, nil
}

type tokKind int

const (
	tokWord tokKind = iota
	tokQuoted
	tokOpen
	tokClose
	tokRangeOpen
	tokRangeClose
	tokColon
	tokMinus
	tokPlus
)

type qtoken struct {
	kind tokKind
	text string
	// incl is set on a range bracket that includes its bound ([ or ]).
	incl bool
}

func lexQuery(q string) ([]qtoken, error) {
	var toks []qtoken
	inRange := false
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')':
			toks = append(toks, qtoken{kind: map[rune]tokKind{'(': tokOpen, ')': tokClose}[r], text: string(r)})
			i++
		case r == '[' || r == '{':
			toks = append(toks, qtoken{kind: tokRangeOpen, text: string(r), incl: r == '['})
			inRange = true
			i++
		case r == ']' || r == '}':
			toks = append(toks, qtoken{kind: tokRangeClose, text: string(r), incl: r == ']'})
			inRange = false
			i++
		case r == ':':
			toks = append(toks, qtoken{kind: tokColon, text: ":"})
			i++
		case (r == '-' || r == '+' || r == '!') && (len(toks) == 0 || toks[len(toks)-1].kind != tokColon):
			k := tokMinus
			if r == '+' {
				k = tokPlus
			}
			toks = append(toks, qtoken{kind: k, text: string(r)})
			i++
		case r == '"':
			var b strings.Builder
			i++
			for ; i < len(rs) && rs[i] != '"'; i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				b.WriteRune(rs[i])
			}
			if i >= len(rs) {
				return nil, invalid("q", "unterminated quoted value")
			}
			i++
			toks = append(toks, qtoken{kind: tokQuoted, text: b.String()})
		default:
			// A value (after "field:" or inside a range) may hold colons: times do.
			stops := `()[]{}:"`
			if inRange || (len(toks) > 0 && toks[len(toks)-1].kind == tokColon) {
				stops = `()[]{}"`
			}
			var b strings.Builder
			for ; i < len(rs) && !unicode.IsSpace(rs[i]) && !strings.ContainsRune(stops, rs[i]); i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
					// An escaped * is a literal star, kept apart from wildcards by a marker.
					if rs[i] == '*' {
						b.WriteRune(escapedStar)
						continue
					}
				}
				b.WriteRune(rs[i])
			}
			toks = append(toks, qtoken{kind: tokWord, text: b.String()})
		}
	}
	return toks, nil
}

// escapedStar stands for a backslash-escaped * inside a word until the wildcards are read.
const escapedStar = '\uFFFF'

type queryParser struct {
	toks    []qtoken
	pos     int
	schema  querySchema
	clauseN int
}

func (p *queryParser) peek() (qtoken, bool) {
	if p.pos >= len(p.toks) {
		return qtoken{}, false
	}
	return p.toks[p.pos], true
}

func (p *queryParser) isWord(w string) bool {
	t, ok := p.peek()
	return ok && t.kind == tokWord && (t.text == w || (w == "AND" && t.text == "&&") || (w == "OR" && t.text == "||"))
}

// clauses reads a sequence of clauses up to ")" or the end. Explicit AND binds tighter than
// OR and than juxtaposition; see parseQuery for how juxtaposed clauses combine.
func (p *queryParser) clauses(depth int) (store.Cond, error) {
	if depth > maxQueryDepth {
		return nil, invalid("q", "nested deeper than %d", maxQueryDepth)
	}
	var required, prohibited, optional []store.Cond
	for {
		t, ok := p.peek()
		if !ok || t.kind == tokClose {
			break
		}
		if p.isWord("OR") {
			p.pos++
			continue
		}
		mod := tokWord
		if t.kind == tokMinus || t.kind == tokPlus {
			mod = t.kind
			p.pos++
		} else if p.isWord("NOT") {
			mod = tokMinus
			p.pos++
		}
		c, err := p.andChain(depth)
		if err != nil {
			return nil, err
		}
		switch mod {
		case tokMinus:
			prohibited = append(prohibited, store.Not{Cond: c})
		case tokPlus:
			required = append(required, c)
		default:
			optional = append(optional, c)
		}
	}
	switch {
	case len(required) > 0:
		return andOf(append(required, prohibited...)), nil
	case len(optional) == 1:
		return andOf(append(optional, prohibited...)), nil
	case len(optional) > 1:
		return andOf(append([]store.Cond{store.Or(optional)}, prohibited...)), nil
	case len(prohibited) > 0:
		return andOf(prohibited), nil
	}
	return nil, invalid("q", "empty query or group")
}

func andOf(cs []store.Cond) store.Cond {
	if len(cs) == 1 {
		return cs[0]
	}
	return store.And(cs)
}

// andChain reads unary (AND unary)*.
func (p *queryParser) andChain(depth int) (store.Cond, error) {
	first, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	cs := []store.Cond{first}
	for p.isWord("AND") {
		p.pos++
		c, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return andOf(cs), nil
}

func (p *queryParser) unary(depth int) (store.Cond, error) {
	t, ok := p.peek()
	if !ok {
		return nil, invalid("q", "ends after an operator")
	}
	if p.isWord("NOT") || t.kind == tokMinus {
		p.pos++
		c, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return store.Not{Cond: c}, nil
	}
	if t.kind == tokOpen {
		p.pos++
		c, err := p.clauses(depth + 1)
		if err != nil {
			return nil, err
		}
		if t, ok := p.peek(); !ok || t.kind != tokClose {
			return nil, invalid("q", "unbalanced parenthesis")
		}
		p.pos++
		return c, nil
	}
	p.clauseN++
	if p.clauseN > maxQueryClauses {
		return nil, invalid("q", "more than %d terms", maxQueryClauses)
	}
	// field:value, or a bare value.
	if t.kind == tokWord && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tokColon {
		p.pos += 2
		return p.fieldValue(t.text)
	}
	if t.kind != tokWord && t.kind != tokQuoted {
		return nil, invalid("q", "unexpected %q", t.text)
	}
	p.pos++
	var any store.Or
	for _, f := range p.schema.bare {
		c, err := p.match(f, p.schema.fields[f], t)
		if err != nil {
			return nil, err
		}
		any = append(any, c)
	}
	return any, nil
}

// fieldType resolves a field name, metadata paths included.
func (p *queryParser) fieldType(name string) (fieldType, error) {
	if ft, ok := p.schema.fields[name]; ok && ft != fieldMeta {
		return ft, nil
	}
	root, path, ok := strings.Cut(name, ".")
	if ft, known := p.schema.fields[root]; ok && known && ft == fieldMeta && path != "" {
		return fieldMeta, nil
	}
	return 0, invalid("q", "cannot search on field %q", name)
}

func (p *queryParser) fieldValue(name string) (store.Cond, error) {
	t, ok := p.peek()
	if !ok {
		return nil, invalid("q", "no value for field %q", name)
	}
	if name == "_exists_" {
		p.pos++
		if _, err := p.fieldType(t.text); err != nil || t.kind != tokWord {
			return nil, invalid("q", "_exists_ needs a field name")
		}
		return store.Match{Field: t.text, Op: store.MatchExists}, nil
	}
	ft, err := p.fieldType(name)
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tokWord, tokQuoted:
		p.pos++
		return p.match(name, ft, t)
	case tokRangeOpen:
		return p.rangeValue(name, ft)
	}
	return nil, invalid("q", "unexpected %q after %s:", t.text, name)
}

// match builds the condition for one value token on one field.
func (p *queryParser) match(name string, ft fieldType, t qtoken) (store.Cond, error) {
	op, text := store.MatchEqual, t.text
	if t.kind == tokWord {
		switch {
		case text == "*":
			return store.Match{Field: name, Op: store.MatchExists}, nil
		case len(text) > 2 && strings.HasPrefix(text, "*") && strings.HasSuffix(text, "*"):
			op, text = store.MatchContains, text[1:len(text)-1]
		case strings.HasPrefix(text, "*"):
			op, text = store.MatchSuffix, text[1:]
		case strings.HasSuffix(text, "*"):
			op, text = store.MatchPrefix, text[:len(text)-1]
		}
		if strings.ContainsAny(text, "*?") {
			return nil, invalid("q", "%q: wildcards are supported only at the start or end of a value", t.text)
		}
		text = strings.ReplaceAll(text, string(escapedStar), "*")
	}
	if op != store.MatchEqual {
		if ft != fieldText && ft != fieldMeta {
			return nil, invalid("q", "field %q does not take wildcards", name)
		}
		return store.Match{Field: name, Op: op, Value: text}, nil
	}
	switch ft {
	case fieldTime:
		lo, hi, err := parseQueryTime(text, name)
		if err != nil {
			return nil, err
		}
		if hi.IsZero() {
			return store.Match{Field: name, Op: store.MatchEqual, Value: lo}, nil
		}
		return store.Match{Field: name, Op: store.MatchRange, Lo: lo, Hi: hi, LoIncl: true}, nil
	default:
		v, err := queryValue(name, ft, text)
		if err != nil {
			return nil, err
		}
		return store.Match{Field: name, Op: store.MatchEqual, Value: v}, nil
	}
}

func (p *queryParser) rangeValue(name string, ft fieldType) (store.Cond, error) {
	open := p.toks[p.pos]
	p.pos++
	var parts []qtoken
	for {
		t, ok := p.peek()
		if !ok {
			return nil, invalid("q", "unterminated range on %s", name)
		}
		p.pos++
		if t.kind == tokRangeClose {
			if len(parts) != 3 || parts[1].text != "TO" {
				return nil, invalid("q", "a range is [low TO high]")
			}
			m := store.Match{Field: name, Op: store.MatchRange, LoIncl: open.incl, HiIncl: t.incl}
			for i, b := range []qtoken{parts[0], parts[2]} {
				if b.kind == tokWord && b.text == "*" {
					continue
				}
				var v any
				if ft == fieldTime {
					lo, hi, err := parseQueryTime(b.text, name)
					if err != nil {
						return nil, err
					}
					// A date as the upper bound of an inclusive range takes in that whole day.
					if i == 1 && !hi.IsZero() && t.incl {
						lo, m.HiIncl = hi, false
					}
					v = lo
				} else {
					var err error
					if v, err = queryValue(name, ft, b.text); err != nil {
						return nil, err
					}
				}
				if i == 0 {
					m.Lo = v
				} else {
					m.Hi = v
				}
			}
			return m, nil
		}
		parts = append(parts, t)
	}
}

func queryValue(name string, ft fieldType, text string) (any, error) {
	switch ft {
	case fieldBool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, invalid("q", "%s takes true or false", name)
		}
		return b, nil
	case fieldInt:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, invalid("q", "%s takes a whole number", name)
		}
		return n, nil
	case fieldTime:
		t, _, err := parseQueryTime(text, name)
		return t, err
	}
	return text, nil
}

// parseQueryTime reads an RFC 3339 time, or a date (its day: lo and the next midnight hi).
func parseQueryTime(text, name string) (lo, hi time.Time, err error) {
	if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
		return t.UTC(), time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, text); err == nil {
		return d, d.AddDate(0, 0, 1), nil
	}
	return lo, hi, invalid("q", "%s takes a date (2006-01-02) or an RFC 3339 time", name)
}

// parseSort reads Auth0's sort parameter, "field:1" (ascending) or "field:-1".
func parseSort(s string, allowed ...string) (store.Sort, error) {
	if s == "" {
		return store.Sort{}, nil
	}
	f, dir, _ := strings.Cut(s, ":")
	var out store.Sort
	switch dir {
	case "1", "":
	case "-1":
		out.Desc = true
	default:
		return out, invalid("sort", "%q: the direction is 1 or -1", s)
	}
	for _, a := range allowed {
		if f == a {
			out.Field = f
			return out, nil
		}
	}
	return out, invalid("sort", "cannot sort on %q (one of %s)", f, strings.Join(allowed, ", "))
}

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// table maps one record type to its table, so that get, list, insert, update and delete are
// written once for every aggregate.
type table[T any] struct {
	name string
	// what names the record in errors ("client").
	what string
	// key is the column a record is looked up, updated and deleted by.
	key string
	// cols are the columns read back, in the order scan and values use them; derived are
	// further columns only written (lookup keys computed from the record).
	cols, derived []string
	keyOf         func(*T) string
	// values returns the record's cols then derived values, encoding through e.
	values func(e *encoder, v *T) []any
	// scan returns the destinations for cols into v.
	scan func(v *T) []any

	// Statements, built once by build.
	sel, get, ins, upd, del string
}

// build fills in t's statements.
func build[T any](t *table[T]) *table[T] {
	all := append(append([]string(nil), t.cols...), t.derived...)
	var set []string
	for _, c := range all {
		if c != t.key {
			set = append(set, c+" = ?")
		}
	}
	t.sel = "SELECT " + t.colList("") + " FROM " + t.name
	t.get = t.sel + " WHERE " + t.key + " = ?"
	t.ins = "INSERT INTO " + t.name + " (" + strings.Join(all, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(all)), ", ") + ")"
	t.upd = "UPDATE " + t.name + " SET " + strings.Join(set, ", ") + " WHERE " + t.key + " = ?"
	t.del = "DELETE FROM " + t.name + " WHERE " + t.key + " = ?"
	return t
}

// colList is the read columns, each qualified by prefix ("f." in a join).
func (t *table[T]) colList(prefix string) string {
	if prefix == "" {
		return strings.Join(t.cols, ", ")
	}
	return prefix + strings.Join(t.cols, ", "+prefix)
}

// updateArgs is values without the key column, then the key.
func (t *table[T]) updateArgs(e *encoder, v *T, key string) []any {
	all := append(append([]string(nil), t.cols...), t.derived...)
	vals := t.values(e, v)
	args := make([]any, 0, len(vals))
	for i, c := range all {
		if c != t.key {
			args = append(args, vals[i])
		}
	}
	return append(args, key)
}

func (t *table[T]) notFound(key string) error {
	return fmt.Errorf("sqlstore: %s %q: %w", t.what, key, store.ErrNotFound)
}

// getRow reads the record whose key column equals key.
func getRow[T any](ctx context.Context, s *Store, q querier, t *table[T], key string) (T, error) {
	var v T
	err := q.QueryRowContext(ctx, s.q(t.get), key).Scan(t.scan(&v)...)
	if errors.Is(err, sql.ErrNoRows) {
		return v, t.notFound(key)
	}
	if err != nil {
		return v, fmt.Errorf("sqlstore: reading %s %q: %w", t.what, key, unavailable(err))
	}
	return v, nil
}

// listRows reads the records matching rest (a WHERE and/or ORDER BY clause, with ? args).
func listRows[T any](ctx context.Context, s *Store, q querier, t *table[T], rest string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, s.q(t.sel+" "+rest), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing %ss: %w", t.what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(t.scan(&v)...); err != nil {
			return nil, fmt.Errorf("sqlstore: listing %ss: %w", t.what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing %ss: %w", t.what, err)
	}
	return out, nil
}

// insertRow inserts v; a unique violation is store.ErrConflict.
func insertRow[T any](ctx context.Context, s *Store, q querier, t *table[T], v *T) error {
	var e encoder
	args := t.values(&e, v)
	if e.err != nil {
		return fmt.Errorf("sqlstore: encoding %s %q: %w", t.what, t.keyOf(v), e.err)
	}
	if _, err := q.ExecContext(ctx, s.q(t.ins), args...); err != nil {
		return s.writeErr("creating", t.what, t.keyOf(v), err)
	}
	return nil
}

// updateRow reads the record, applies fn to it and writes it back, in one transaction. The key
// is immutable: fn changing it is an error.
func updateRow[T any](ctx context.Context, s *Store, t *table[T], key string, fn func(*T) error) error {
	return s.inTx(ctx, func(tx querier) error {
		v, err := getRow(ctx, s, tx, t, key)
		if err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
		if got := t.keyOf(&v); got != key {
			return fmt.Errorf("sqlstore: updating %s %q: the %s cannot change (to %q)", t.what, key, t.key, got)
		}
		var e encoder
		args := t.updateArgs(&e, &v, key)
		if e.err != nil {
			return fmt.Errorf("sqlstore: encoding %s %q: %w", t.what, key, e.err)
		}
		if _, err := tx.ExecContext(ctx, s.q(t.upd), args...); err != nil {
			return s.writeErr("updating", t.what, key, err)
		}
		return nil
	})
}

// deleteRow deletes the record with this key; ErrNotFound if there is none.
func deleteRow[T any](ctx context.Context, s *Store, q querier, t *table[T], key string) error {
	n, err := affected(q.ExecContext(ctx, s.q(t.del), key))
	if err != nil {
		return fmt.Errorf("sqlstore: deleting %s %q: %w", t.what, key, err)
	}
	if n == 0 {
		return t.notFound(key)
	}
	return nil
}

// writeErr maps a failed write to store.ErrConflict when a unique key was taken.
func (s *Store) writeErr(verb, what, key string, err error) error {
	if s.d.isUnique(err) {
		return fmt.Errorf("sqlstore: %s %s %q: %w (%v)", verb, what, key, store.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s %s %q: %w", verb, what, key, err)
}

// encoder turns record fields into column values, keeping the first encoding error.
type encoder struct{ err error }

// json encodes v as JSON text (nil slices and maps as "null", so nil and empty round-trip).
func (e *encoder) json(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return nil
	}
	return string(b)
}

// timeVal is t as UTC Unix nanoseconds, or NULL for the zero time.
func timeVal(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// nullStr is s, or NULL when s is empty (NULLs never collide in a unique index).
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timeCol scans a nullable Unix-nanosecond column into a UTC time.Time (zero for NULL).
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("sqlstore: time column holds %T", src)
	}
	return nil
}

// jsonCol scans JSON text into dst (left zero for NULL).
type jsonCol struct{ dst any }

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlstore: JSON column holds %T", src)
	}
	return json.Unmarshal(b, c.dst)
}

// strCol scans a nullable text column into a string ("" for NULL).
type strCol struct{ s *string }

func (c strCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("sqlstore: text column holds %T", src)
	}
	return nil
}

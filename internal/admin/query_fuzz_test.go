package admin

import (
	"testing"

	"github.com/sesameauth/sesame/internal/store"
)

// FuzzParseQuery feeds arbitrary q parameters to the user search parser: it must answer a
// condition or a ValidationError, never panic, and name only fields of the schema.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`email:"a@b.c"`, `email:*@example.com`, `name:john*`, `user_metadata.plan:"gold"`,
		`a AND (b OR -c)`, `NOT blocked:true`, `logins_count:[1 TO *}`, `created_at:2024-01-01`, `_exists_:app_metadata.x`,
		`"unterminated`, `((((`, `name:\*x`, `+a -b c`, `date:[2024-01-01T00:00:00Z TO 2024-02-01]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		c, err := parseQuery(q, userSchema)
		if err != nil {
			if Status(err) != 400 {
				t.Fatalf("parseQuery(%q): error %v is not a 400", q, err)
			}
			return
		}
		var walk func(store.Cond)
		walk = func(c store.Cond) {
			switch c := c.(type) {
			case store.And:
				for _, x := range c {
					walk(x)
				}
			case store.Or:
				for _, x := range c {
					walk(x)
				}
			case store.Not:
				walk(c.Cond)
			case store.Match:
				p := queryParser{schema: userSchema}
				if _, err := p.fieldType(c.Field); err != nil {
					t.Fatalf("parseQuery(%q) names field %q outside the schema", q, c.Field)
				}
			}
		}
		walk(c)
	})
}

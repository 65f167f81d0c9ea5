package ldap

import (
	"testing"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"
)

// FuzzFilterEscaping: whatever a user types as their username, the user filter compiles to
// exactly one equality match whose value is the username itself, byte for byte: no input can
// widen, nest or break the filter (LDAP injection).
func FuzzFilterEscaping(f *testing.F) {
	for _, s := range []string{"alice", "*)(uid=*", "*", `\2a`, "a)(|(objectClass=*", "\x00", "é", "(", ")", `\`, "a\x00b*)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, username string) {
		if !utf8.ValidString(username) {
			t.Skip() // form and JSON bodies are UTF-8 (the token endpoint refuses others)
		}
		p, err := goldap.CompileFilter(fill("(uid={0})", username))
		if err != nil {
			t.Fatalf("filter for %q does not compile: %v", username, err)
		}
		if p.Tag != goldap.FilterEqualityMatch || len(p.Children) != 2 {
			t.Fatalf("filter for %q is %s, not one equality match", username, goldap.FilterMap[uint64(p.Tag)])
		}
		if got := p.Children[1].Data.String(); got != username || p.Children[0].Value != "uid" {
			t.Fatalf("filter for %q matches %v=%q", username, p.Children[0].Value, got)
		}
	})
}

// TestObjectGUID: Active Directory's binary objectGUID becomes its usual text form in the
// user_id and back into the escaped filter value that finds the entry again.
func TestObjectGUID(t *testing.T) {
	raw := []byte{0x35, 0x4c, 0x8a, 0x1a, 0x6d, 0x4e, 0x2b, 0x4f, 0x9c, 0x37, 0x14, 0x9e, 0x7a, 0x52, 0x66, 0x01}
	d := &Directory{cfg: Config{IDAttribute: "objectGUID"}}
	e := &goldap.Entry{DN: "cn=x", Attributes: []*goldap.EntryAttribute{{Name: "objectGUID", ByteValues: [][]byte{raw}, Values: []string{string(raw)}}}}
	id := d.idValue(e)
	if id != "1a8a4c35-4e6d-4f2b-9c37-149e7a526601" {
		t.Fatalf("got %q", id)
	}
	v, err := d.idFilterValue(id)
	if err != nil || v != `\35\4c\8a\1a\6d\4e\2b\4f\9c\37\14\9e\7a\52\66\01` {
		t.Fatalf("got %q, %v", v, err)
	}
	if _, err := d.idFilterValue("not-a-guid"); err == nil {
		t.Error("a malformed GUID was accepted")
	}
}

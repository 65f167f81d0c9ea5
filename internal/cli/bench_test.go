package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/loadgen"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		name, in string
		want     float64
		wantErr  bool
	}{
		{name: "per second", in: "200/s", want: 200},
		{name: "bare number", in: "50", want: 50},
		{name: "per minute", in: "600/m", want: 10},
		{name: "empty is closed loop", in: "", want: 0},
		{name: "zero", in: "0/s", wantErr: true},
		{name: "unknown unit", in: "5/h", wantErr: true},
		{name: "not a number", in: "fast", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRate(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseRate(%q): got %g, %v want %g (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestReadUsersFile(t *testing.T) {
	tests := []struct {
		name, content string
		want          []loadgen.Credential
		wantErr       bool
	}{
		{name: "lines with comments and a colon in a password",
			content: "# bench users\nalice@example.com:pw:with:colons\n\nbob:secret\n",
			want:    []loadgen.Credential{{Username: "alice@example.com", Password: "pw:with:colons"}, {Username: "bob", Password: "secret"}}},
		{name: "a line without a colon", content: "alice\n", wantErr: true},
		{name: "no users", content: "# nothing\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.txt")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readUsersFile(path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
		})
	}
}

package server

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
)

func TestLoadKEK(t *testing.T) {
	kek := seal.NewKEK()
	tests := []struct {
		name      string
		setup     func(t *testing.T, dir string) config.Server
		wantFrom  string
		wantFile  string // relative to dir; checked for mode 0600
		wantKEK   []byte
		wantError bool
	}{
		{
			name: "inline kek",
			setup: func(t *testing.T, dir string) config.Server {
				return config.Server{KEK: seal.EncodeKEK(kek), DB: "sqlite://" + dir + "/s.db"}
			},
			wantFrom: "kek", wantKEK: kek,
		},
		{
			name: "kek file",
			setup: func(t *testing.T, dir string) config.Server {
				p := filepath.Join(dir, "my.kek")
				if err := os.WriteFile(p, []byte(seal.EncodeKEK(kek)+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return config.Server{KEKFile: p, DB: "postgres://u@h/db"}
			},
			wantFrom: "kek_file", wantKEK: kek,
		},
		{
			name: "default file beside the sqlite database",
			setup: func(t *testing.T, dir string) config.Server {
				return config.Server{DB: "sqlite://" + filepath.Join(dir, "sub.db")}
			},
			wantFrom: "default_file", wantFile: DefaultKEKFileName,
		},
		{
			name: "missing kek file is not created",
			setup: func(t *testing.T, dir string) config.Server {
				return config.Server{KEKFile: filepath.Join(dir, "nope")}
			},
			wantError: true,
		},
		{
			name:      "postgres without kek",
			setup:     func(t *testing.T, dir string) config.Server { return config.Server{DB: "postgres://u@h/db"} },
			wantError: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := tt.setup(t, dir)
			got, src, err := LoadKEK(s)
			if tt.wantError {
				if err == nil {
					t.Fatalf("LoadKEK: got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadKEK: %v", err)
			}
			if src.From != tt.wantFrom {
				t.Errorf("source: got %q, want %q", src.From, tt.wantFrom)
			}
			if tt.wantKEK != nil && !slices.Equal(got, tt.wantKEK) {
				t.Errorf("kek: got %x, want %x", got, tt.wantKEK)
			}
			if tt.wantFile != "" {
				p := filepath.Join(dir, tt.wantFile)
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatalf("default kek file: %v", err)
				}
				if fi.Mode().Perm() != 0o600 || !src.Created || src.Path != p {
					t.Errorf("default kek file: got mode %v created %v path %q, want 0600 true %q", fi.Mode().Perm(), src.Created, src.Path, p)
				}
				again, src2, err := LoadKEK(s)
				if err != nil || !slices.Equal(again, got) || src2.Created {
					t.Errorf("second LoadKEK: got %x created=%v err=%v, want the same key, not created", again, src2.Created, err)
				}
			}
		})
	}
}

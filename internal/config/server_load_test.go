package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesameauth/sesame/internal/seal"
)

func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	var ce *ServerConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T): got no *ServerConfigError, want one", err, err)
	}
	var paths []string
	for _, p := range ce.Problems {
		paths = append(paths, p.Path)
	}
	return paths
}

func TestParseServer(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		want      func(*Server)
		wantPaths []string
		wantText  string
	}{
		{
			name: "empty file keeps defaults",
			yaml: "",
			want: func(*Server) {},
		},
		{
			name: "every key",
			yaml: `addr: 0.0.0.0:9000
issuer: https://auth.example.com/
db: postgres://sesame@db/sesame
tls_cert: /etc/tls.crt
tls_key: /etc/tls.key
kek_file: /etc/kek
log_format: json
log_level: debug
password_hash_memory_kib: 64
password_hash_iterations: 1
auto_migrate: true
`,
			want: func(s *Server) {
				yes := true
				s.Addr, s.Issuer, s.DB = "0.0.0.0:9000", "https://auth.example.com/", "postgres://sesame@db/sesame"
				s.TLSCert, s.TLSKey, s.KEKFile = "/etc/tls.crt", "/etc/tls.key", "/etc/kek"
				s.LogFormat, s.LogLevel = "json", "debug"
				s.PasswordHashMemoryKiB, s.PasswordHashIterations = 64, 1
				s.AutoMigrate = &yes
			},
		},
		{
			name:      "unknown keys are errors with their path and a suggestion",
			yaml:      "addr: 127.0.0.1:1\nlog_fromat: json\ntls:\n  cert: x\n",
			wantPaths: []string{"log_fromat", "tls"},
			wantText:  "log_fromat: line 2: unknown key (did you mean log_format?)",
		},
		{
			name:      "wrong types are all reported",
			yaml:      "tls_self_signed: maybe\npassword_hash_iterations: -1\naddr: [a, b]\n",
			wantPaths: []string{"tls_self_signed", "password_hash_iterations", "addr"},
			wantText:  "tls_self_signed: line 1: must be true or false",
		},
		{
			name:      "duplicate key",
			yaml:      "addr: a:1\naddr: b:2\n",
			wantPaths: []string{"addr"},
		},
		{
			name:      "not a mapping",
			yaml:      "- addr\n",
			wantPaths: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseServer([]byte(tt.yaml))
			if tt.wantPaths != nil {
				if diff := cmp.Diff(tt.wantPaths, problemPaths(t, err)); diff != "" {
					t.Errorf("problem paths (-want +got):\n%s", diff)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error got %q, want it to contain %q", err, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseServer: got %v, want no error", err)
			}
			want := DefaultServer()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadServerNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sesame.yaml")
	if err := os.WriteFile(path, []byte("bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadServer(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": bogus: line 1: unknown key") {
		t.Errorf("LoadServer: got %v, want an error starting with %q", err, path+": bogus: line 1: unknown key")
	}
	if _, err := LoadServer(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadServer(missing): got %v, want os.ErrNotExist", err)
	}
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		want      func(*Server)
		wantPaths []string
	}{
		{
			name: "one variable per key",
			env: map[string]string{
				"SESAME_ADDR": ":9999", "SESAME_ISSUER": "https://a.test/", "SESAME_DB": "sqlite:///x.db",
				"SESAME_TLS_SELF_SIGNED": "true", "SESAME_KEK_FILE": "/k", "SESAME_LOG_FORMAT": "json",
				"SESAME_PASSWORD_HASH_MEMORY_KIB": "128", "SESAME_AUTO_MIGRATE": "false",
			},
			want: func(s *Server) {
				no := false
				s.Addr, s.Issuer, s.DB, s.TLSSelfSigned, s.KEKFile, s.LogFormat = ":9999", "https://a.test/", "sqlite:///x.db", true, "/k", "json"
				s.PasswordHashMemoryKiB, s.AutoMigrate = 128, &no
			},
		},
		{
			name: "unrelated variables are ignored",
			env:  map[string]string{"ADDR": "x", "SESAME_UNKNOWN": "y"},
			want: func(*Server) {},
		},
		{
			name:      "bad values are all reported",
			env:       map[string]string{"SESAME_TLS_SELF_SIGNED": "sure", "SESAME_PASSWORD_HASH_ITERATIONS": "two"},
			wantPaths: []string{"SESAME_TLS_SELF_SIGNED", "SESAME_PASSWORD_HASH_ITERATIONS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultServer()
			err := got.ApplyEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantPaths != nil {
				paths := problemPaths(t, err)
				slices.Sort(paths)
				want := slices.Sorted(slices.Values(tt.wantPaths))
				if diff := cmp.Diff(want, paths); diff != "" {
					t.Errorf("problem paths (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyEnv: got %v, want no error", err)
			}
			want := DefaultServer()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Server)
		wantPaths []string
	}{
		{name: "defaults are valid", edit: func(*Server) {}},
		{name: "postgres with a kek file", edit: func(s *Server) { s.DB, s.KEKFile = "postgresql://u@h/db", "/k" }},
		{name: "issuer without trailing slash is accepted", edit: func(s *Server) { s.Issuer = "https://auth.example.com" }},
		{
			name: "every problem at once",
			edit: func(s *Server) {
				s.Addr = "localhost"
				s.Issuer = "ftp://x/"
				s.DB = "mysql://x"
				s.TLSCert = "/c"
				s.TLSSelfSigned = true
				s.KEK = "c2hvcnQ="
				s.LogFormat = "xml"
				s.LogLevel = "loud"
				s.PasswordHashMemoryKiB = 0
				s.PasswordHashIterations = 0
			},
			wantPaths: []string{"addr", "issuer", "db", "tls_cert", "tls_self_signed", "kek", "log_format", "log_level", "password_hash_memory_kib", "password_hash_iterations"},
		},
		{name: "postgres needs an explicit kek", edit: func(s *Server) { s.DB = "postgres://u@h/db" }, wantPaths: []string{"kek"}},
		{name: "kek and kek_file together", edit: func(s *Server) { s.KEK, s.KEKFile = seal.EncodeKEK(seal.NewKEK()), "/k" }, wantPaths: []string{"kek_file"}},
		{name: "issuer with a query", edit: func(s *Server) { s.Issuer = "https://a.test/?x=1" }, wantPaths: []string{"issuer"}},
		{name: "port out of range", edit: func(s *Server) { s.Addr = "127.0.0.1:70000" }, wantPaths: []string{"addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultServer()
			tt.edit(&s)
			err := s.Validate()
			if tt.wantPaths == nil {
				if err != nil {
					t.Fatalf("Validate: got %v, want no error", err)
				}
				return
			}
			if diff := cmp.Diff(tt.wantPaths, problemPaths(t, err)); diff != "" {
				t.Errorf("problem paths (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestEffectiveIssuer(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Server)
		want string
	}{
		{name: "derived from addr", edit: func(*Server) {}, want: "http://127.0.0.1:8080/"},
		{name: "https with TLS", edit: func(s *Server) { s.TLSSelfSigned = true; s.Addr = ":8443" }, want: "https://localhost:8443/"},
		{name: "explicit issuer gets its slash", edit: func(s *Server) { s.Issuer = "https://auth.example.com" }, want: "https://auth.example.com/"},
		{name: "normalized issuer", edit: func(s *Server) { s.Issuer = "https://auth.example.com/tenant"; s.Normalize() }, want: "https://auth.example.com/tenant/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultServer()
			tt.edit(&s)
			if got := s.EffectiveIssuer(); got != tt.want {
				t.Errorf("EffectiveIssuer: got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParseServer(f *testing.F) {
	f.Add([]byte("addr: 127.0.0.1:8080\nissuer: https://a.test\n"))
	f.Add([]byte("tls_self_signed: yes\npassword_hash_memory_kib: 64\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("- 1\n"))
	f.Add([]byte("addr: {x: 1}\nkek: ''\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseServer(data)
		if err != nil {
			var ce *ServerConfigError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error %v: got no problems, want a *ServerConfigError with at least one", err)
			}
			return
		}
		_ = s.Validate() // must not panic
		_ = s.EffectiveIssuer()
	})
}

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/config"
)

// resolveWith runs a command registered like serve (global and server flags) and returns the
// config it resolves.
func resolveWith(t *testing.T, env map[string]string, args ...string) (config.Server, error) {
	t.Helper()
	var got config.Server
	var resolveErr error
	a := &app{lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	root := &cobra.Command{Use: "sesame", SilenceErrors: true, SilenceUsage: true}
	a.globalFlags(root.PersistentFlags())
	cmd := &cobra.Command{
		Use: "probe",
		RunE: func(cmd *cobra.Command, _ []string) error {
			got, resolveErr = a.resolveServerConfig(cmd)
			return nil
		},
	}
	serverFlags(cmd.Flags())
	root.AddCommand(cmd)
	root.SetArgs(append([]string{"probe"}, args...))
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	if err := root.ExecuteContext(t.Context()); err != nil {
		return config.Server{}, err
	}
	return got, resolveErr
}

func TestResolveServerConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sesame.yaml")
	yaml := "addr: 127.0.0.1:1111\nissuer: https://file.test\nlog_format: json\nlog_level: warn\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, s config.Server)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, s config.Server) {
				if s.Addr != config.DefaultAddr || s.DB != config.DefaultDB || s.LogFormat != "text" || s.PasswordHashMemoryKiB != 19456 {
					t.Errorf("got %+v, want the defaults", s)
				}
			},
		},
		{
			name: "file over defaults, issuer normalised",
			args: []string{"--config", file},
			check: func(t *testing.T, s config.Server) {
				if s.Addr != "127.0.0.1:1111" || s.Issuer != "https://file.test/" || s.LogFormat != "json" || s.DB != config.DefaultDB {
					t.Errorf("got addr %q issuer %q log_format %q db %q, want the file's values, a slash, and the default db", s.Addr, s.Issuer, s.LogFormat, s.DB)
				}
			},
		},
		{
			name: "env over file, file named by SESAME_CONFIG",
			env:  map[string]string{"SESAME_CONFIG": file, "SESAME_ADDR": "127.0.0.1:2222", "SESAME_LOG_LEVEL": "debug"},
			check: func(t *testing.T, s config.Server) {
				if s.Addr != "127.0.0.1:2222" || s.LogLevel != "debug" || s.LogFormat != "json" {
					t.Errorf("got addr %q log_level %q log_format %q, want env addr and level, file format", s.Addr, s.LogLevel, s.LogFormat)
				}
			},
		},
		{
			name: "flags over env over file; unset flags do not override",
			env:  map[string]string{"SESAME_ADDR": "127.0.0.1:2222", "SESAME_DB": "sqlite:///env.db", "SESAME_TLS_SELF_SIGNED": "true"},
			args: []string{"--config", file, "--addr", "127.0.0.1:3333", "--db", "sqlite:///flag.db"},
			check: func(t *testing.T, s config.Server) {
				if s.Addr != "127.0.0.1:3333" || s.DB != "sqlite:///flag.db" || !s.TLSSelfSigned || s.Issuer != "https://file.test/" {
					t.Errorf("got addr %q db %q tls_self_signed %v issuer %q, want flag addr and db, env TLS, file issuer", s.Addr, s.DB, s.TLSSelfSigned, s.Issuer)
				}
			},
		},
		{
			name: "a flag set to its zero value still wins",
			env:  map[string]string{"SESAME_TLS_SELF_SIGNED": "true"},
			args: []string{"--tls-self-signed=false", "--migrate"},
			check: func(t *testing.T, s config.Server) {
				if s.TLSSelfSigned || s.AutoMigrate == nil || !*s.AutoMigrate {
					t.Errorf("got tls_self_signed %v auto_migrate %v, want false and true", s.TLSSelfSigned, s.AutoMigrate)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolveWith(t, tt.env, tt.args...)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			tt.check(t, s)
		})
	}
}

func TestResolveServerConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("adr: x\nlog_format: json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{name: "unknown key in the file", args: []string{"--config", bad}, want: []string{bad + ": adr: line 1: unknown key (did you mean addr?)"}},
		{name: "bad env value", env: map[string]string{"SESAME_TLS_SELF_SIGNED": "perhaps"}, want: []string{"environment: SESAME_TLS_SELF_SIGNED"}},
		{
			name: "every validation problem at once",
			args: []string{"--addr", "nope", "--log-format", "xml", "--tls-cert", "/c"},
			env:  map[string]string{"SESAME_DB": "mysql://x"},
			want: []string{"addr:", "db:", "tls_cert:", "log_format:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveWith(t, tt.env, tt.args...)
			if err == nil {
				t.Fatalf("resolve: got no error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q: want it to contain %q", err, w)
				}
			}
		})
	}
}

package config

import (
	"slices"
	"strings"
	"testing"
)

func TestActionsSettings(t *testing.T) {
	s, err := ParseServer([]byte("db: sqlite:///tmp/x.db\nactions_fetch_allow: api.example.com, *.internal.example.com\nactions_memory_limit_mib: 128\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SESAME_ACTIONS_FETCH_ALLOW": "api.example.com,10.0.0.5:8443, "}
	if err := s.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if got, want := s.ActionsFetchHosts(), []string{"api.example.com", "10.0.0.5:8443"}; !slices.Equal(got, want) {
		t.Errorf("hosts: got %q, want %q (the environment wins over the file)", got, want)
	}
	if s.ActionsMemoryLimitMiB != 128 {
		t.Errorf("memory limit: got %d, want 128", s.ActionsMemoryLimitMiB)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for _, c := range []struct {
		set  func(*Server)
		want string
	}{
		{func(s *Server) { s.ActionsFetchAllow = "https://api.example.com/v1" }, `actions_fetch_allow: "https://api.example.com/v1" is not a host name`},
		{func(s *Server) { s.ActionsMemoryLimitMiB = -2 }, "actions_memory_limit_mib: -2 is below -1"},
	} {
		s := DefaultServer()
		s.DB = "sqlite:///tmp/x.db"
		c.set(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate: got %v, want %q", err, c.want)
		}
	}
}

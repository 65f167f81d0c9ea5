package server

import (
	"fmt"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/oauthserver"
)

// HooksEngine builds the Rules and Actions engine the server config describes (serve makes
// one per process, shared by every login; `actions test` one per run). Its network access,
// fetch() to the hosts of actions_fetch_allow, is given here because hooks itself has none.
func HooksEngine(cfg config.Server) (*hooks.Engine, error) {
	o := hooks.Options{}
	switch n := cfg.ActionsMemoryLimitMiB; {
	case n < 0:
		o.MemoryLimit = -1
	case n > 0:
		o.MemoryLimit = int64(n) << 20
	}
	if hosts := cfg.ActionsFetchHosts(); len(hosts) > 0 {
		f, err := oauthserver.NewActionFetcher(hosts)
		if err != nil {
			return nil, fmt.Errorf("actions_fetch_allow: %w", err)
		}
		o.Fetch = f
	}
	return hooks.NewEngine(o), nil
}

package server

import (
	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/hooks"
)

// HooksEngine builds the Rules and Actions engine the server config describes (serve makes
// one per process, shared by every login; `actions test` one per run). Its network access,
// fetch() to the hosts of actions_fetch_allow, is given here because hooks itself has none.
func HooksEngine(cfg config.Server) (*hooks.Engine, error) {
	f, err := newFetcher(cfg)
	if err != nil {
		return nil, err
	}
	return engineWith(cfg, f), nil
}

// engineWith is the engine for cfg whose fetch() is f (nil: none).
func engineWith(cfg config.Server, f hooks.Fetcher) *hooks.Engine {
	o := hooks.Options{Fetch: f}
	switch n := cfg.ActionsMemoryLimitMiB; {
	case n < 0:
		o.MemoryLimit = -1
	case n > 0:
		o.MemoryLimit = int64(n) << 20
	}
	return hooks.NewEngine(o)
}

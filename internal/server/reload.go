package server

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/hooks"
	"github.com/sesameauth/sesame/internal/oauthserver"
)

// Reloadable are the server config keys a running node takes over from a reload (SIGHUP)
// without a restart. log_level is the CLI's (it owns the logger); the rest are Reload's.
var Reloadable = []string{"log_level", "rate_limit_client_per_minute", "rate_limit_ip_per_minute",
	"rate_limit_refresh_per_minute", "actions_fetch_allow"}

// Reload takes over from next the settings that can change while serving: the token endpoint's
// rate limits and the hosts Actions may fetch. It returns the keys it applied and the changed
// keys it could not (they need a restart), by YAML key only (values may be secrets). A next
// whose fetch allowlist does not parse changes nothing.
func (s *Server) Reload(next config.Server) (applied, needRestart []string, err error) {
	fetch, err := newFetcher(next)
	if err != nil {
		return nil, nil, err
	}
	prev := s.Config
	for _, key := range changedKeys(prev, next) {
		if slices.Contains(Reloadable, key) {
			applied = append(applied, key)
		} else {
			needRestart = append(needRestart, key)
		}
	}
	s.oauth.SetRateLimits(rateLimits(next))
	s.fetch.set(fetch)
	s.Config.LogLevel = next.LogLevel
	s.Config.RateLimitClientPerMinute = next.RateLimitClientPerMinute
	s.Config.RateLimitIPPerMinute = next.RateLimitIPPerMinute
	s.Config.RateLimitRefreshPerMinute = next.RateLimitRefreshPerMinute
	s.Config.ActionsFetchAllow = next.ActionsFetchAllow
	return applied, needRestart, nil
}

// changedKeys lists the YAML keys whose values differ between a and b.
func changedKeys(a, b config.Server) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		key, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, key)
		}
	}
	return out
}

func rateLimits(cfg config.Server) oauthserver.RateLimits {
	return oauthserver.RateLimits{PerClient: cfg.RateLimitClientPerMinute, PerIP: cfg.RateLimitIPPerMinute,
		PerRefreshToken: cfg.RateLimitRefreshPerMinute}
}

// newFetcher is the Actions' fetch() for cfg's actions_fetch_allow, nil when it is empty.
func newFetcher(cfg config.Server) (hooks.Fetcher, error) {
	hosts := cfg.ActionsFetchHosts()
	if len(hosts) == 0 {
		return nil, nil
	}
	f, err := oauthserver.NewActionFetcher(hosts)
	if err != nil {
		return nil, fmt.Errorf("actions_fetch_allow: %w", err)
	}
	return f, nil
}

// swapFetcher is the engine's fetch(), whose allowlist a reload can replace while Actions run.
type swapFetcher struct{ p atomic.Pointer[hooks.Fetcher] }

func (f *swapFetcher) set(next hooks.Fetcher) {
	if next == nil {
		f.p.Store(nil)
		return
	}
	f.p.Store(&next)
}

// Fetch hands req to the current fetcher; with none, every host is refused, as the engine
// refuses without a fetcher.
func (f *swapFetcher) Fetch(ctx context.Context, req hooks.FetchRequest) (*hooks.FetchResponse, error) {
	p := f.p.Load()
	if p == nil {
		host := ""
		if u, err := url.Parse(req.URL); err == nil {
			host = u.Host
		}
		return nil, fmt.Errorf("fetch: host %q is not allowed: no host is allowed for Actions", host)
	}
	return (*p).Fetch(ctx, req)
}

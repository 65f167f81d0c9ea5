package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/logs"
	"github.com/sesameauth/sesame/internal/store"
)

// logsJSON is a tenant log event as `sesame logs --json` prints it, with Auth0's field names:
// the same shape the server streams (log_stream).
type logsJSON = logs.Record

func logView(e store.LogEvent) logsJSON { return logs.RecordOf(e) }

// logsOptions are the flags of `sesame logs`.
type logsOptions struct {
	typ, user, since string
	limit            int
	follow           bool
	interval         time.Duration
}

func newLogsCmd(a *app) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs [--type CODE] [--user ID] [--since 1h|RFC3339] [--limit N] [--follow]",
		Short: "Show tenant log events (Auth0 codes: fp, fu, sepft, fepft, limit_wc, limit_mu, pwd_leak...)",
		Long: `Show tenant log events, oldest first.

--since takes a duration back from now (90s, 1h, 24h) or an RFC 3339 time. --follow keeps
printing new events as they are written (also by other nodes) until interrupted; with --json
it prints one JSON object per line.`,
		Args: cobra.NoArgs,
		RunE: a.withService(func(cmd *cobra.Command, _ []string, svc *admin.Service) error {
			f := store.LogFilter{Type: o.typ, UserID: o.user, Limit: o.limit}
			if o.since != "" {
				t, err := parseSince(o.since, time.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			if o.follow {
				return followLogs(cmd.Context(), svc.Store, f, o.interval, cmd.OutOrStdout(), a.flags.json)
			}
			evs, err := svc.Store.ListLogs(cmd.Context(), f)
			if err != nil {
				return err
			}
			slices.Reverse(evs) // oldest first, as a log reads
			views := make([]logsJSON, 0, len(evs))
			for _, e := range evs {
				views = append(views, logView(e))
			}
			return a.output(cmd, views, func(w io.Writer) error {
				for _, e := range evs {
					if err := writeLogLine(w, e); err != nil {
						return err
					}
				}
				return nil
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&o.typ, "type", "", "only events of this type (e.g. fp, limit_wc)")
	fl.StringVar(&o.user, "user", "", "only events of this user id")
	fl.StringVar(&o.since, "since", "", "only events since this long ago (1h) or this RFC 3339 time")
	fl.IntVar(&o.limit, "limit", 100, "at most this many events (the newest)")
	fl.BoolVarP(&o.follow, "follow", "f", false, "keep printing new events")
	fl.DurationVar(&o.interval, "interval", 2*time.Second, "how often --follow looks for new events")
	return cmd
}

// parseSince reads a duration back from now or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration back from now must not be negative", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want a duration (1h) or an RFC 3339 time", s)
	}
	return t, nil
}

func writeLogLine(w io.Writer, e store.LogEvent) error {
	user := orDash(cmp.Or(e.UserName, e.UserID))
	_, err := fmt.Fprintf(w, "%s  %-9s %-28s %-15s %s\n", isoTime(e.Date), e.Type, user, orDash(e.IP),
		strings.ReplaceAll(e.Description, "\n", " "))
	return err
}

// followLogs prints the events matching f, then every new one, polling every interval until
// ctx ends. Events are polled by date: each poll asks for events since the newest date seen,
// and skips the IDs already printed at that date.
func followLogs(ctx context.Context, logs store.Logs, f store.LogFilter, interval time.Duration, w io.Writer, asJSON bool) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	seen := map[string]bool{}
	var last time.Time
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		evs, err := logs.ListLogs(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		slices.Reverse(evs)
		for _, e := range evs {
			if seen[e.ID] {
				continue
			}
			if e.Date.After(last) {
				last, seen = e.Date, map[string]bool{}
			}
			seen[e.ID] = true
			if asJSON {
				err = enc.Encode(logView(e)) // one object per line
			} else {
				err = writeLogLine(w, e)
			}
			if err != nil {
				return err
			}
		}
		if !last.IsZero() {
			f.Since = last
		}
		f.Limit = 1000 // a burst between polls should not be cut off
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

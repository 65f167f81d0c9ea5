package sqlstore

import (
	"strings"
	"testing"
)

// TestHotPathsUseIndexes asks each engine for the plan of every query on a hot path (a token
// request, a login) and fails on a full table scan: these tables hold 100k users and 1M
// refresh tokens in production. On PostgreSQL sequential scans are disabled for the check, so
// a "Seq Scan" left in a plan means no index can serve the query.
func TestHotPathsUseIndexes(t *testing.T) {
	queries := []struct {
		name  string
		query string
		args  []any
		scans bool // the control: a query no index serves, to show the check can fail
	}{
		{"control: users by raw email", `SELECT id FROM users WHERE email = ?`, []any{"a@example.com"}, true},
		{"get user", users.get, []any{"auth0|1"}, false},
		{"find user", findUser, []any{"db", "a@example.com", "db", "a@example.com"}, false},
		{"record login", recordLogin, []any{int64(1), "192.0.2.1", "auth0|1"}, false},
		{"get client", clients.get, []any{"c1"}, false},
		{"get resource server", resourceServers.get, []any{"https://api"}, false},
		{"get connection", connections.get, []any{"db"}, false},
		{"find client grant", clientGrants.sel + " " + findClientGrant, []any{"c1", "https://api"}, false},
		{"get token and family", getTokenAndFamily, []any{"h"}, false},
		{"rotate token", rotateToken, []any{int64(1), "h"}, false},
		{"re-read rotation", tokenRotated, []any{"h"}, false},
		{"renew idle expiry", touchToken, []any{int64(1), "h"}, false},
		{"revoke family", revokeFamily, []any{int64(1), "f"}, false},
		{"revoke the family of a token", revokeTokenFamily + "id", []any{int64(1), "h"}, false},
		{"cap families", capFamilies, []any{int64(1), "u", "c", "f", int64(1), 199}, false},
		{"revoke a user's families", `UPDATE refresh_families SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND client_id = ?`,
			[]any{int64(1), "u", "c"}, false},
		{"use once", useOnce, []any{"k", int64(1), int64(1)}, false},
		{"logs by type", logs.sel + ` WHERE type = ? ORDER BY date DESC, id DESC LIMIT ?`, []any{"s", 100}, false},
		{"logs by user", logs.sel + ` WHERE user_id = ? ORDER BY date DESC, id DESC LIMIT ?`, []any{"u", 100}, false},
		{"logs", logs.sel + ` ORDER BY date DESC, id DESC LIMIT ?`, []any{100}, false},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := openT(t, d.dsn(t))
			ctx := t.Context()
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			conn, err := s.write.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			explain := "EXPLAIN QUERY PLAN "
			if s.d.numbered {
				explain = "EXPLAIN "
				if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range queries {
				t.Run(q.name, func(t *testing.T) {
					query := strings.Replace(q.query, "NOLIMIT", s.d.noLimit, 1)
					rows, err := conn.QueryContext(ctx, s.q(explain+query), q.args...)
					if err != nil {
						t.Fatalf("explain: %v", err)
					}
					defer rows.Close()
					cols, _ := rows.Columns()
					var plan []string
					for rows.Next() {
						vals := make([]any, len(cols))
						ptrs := make([]any, len(cols))
						for i := range vals {
							ptrs[i] = &vals[i]
						}
						if err := rows.Scan(ptrs...); err != nil {
							t.Fatal(err)
						}
						line := toString(vals[len(vals)-1])
						plan = append(plan, line)
					}
					if got := scansTable(plan); got != q.scans {
						t.Errorf("plan scans a table: got %v, want %v; plan:\n%s", got, q.scans, strings.Join(plan, "\n"))
					}
				})
			}
		})
	}
}

// scansTable reports whether a plan reads a whole table. Walking an index in order under a
// LIMIT (SQLite's "SCAN t USING INDEX") reads only as many rows as the limit.
func scansTable(plan []string) bool {
	for _, line := range plan {
		l := strings.TrimLeft(line, " |`-")
		if strings.HasPrefix(l, "SCAN ") && !strings.Contains(l, " USING ") || strings.Contains(l, "Seq Scan") {
			return true
		}
	}
	return false
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	default:
		return ""
	}
}

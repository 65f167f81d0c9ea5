package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

var jobs = build(&table[store.Job]{
	name: "jobs", what: "job", key: "id",
	cols: []string{"id", "type", "status", "connection_id", "connection", "params", "summary", "errors",
		"input", "result", "created_at", "updated_at"},
	keyOf: func(j *store.Job) string { return j.ID },
	values: func(e *encoder, j *store.Job) []any {
		return []any{j.ID, j.Type, j.Status, j.ConnectionID, j.Connection, e.json(j.Params), e.json(j.Summary),
			e.json(j.Errors), j.Input, j.Result, timeVal(j.CreatedAt), timeVal(j.UpdatedAt)}
	},
	scan: func(j *store.Job) []any {
		return []any{&j.ID, &j.Type, &j.Status, &j.ConnectionID, &j.Connection, jsonCol{&j.Params}, jsonCol{&j.Summary},
			jsonCol{&j.Errors}, &j.Input, &j.Result, timeCol{&j.CreatedAt}, timeCol{&j.UpdatedAt}}
	},
})

// CreateJob stores a new job; ErrConflict when the ID is taken.
func (s *Store) CreateJob(ctx context.Context, j store.Job) error {
	return insertRow(ctx, s, s.write, jobs, &j)
}

// GetJob returns a job by ID.
func (s *Store) GetJob(ctx context.Context, id string) (store.Job, error) {
	return getRow(ctx, s, s.read, jobs, id)
}

// UpdateJob applies fn to the job in one transaction.
func (s *Store) UpdateJob(ctx context.Context, id string, fn func(*store.Job) error) error {
	return updateRow(ctx, s, jobs, id, fn)
}

// Live refresh-token families of one user, oldest first; the cursor is a family ID.
var (
	userFamilies = `WHERE user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) `
	familyOrder  = `ORDER BY created_at, id LIMIT ?`
	afterFamily  = `AND (created_at, id) > (SELECT created_at, id FROM refresh_families WHERE id = ?) `
)

// ListUserRefreshFamilies returns one page of the user's live refresh-token families.
func (s *Store) ListUserRefreshFamilies(ctx context.Context, userID string, now time.Time, p store.Page) ([]store.RefreshFamily, string, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 50
	}
	rest, args := userFamilies, []any{userID, now.UnixNano()}
	if p.After != "" {
		rest, args = rest+afterFamily, append(args, p.After)
	}
	fs, err := listRows(ctx, s, s.read, families, rest+familyOrder, append(args, limit)...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(fs) == limit {
		next = fs[len(fs)-1].ID
	}
	return fs, next, nil
}

// GetRefreshFamily returns a refresh-token family by ID.
func (s *Store) GetRefreshFamily(ctx context.Context, id string) (store.RefreshFamily, error) {
	return getRow(ctx, s, s.read, families, id)
}

// RevokeRefreshFamilyByID revokes a family by ID; revoking a revoked family changes nothing.
func (s *Store) RevokeRefreshFamilyByID(ctx context.Context, id string, at time.Time) error {
	n, err := affected(s.write.ExecContext(ctx, s.q(`UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`), at.UnixNano(), id))
	if err != nil {
		return fmt.Errorf("sqlstore: revoking refresh-token family %q: %w", id, err)
	}
	if n == 0 {
		return families.notFound(id)
	}
	return nil
}

package admin

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/sesameauth/sesame/internal/store"
)

// JobRunner runs users-imports and users-exports in the background, so that the request that
// starts one answers at once with a pending job, as Auth0's does. Wait returns when every
// started job has ended (tests, and a server shutting down).
type JobRunner struct {
	wg sync.WaitGroup
}

// Wait blocks until every job started so far has ended.
func (r *JobRunner) Wait() { r.wg.Wait() }

// run runs fn in the background under r, or at once when r is nil (the CLI has no
// background to leave a job in).
func (r *JobRunner) run(ctx context.Context, fn func(context.Context)) {
	ctx = context.WithoutCancel(ctx)
	if r == nil {
		fn(ctx)
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn(ctx)
	}()
}

// UsersImportOptions are a users-imports job's options (POST /api/v2/jobs/users-imports).
type UsersImportOptions struct {
	ConnectionID        string
	Upsert              bool
	ExternalID          string
	SendCompletionEmail bool
}

// connectionByID finds a database connection by its con_ ID.
func (s *Service) connectionByID(ctx context.Context, id string) (store.Connection, error) {
	if id == "" {
		return store.Connection{}, invalid("connection_id", "is required")
	}
	cs, err := s.Store.ListConnections(ctx)
	if err != nil {
		return store.Connection{}, err
	}
	for _, c := range cs {
		if c.ID == id {
			return s.databaseConnection(ctx, c.Name)
		}
	}
	return store.Connection{}, invalid("connection_id", "no connection %q", id)
}

// StartUsersImport checks and stores a users file and starts importing it into the
// connection (ImportUsers's rules, row by row); the job is returned pending. A file that is
// not a JSON array of objects is refused at once and starts nothing.
func (s *Service) StartUsersImport(ctx context.Context, file io.Reader, o UsersImportOptions) (store.Job, error) {
	conn, err := s.connectionByID(ctx, o.ConnectionID)
	if err != nil {
		return store.Job{}, err
	}
	data, err := io.ReadAll(io.LimitReader(file, MaxImportBytes+1))
	if err != nil {
		return store.Job{}, err
	}
	if _, err := ParseImportFile(bytes.NewReader(data)); err != nil {
		return store.Job{}, invalid("users", "%v", err)
	}
	now := s.now()
	j := store.Job{ID: store.NewID("job_", 8), Type: store.JobUsersImport, Status: store.JobPending,
		ConnectionID: conn.ID, Connection: conn.Name, Input: data, CreatedAt: now, UpdatedAt: now,
		Params: map[string]any{"upsert": o.Upsert, "send_completion_email": o.SendCompletionEmail}}
	if o.ExternalID != "" {
		j.Params["external_id"] = o.ExternalID
	}
	if err := s.Store.CreateJob(ctx, j); err != nil {
		return store.Job{}, err
	}
	j.Input = nil
	s.Jobs.run(ctx, func(ctx context.Context) { s.runImport(ctx, j.ID, conn.Name, data, o.Upsert) })
	return j, nil
}

func (s *Service) runImport(ctx context.Context, id, connection string, data []byte, upsert bool) {
	s.setJob(ctx, id, func(j *store.Job) { j.Status = store.JobProcessing })
	rep, err := s.ImportUsers(ctx, connection, bytes.NewReader(data), ImportOptions{Upsert: upsert})
	s.setJob(ctx, id, func(j *store.Job) {
		j.Input = nil
		if err != nil {
			j.Status = store.JobFailed
			j.Summary = map[string]any{"failed": 0, "updated": 0, "inserted": 0, "total": 0}
			j.Errors = []map[string]any{{"errors": []any{map[string]any{"code": "INTERNAL_ERROR", "message": err.Error()}}}}
			return
		}
		j.Status = store.JobCompleted
		j.Summary = map[string]any{"failed": len(rep.Failed), "updated": rep.Updated, "inserted": rep.Created, "total": rep.Total}
		j.Errors = []map[string]any{}
		for _, f := range rep.Failed {
			code := "INVALID_USER"
			if strings.HasPrefix(f.Reason, "DUPLICATED_USER") {
				code = "DUPLICATED_USER"
			}
			j.Errors = append(j.Errors, map[string]any{
				"user":   map[string]any{"email": f.Email, "index": f.Index},
				"errors": []any{map[string]any{"code": code, "message": f.Reason, "path": fmt.Sprintf("users[%d]", f.Index)}},
			})
		}
	})
}

// setJob updates a job's state; a failure is only logged, as the job runs with no caller.
func (s *Service) setJob(ctx context.Context, id string, fn func(*store.Job)) {
	now := s.now()
	err := s.Store.UpdateJob(ctx, id, func(j *store.Job) error {
		fn(j)
		j.UpdatedAt = now
		return nil
	})
	if err != nil {
		slog.Error("updating a job", "job_id", id, "err", err)
	}
}

// GetJob returns a job (GET /api/v2/jobs/{id}); its input and result are not loaded into
// the answer.
func (s *Service) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := s.Store.GetJob(ctx, id)
	if err != nil {
		return store.Job{}, storeErr(err, "job", id)
	}
	j.Input = nil
	return j, nil
}

// JobErrors returns the rows a users-imports job could not import (GET
// /api/v2/jobs/{id}/errors).
func (s *Service) JobErrors(ctx context.Context, id string) ([]map[string]any, error) {
	j, err := s.Store.GetJob(ctx, id)
	if err != nil {
		return nil, storeErr(err, "job", id)
	}
	if j.Errors == nil {
		return []map[string]any{}, nil
	}
	return j.Errors, nil
}

// ExportField is one column of an export: a user field (Auth0's profile names, or
// user_metadata.x / app_metadata.x) and the name it is written under (default: the same).
type ExportField struct {
	Name     string `json:"name"`
	ExportAs string `json:"export_as,omitempty"`
}

// UsersExportOptions are a users-exports job's options (POST /api/v2/jobs/users-exports).
type UsersExportOptions struct {
	// ConnectionID narrows the export to one connection ("" = every user).
	ConnectionID string
	// Format is "json" (one JSON object per line, as Auth0 writes it) or "csv".
	Format string
	// Fields are the columns; none means the default profile fields.
	Fields []ExportField
	// Limit caps the number of users (0 = all).
	Limit int
}

// defaultExportFields are written when an export names none.
var defaultExportFields = []string{"user_id", "email", "email_verified", "username", "name", "nickname", "given_name",
	"family_name", "picture", "created_at", "updated_at", "last_login", "logins_count", "blocked", "user_metadata", "app_metadata"}

// StartUsersExport starts writing the users to a gzip-compressed file kept with the job
// (Auth0 hands out a .json.gz or .csv.gz the same way); the job is returned pending.
func (s *Service) StartUsersExport(ctx context.Context, o UsersExportOptions) (store.Job, error) {
	var errs []error
	if o.Format == "" {
		o.Format = "json"
	}
	if o.Format != "json" && o.Format != "csv" {
		errs = append(errs, invalid("format", "must be json or csv"))
	}
	if o.Limit < 0 {
		errs = append(errs, invalid("limit", "must not be negative"))
	}
	for i, f := range o.Fields {
		if _, err := (&queryParser{schema: userSchema}).fieldType(f.Name); err != nil || f.Name == "" {
			if f.Name != "identities" {
				errs = append(errs, invalid("fields", "[%d]: no user field %q", i, f.Name))
			}
		}
	}
	if len(errs) > 0 {
		return store.Job{}, errors.Join(errs...)
	}
	var conn store.Connection
	if o.ConnectionID != "" {
		var err error
		if conn, err = s.connectionByID(ctx, o.ConnectionID); err != nil {
			return store.Job{}, err
		}
	}
	now := s.now()
	fields := o.Fields
	if len(fields) == 0 {
		for _, f := range defaultExportFields {
			fields = append(fields, ExportField{Name: f})
		}
	}
	j := store.Job{ID: store.NewID("job_", 8), Type: store.JobUsersExport, Status: store.JobPending,
		ConnectionID: conn.ID, Connection: conn.Name, CreatedAt: now, UpdatedAt: now,
		Params: map[string]any{"format": o.Format, "limit": o.Limit, "fields": fields}}
	if err := s.Store.CreateJob(ctx, j); err != nil {
		return store.Job{}, err
	}
	s.Jobs.run(ctx, func(ctx context.Context) { s.runExport(ctx, j.ID, conn.Name, o.Format, fields, o.Limit) })
	return j, nil
}

// exportPage is how many users the export reads per store query (keyset paging).
const exportPage = 500

func (s *Service) runExport(ctx context.Context, id, connection, format string, fields []ExportField, limit int) {
	s.setJob(ctx, id, func(j *store.Job) { j.Status = store.JobProcessing })
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	err := s.writeExport(ctx, zw, connection, format, fields, limit)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	s.setJob(ctx, id, func(j *store.Job) {
		if err != nil {
			j.Status = store.JobFailed
			j.Errors = []map[string]any{{"errors": []any{map[string]any{"code": "INTERNAL_ERROR", "message": err.Error()}}}}
			return
		}
		j.Status, j.Result = store.JobCompleted, buf.Bytes()
	})
}

func (s *Service) writeExport(ctx context.Context, w io.Writer, connection, format string, fields []ExportField, limit int) error {
	var where store.Cond
	if connection != "" {
		where = store.Match{Field: "identities.connection", Op: store.MatchEqual, Value: connection}
	}
	cw := csv.NewWriter(w)
	if format == "csv" {
		header := make([]string, len(fields))
		for i, f := range fields {
			header[i] = exportName(f)
		}
		if err := cw.Write(header); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	n, after := 0, ""
	for {
		us, next, err := s.searchStore().SearchUsers(ctx, store.UserQuery{Where: where, Page: store.Page{Limit: exportPage, After: after}})
		if err != nil {
			return err
		}
		for _, u := range us {
			if limit > 0 && n >= limit {
				cw.Flush()
				return cw.Error()
			}
			n++
			p := UserProfile(u)
			if format == "csv" {
				row := make([]string, len(fields))
				for i, f := range fields {
					row[i] = csvValue(fieldValue(p, f.Name))
				}
				if err := cw.Write(row); err != nil {
					return err
				}
				continue
			}
			obj := make(map[string]any, len(fields))
			for _, f := range fields {
				if v := fieldValue(p, f.Name); v != nil {
					obj[exportName(f)] = v
				}
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		if next == "" {
			cw.Flush()
			return cw.Error()
		}
		after = next
	}
}

func exportName(f ExportField) string {
	if f.ExportAs != "" {
		return f.ExportAs
	}
	return f.Name
}

// fieldValue reads a profile field, a metadata path included.
func fieldValue(p map[string]any, name string) any {
	if v, ok := p[name]; ok {
		return v
	}
	var cur any = p
	for _, k := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func csvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

// JobResult returns a completed export's file (gzip-compressed) and its name.
func (s *Service) JobResult(ctx context.Context, id string) ([]byte, string, error) {
	j, err := s.Store.GetJob(ctx, id)
	if err != nil {
		return nil, "", storeErr(err, "job", id)
	}
	if j.Type != store.JobUsersExport || j.Status != store.JobCompleted {
		return nil, "", &NotFoundError{Kind: "export file of job", ID: id}
	}
	format, _ := j.Params["format"].(string)
	return j.Result, id + "." + format + ".gz", nil
}

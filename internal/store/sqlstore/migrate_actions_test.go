package sqlstore

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMigrateActionVersions upgrades a database whose deployed action ran its own code (before
// action versions existed): the code becomes the action's deployed version 1, so what runs
// does not change, while a draft-only action stays undeployed.
func TestMigrateActionVersions(t *testing.T) {
	const versions = "action_versions.sql" // the migration under test, whatever its number
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := openT(t, d.dsn(t))
			ctx := t.Context()
			before, after := fstest.MapFS{}, fstest.MapFS{}
			names, err := fs.Glob(s.d.migrations, "*.sql")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				b, err := fs.ReadFile(s.d.migrations, name)
				if err != nil {
					t.Fatal(err)
				}
				after[name] = &fstest.MapFile{Data: b}
				if !strings.HasSuffix(name, "_"+versions) {
					before[name] = &fstest.MapFile{Data: b}
				}
			}
			if len(before) != len(after)-1 {
				t.Fatalf("found %d migrations besides *_%s among %d", len(before), versions, len(after))
			}
			if err := s.migrate(ctx, before); err != nil {
				t.Fatal(err)
			}
			for _, row := range []struct {
				name, id string
				deployed bool
			}{{"live", "act_live", true}, {"draft", "act_draft", false}} {
				if _, err := s.write.db.ExecContext(ctx, s.q(`INSERT INTO actions (name, id, code, runtime, dependencies,
					supported_triggers, secrets, deployed, created_at, updated_at) VALUES (?, ?, ?, 'node18', 'null', '["post-login"]', 'null', ?, 1, 2)`),
					row.name, row.id, "// "+row.name, row.deployed); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.migrate(ctx, after); err != nil {
				t.Fatal(err)
			}
			live, err := s.GetAction(ctx, "live")
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.GetActionVersion(ctx, live.ID, live.DeployedVersion)
			if err != nil || v.Number != 1 || v.Code != "// live" || v.SupportedTriggers[0] != "post-login" {
				t.Errorf("deployed action after the migration: version %+v, %v, want its code as version 1", v, err)
			}
			if draft, err := s.GetAction(ctx, "draft"); err != nil || draft.DeployedVersion != "" {
				t.Errorf("draft after the migration: %+v, %v, want no deployed version", draft, err)
			}
			if n, err := s.ListActionVersions(ctx, "act_draft"); err != nil || len(n) != 0 {
				t.Errorf("versions of the draft: %v, %v, want none", n, err)
			}
		})
	}
}

package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/server"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// errPostgresBackup points a PostgreSQL user at the tools made for it.
var errPostgresBackup = errors.New("backup and restore are for the embedded SQLite database; back up PostgreSQL with pg_dump (and restore with pg_restore), plus the KEK: see docs/operations.md")

func newBackupCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent snapshot of the SQLite database while the server runs",
		Long: `Write a consistent snapshot of the SQLite database named by --db (or the config) to FILE,
while servers keep serving (SQLite's VACUUM INTO: one read transaction, no writer blocked). FILE
must not exist; it is created with mode 0600 and checked with integrity_check.

The key-encryption key is not in the snapshot, by design: keep a copy of it apart from the
database backups. Without it a restored database's signing keys, HS256 secrets and TOTP secrets
cannot be opened. For PostgreSQL use pg_dump (docs/operations.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, path, err := a.sqliteFile(cmd, "--out", out)
			if err != nil {
				return err
			}
			if err := sqlstore.Backup(cmd.Context(), path, out); err != nil {
				return err
			}
			fi, err := os.Stat(out)
			if err != nil {
				return err
			}
			kek := kekLocation(cfg, path)
			if a.flags.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"backup": out, "bytes": fi.Size(), "db": path, "kek": kek})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s (%d bytes), a consistent snapshot of %s.\n"+
				"The key-encryption key is not in it: back up %s separately.\n", out, fi.Size(), path, kek)
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the snapshot to (must not exist)")
	return cmd
}

func newRestoreCmd(a *app) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Put a snapshot made by sesame backup back in place of the SQLite database",
		Long: `Replace the SQLite database named by --db (or the config) with FILE, a snapshot made by
sesame backup. It refuses while a server or another sesame command has the database open (each
holds a shared lock on DB.lock), and checks FILE with integrity_check before touching anything.
The old -wal and -shm files are removed; the snapshot is renamed into place, so a crash leaves the
old database or the new one. Start the server with the key-encryption key that was in use when
the snapshot was taken.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, path, err := a.sqliteFile(cmd, "--from", from)
			if err != nil {
				return err
			}
			if err := sqlstore.Restore(cmd.Context(), from, path); err != nil {
				return err
			}
			if a.flags.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"restored": from, "db": path})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Restored %s from %s. Start the server with the key-encryption key (%s) of that snapshot.\n",
				path, from, kekLocation(cfg, path))
			return err
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "snapshot file written by sesame backup")
	return cmd
}

// kekLocation says where the key-encryption key of cfg lives, without reading or creating it.
func kekLocation(cfg config.Server, dbPath string) string {
	switch {
	case cfg.KEKFile != "":
		return cfg.KEKFile
	case cfg.KEK != "":
		return "the kek setting (--kek / SESAME_KEK)"
	}
	return filepath.Join(filepath.Dir(dbPath), server.DefaultKEKFileName)
}

// sqliteFile resolves the config of a backup or restore and the SQLite file it names; file is
// the snapshot flag's value (flag names it in the error when it is missing).
func (a *app) sqliteFile(cmd *cobra.Command, flag, file string) (config.Server, string, error) {
	cfg, err := a.resolveServerConfig(cmd)
	if err != nil {
		return cfg, "", err
	}
	path, ok := sqlstore.SQLitePath(cfg.DB)
	if !ok {
		return cfg, "", errPostgresBackup
	}
	if file == "" {
		return cfg, "", fmt.Errorf("%s FILE is required", flag)
	}
	return cfg, path, nil
}

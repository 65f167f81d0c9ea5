//go:build unix

package sqlstore

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSQLiteFilesPrivate opens a new database under an empty umask (the worst case: SQLite
// alone would create 0644 files) and checks that the database, -wal and -shm files are 0600,
// and that ExposedFiles finds a widened one.
func TestSQLiteFilesPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "private.db")
	st, err := Open(t.Context(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil { // writes: the -wal and -shm files exist now
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: got mode %04o, want 0600", filepath.Base(p), got)
		}
	}
	if got := ExposedFiles(path); len(got) != 0 {
		t.Errorf("ExposedFiles of a new database: got %v, want none", got)
	}
	if err := os.Chmod(path+"-wal", 0o604); err != nil {
		t.Fatal(err)
	}
	if got := ExposedFiles(path); len(got) != 1 || got[0].Path != path+"-wal" || got[0].Mode != 0o604 {
		t.Errorf("ExposedFiles after chmod 604 of the -wal: got %v, want just it", got)
	}
}

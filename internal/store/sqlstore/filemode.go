package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// createPrivate creates the SQLite database file at path with mode 0600 when it does not exist
// yet. The file holds password hashes, sealed signing keys and refresh-token hashes, so only
// its owner may read it, like the key-encryption key file beside it. SQLite itself would
// create it with 0644 less the umask; it then gives the -wal and -shm files it creates the
// mode of the database file, so a private database keeps its journal and shared memory
// private too. The mode is set with a chmod after creation, so no umask can widen or narrow
// it. An existing file is left as it is: ExposedFiles reports it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlstore: creating the database file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("sqlstore: creating the database file: %w", err)
	}
	return f.Close()
}

// ExposedFile is a file of a SQLite database that users other than its owner may read.
type ExposedFile struct {
	Path string
	Mode fs.FileMode
}

// ExposedFiles returns those of the SQLite database at path and its -wal and -shm files that
// exist and are readable by the group or by others. The server warns about each at start-up:
// a database made before Sesame created its files 0600, or copied with a wide mode, leaks
// every password hash to other local users.
func ExposedFiles(path string) []ExposedFile {
	var out []ExposedFile
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.Mode().Perm()&0o044 != 0 {
			out = append(out, ExposedFile{Path: p, Mode: fi.Mode().Perm()})
		}
	}
	return out
}

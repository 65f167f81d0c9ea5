//go:build !unix

package sqlstore

import "os"

// flock is a no-op where flock(2) does not exist: there, restore cannot tell whether a server
// has the database open, and the operator must stop it first (docs/operations.md).
func flock(*os.File, bool, bool) error { return nil }

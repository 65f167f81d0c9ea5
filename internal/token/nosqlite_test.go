//go:build !sqlstore

package token_test

// sqliteBackend reports that sqlstore is not built into this test binary. Build with
// -tags sqlstore to run the key lifecycle tests on SQLite too.
func sqliteBackend() (backend, bool) { return backend{}, false }

//go:build unix

package sqlstore

import (
	"errors"
	"os"
	"syscall"
)

// flock takes an advisory lock on f: shared or exclusive, waiting or not. flock locks belong to
// the open file, so they vanish with the process however it ends: a crashed server never
// leaves a stale lock behind.
func flock(f *os.File, exclusive, wait bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return errLocked
		}
		return err
	}
}

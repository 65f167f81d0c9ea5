//go:build unix

package oauthserver_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used (user and system). Benchmarks report it
// beside wall time because on a shared machine other processes stretch wall time, not this.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package loadgen

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoProcess is returned when no local process listens on the port.
var ErrNoProcess = errors.New("loadgen: no local process listens on that port")

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100 on every Linux
// architecture Go supports (it is fixed by the kernel ABI, not by CONFIG_HZ).
const clockTicks = 100

// ProcSample is a process's CPU time so far and its peak resident set.
type ProcSample struct {
	CPU        time.Duration
	PeakRSSKiB int64
}

// SampleProc reads utime+stime from /proc/PID/stat and VmHWM from /proc/PID/status.
func SampleProc(pid int) (ProcSample, error) {
	var s ProcSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces; the fields after its ')' are fixed.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return s, fmt.Errorf("loadgen: unreadable /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
	if len(f) < 13 {
		return s, fmt.Errorf("loadgen: short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return s, fmt.Errorf("loadgen: /proc/%d/stat: %w", pid, err)
	}
	s.CPU = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			s.PeakRSSKiB, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return s, sc.Err()
}

// ResetPeakRSS asks the kernel to restart VmHWM from the current RSS (writing 5 to
// clear_refs), so that the peak read after a run is the run's. It needs the right to write
// the process's clear_refs (the same user).
func ResetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// FindListener returns the PID of the local process listening on TCP port, found through
// /proc/net/tcp{,6} (socket inode) and /proc/*/fd (which process holds that socket).
func FindListener(port int) (int, error) {
	inodes := map[string]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// sl local_address rem_address st ... inode(9); 0A is LISTEN.
			if len(f) < 10 || f[3] != "0A" {
				continue
			}
			_, hexPort, ok := strings.Cut(f[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); ok && err == nil && int(p) == port {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, ErrNoProcess
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		if link, err := os.Readlink(fd); err == nil && inodes[link] {
			pid, err := strconv.Atoi(strings.Split(fd, "/")[2])
			if err == nil {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("%w (a socket listens on %d, but no readable process holds it)", ErrNoProcess, port)
}

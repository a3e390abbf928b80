//go:build unix

package store

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, which, unlike the wall time, the
// other processes on a busy machine do not inflate.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

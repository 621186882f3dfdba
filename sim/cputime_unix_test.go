//go:build unix

package sim

import (
	"syscall"
	"time"
)

// cpuTime is the process's user + system CPU time: on a machine shared with other work it
// measures the benchmark's own cost, which wall time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

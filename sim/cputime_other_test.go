//go:build !unix

package sim

import "time"

// cpuTime is not measured on this platform; the benchmark then reports wall time only.
func cpuTime() time.Duration { return 0 }

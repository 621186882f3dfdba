//go:build !amd64

package sim

import "unsafe"

// prefetch asks the CPU to bring the cache line at p in, without waiting for it: a no-op
// where the simulator has no assembly for it.
func prefetch(p unsafe.Pointer) {}

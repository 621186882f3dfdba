package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Stream returns the random stream of one named consumer (a component, the workload) for a
// run seed. Streams are derived from the seed and the name only, so adding a component does
// not shift the draws of the others: two scenarios that share component names see the same
// random numbers where they share structure (common random numbers), which is what makes a
// side-by-side comparison sharp.
func Stream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	n := h.Sum64()
	return rand.New(rand.NewPCG(splitmix(seed^0x9e3779b97f4a7c15), splitmix(n+seed)))
}

// ReplicationSeed derives the seed of replication i from the run seed; replication 0 is the
// run seed itself, so a single run and the first replication agree.
func ReplicationSeed(seed uint64, i int) uint64 {
	if i == 0 {
		return seed
	}
	return splitmix(seed + uint64(i)*0xbf58476d1ce4e5b9)
}

// splitmix is SplitMix64's output function: a bijective mixer that spreads nearby seeds
// far apart.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

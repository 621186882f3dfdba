package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Rng is one random stream: a PCG generator (math/rand/v2's) with the draws the model
// makes. It gives exactly what rand.New(pcg) would — Float64 and Uint64 are computed as
// rand.Rand computes them, and the other draws are rand.Rand's own over the same state —
// but the uniform draws on the hot paths call the generator directly rather than through
// rand.Rand's Source interface, which cannot be inlined.
//
// It is the generator's 16 bytes of state and nothing else, so a component holds its stream
// by value, beside the counters it updates on the same call, instead of behind a pointer to
// a separate allocation whose line the CPU has to fetch first (3% of the comparison's CPU
// time went to that load). The draws taken from math/rand wrap the state in a rand.Rand for
// the one call, on the stack.
type Rng struct {
	src rand.PCG
}

func newRng(seed1, seed2 uint64) *Rng {
	return &Rng{src: *rand.NewPCG(seed1, seed2)}
}

// Uint64 returns a uniform 64-bit value.
func (g *Rng) Uint64() uint64 { return g.src.Uint64() }

// Float64 returns a uniform value in [0, 1), as rand.Rand.Float64 does.
func (g *Rng) Float64() float64 { return float64(g.src.Uint64()<<11>>11) / (1 << 53) }

// ExpFloat64 returns an exponential value of mean 1 (rand.Rand.ExpFloat64).
func (g *Rng) ExpFloat64() float64 { return rand.New(&g.src).ExpFloat64() }

// IntN returns a uniform value in [0, n) (rand.Rand.IntN).
func (g *Rng) IntN(n int) int { return rand.New(&g.src).IntN(n) }

// Uint64N returns a uniform value in [0, n) (rand.Rand.Uint64N).
func (g *Rng) Uint64N(n uint64) uint64 { return rand.New(&g.src).Uint64N(n) }

// Stream returns the random stream of one named consumer (a component, the workload) for a
// run seed. Streams are derived from the seed and the name only, so adding a component does
// not shift the draws of the others: two scenarios that share component names see the same
// random numbers where they share structure (common random numbers), which is what makes a
// side-by-side comparison sharp.
func Stream(seed uint64, name string) *Rng {
	h := fnv.New64a()
	h.Write([]byte(name))
	n := h.Sum64()
	return newRng(splitmix(seed^0x9e3779b97f4a7c15), splitmix(n+seed))
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

package sim

import "math"

// tokenScale is the number of bucket units per token. Counting in billionths of a token
// makes a refill at r tokens per second exactly r units per nanosecond, so an integral rate
// refills in exact integer arithmetic and the admitted count over a window is exactly
// rate × window + burst, never one off from a rounding error.
const tokenScale = 1_000_000_000

// tokenBucket is a token bucket refilled lazily: it keeps the level and the time it was
// last brought up to date, and adds what accrued in between whenever it is used. A bucket
// costs no event however long it stays idle. It starts full.
type tokenBucket struct {
	rate  float64 // units per nanosecond, i.e. tokens per second
	cap   int64   // units
	level int64   // units
	last  Time
}

// newTokenBucket returns a full bucket of burst tokens refilled at rate tokens per second.
func newTokenBucket(rate, burst float64) tokenBucket {
	c := int64(math.Round(burst * tokenScale))
	return tokenBucket{rate: rate, cap: c, level: c}
}

// refill brings the level up to date at now. Time only moves forward here: a caller that
// charges work at a slightly earlier time than the last one simply gets no refill.
func (b *tokenBucket) refill(now Time) {
	if now <= b.last {
		return
	}
	if b.level < b.cap {
		add := b.rate * float64(now-b.last)
		if add >= float64(b.cap-b.level) {
			b.level = b.cap
		} else {
			b.level += int64(add)
		}
	}
	b.last = now
}

// has reports whether n tokens are available at now, without taking them.
func (b *tokenBucket) has(now Time, n int64) bool {
	b.refill(now)
	return b.level >= n*tokenScale
}

// spend takes n tokens that has just reported available.
func (b *tokenBucket) spend(n int64) { b.level -= n * tokenScale }

// take takes n tokens if they are available at now.
func (b *tokenBucket) take(now Time, n int64) bool {
	if !b.has(now, n) {
		return false
	}
	b.spend(n)
	return true
}

// takeUnits takes x tokens (fractional, e.g. capacity units) if they are available at now.
func (b *tokenBucket) takeUnits(now Time, x float64) bool {
	b.refill(now)
	u := int64(math.Ceil(x * tokenScale))
	if b.level < u {
		return false
	}
	b.level -= u
	return true
}

// tokens returns the tokens available at now.
func (b *tokenBucket) tokens(now Time) float64 {
	b.refill(now)
	return float64(b.level) / tokenScale
}

package sim

import "math/bits"

// compStats are the figures every component keeps in the same way, so that results,
// Little's-law checks and time series treat all kinds alike. Counters cover the measured
// period (they are reset at the end of the warm-up).
type compStats struct {
	offered, accepted, rejected, completed int64
	throttled                              int64
	waited                                 int64 // started service, or was abandoned, after a non-zero wait
	wait, sojourn                          *Latency
	// inSys counts what is in the component (waiting + in service); busy what is in
	// service. Their difference is the queue depth.
	inSys, busy Gauge
	// Batch means for the confidence intervals of the mean wait and the blocking ratio.
	waitBM, blockBM *BatchMeans
	// capacity is the concurrency limit in force, 0 when none.
	capacity int64
	// arrivals is the sum of the admission times (ns) of what is in the component now, so
	// that count·t − arrivals is its total age at t. Kept with the count at the start of
	// the measured period (startN, startArrivals, startAt), it closes Little's law exactly
	// over a finite period: see littleCheck.
	arrivals      sum128
	startN        int64
	startArrivals sum128
	startAt       Time
}

// sum128 is an exact sum of non-negative int64s in 128 bits: two integer instructions per
// update, no rounding however large a backlog's total age grows.
type sum128 struct{ hi, lo uint64 }

func (s *sum128) add(x Time) {
	var c uint64
	s.lo, c = bits.Add64(s.lo, uint64(x), 0)
	s.hi += c
}

func (s *sum128) sub(x Time) {
	var b uint64
	s.lo, b = bits.Sub64(s.lo, uint64(x), 0)
	s.hi -= b
}

// ageAt returns n·t − s (the total age at t of n requests whose admission times sum to s),
// as a float64.
func (s sum128) ageAt(n int64, t Time) float64 {
	hi, lo := bits.Mul64(uint64(n), uint64(t)) // n, t ≥ 0
	lo, b := bits.Sub64(lo, s.lo, 0)
	hi, _ = bits.Sub64(hi, s.hi, b)
	if int64(hi) < 0 { // more admitted time than n·t: a bookkeeping error, keep its sign
		hi, lo = ^hi, ^lo
		lo, c := bits.Add64(lo, 1, 0)
		hi += c
		return -(float64(hi)*0x1p64 + float64(lo))
	}
	return float64(hi)*0x1p64 + float64(lo)
}

func (s *compStats) init(m *Model) {
	s.wait = NewLatency(m.horizon)
	s.sojourn = NewLatency(m.horizon)
	s.waitBM = NewBatchMeans(m.warmup, m.horizon)
	s.blockBM = NewBatchMeans(m.warmup, m.horizon)
}

// offer counts an arrival.
func (s *compStats) offer() { s.offered++ }

// admit counts an arrival let in.
func (s *compStats) admit(now Time) {
	s.accepted++
	s.inSys.Add(now, 1)
	s.arrivals.add(now)
	s.blockBM.Add(now, 0, 1)
}

// refuse counts an arrival turned away (blocked, throttled).
func (s *compStats) refuse(now Time) {
	s.rejected++
	s.blockBM.Add(now, 1, 1)
}

// start counts the start of service after waiting wait.
func (s *compStats) start(now, wait Time) {
	s.busy.Add(now, 1)
	s.wait.Record(wait)
	if wait > 0 {
		s.waited++
	}
	s.waitBM.Add(now, float64(wait), 1)
}

// gaveUp counts the wait of an admitted request that left its queue before service (a VM
// tier's or a deployment's queue_timeout): it waited all that time, so its wait is among the
// waits, as in a queue with abandonment's waiting-time distribution. Without it, a tier
// that abandons most of its requests would report only the short waits of those that got a
// worker. It takes no server; leave ends the request's stay.
func (s *compStats) gaveUp(now, wait Time) {
	s.wait.Record(wait)
	if wait > 0 {
		s.waited++
	}
	s.waitBM.Add(now, float64(wait), 1)
}

// done counts a departure after sojourn in the component, which must be the time since it
// was admitted.
func (s *compStats) done(now, sojourn Time) {
	s.completed++
	s.arrivals.sub(now - sojourn)
	s.busy.Add(now, -1)
	s.inSys.Add(now, -1)
	s.sojourn.Record(sojourn)
}

// reset starts the measured period at now; what is in the component stays.
func (s *compStats) reset(m *Model, now Time) {
	s.offered, s.accepted, s.rejected, s.completed, s.throttled, s.waited = 0, 0, 0, 0, 0, 0
	s.wait.Reset()
	s.sojourn.Reset()
	s.inSys.Reset(now)
	s.busy.Reset(now)
	s.startN, s.startArrivals, s.startAt = s.inSys.Value(), s.arrivals, now
}

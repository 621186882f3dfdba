package sim

import (
	"math"
	"math/bits"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/headroom/headroom/result"
)

// Latency records a latency distribution: an HDR histogram in microseconds (3 significant
// digits) for the percentiles, and the exact sum for the mean, so that a mean compared with
// a textbook value carries no bucketing error.
//
// Recording is the hottest statistic (several per request), so the counts are kept here in
// exactly the layout of hdrhistogram-go's Histogram (lowest value 1, 3 significant digits)
// and incremented inline; Stats hands them to the library (hdr.Import), which computes the
// percentiles. TestLatencyCountsMatchTheHDRLibrary holds the two layouts together.
//
// A count is kept in 16 bits, with the multiples of 2¹⁶ in a second array that a bucket
// touches once every 65,536 records: the buckets a run's latencies fall in (a few thousand
// per histogram, ten histograms or more per request's path) then take a quarter of the
// cache lines that 64-bit counts would. Baseline and multi-region, 2 h around the peak,
// alternating: 0.97× and 0.83–0.95× the CPU time of 64-bit counts, results identical.
type Latency struct {
	counts  []uint16 // each bucket's count modulo 2¹⁶
	carries []int64  // each bucket's count less its low 16 bits (nil until a bucket wraps)
	highest int64    // microseconds; longer observations are clamped to it
	sum     float64  // nanoseconds
	n       int64
	max     Time
	// Padding to 128 bytes, a size class whose objects start on a cache line: the sum, count
	// and maximum that every record writes then never share a line with another
	// simulation's, which a comparison runs at the same time on the other core.
	_ [48]byte
}

// The HDR layout for lowest discernible value 1 and 3 significant digits: 2048 sub-buckets,
// of which each bucket after the first uses the upper half (1024) at twice the resolution
// step of the one before. Value v falls in bucket b = bitlen(v | 2047) − 11, at index
// b·1024 + v>>b.
const (
	hdrSigDigits  = 3
	hdrSubBuckets = 2048
	hdrSubBits    = 11 // log2(hdrSubBuckets)
	hdrHalfBits   = hdrSubBits - 1
)

func hdrIndex(v int64) int {
	b := bits.Len64(uint64(v)|(hdrSubBuckets-1)) - hdrSubBits
	return b<<hdrHalfBits + int(v>>uint(b))
}

// NewLatency returns a recorder for latencies up to max (longer ones are clamped).
func NewLatency(max Time) *Latency {
	us := int64(max/Microsecond) + 1
	if us < 1000 {
		us = 1000
	}
	return &Latency{counts: make([]uint16, hdrIndex(us)+1), highest: us}
}

// Record adds one observation.
func (l *Latency) Record(d Time) {
	if d < 0 {
		d = 0
	}
	l.sum += float64(d)
	l.n++
	if d > l.max {
		l.max = d
	}
	us := int64(d / Microsecond)
	if us > l.highest {
		us = l.highest
	}
	i := hdrIndex(us)
	c := l.counts[i] + 1
	l.counts[i] = c
	if c == 0 {
		l.carry(i)
	}
}

// carry adds the 2¹⁶ records that bucket i's low count has just wrapped around.
func (l *Latency) carry(i int) {
	if l.carries == nil {
		l.carries = make([]int64, len(l.counts))
	}
	l.carries[i] += 1 << 16
}

// Count returns the number of observations.
func (l *Latency) Count() int64 { return l.n }

// MeanMS returns the exact mean in milliseconds.
func (l *Latency) MeanMS() float64 {
	if l.n == 0 {
		return 0
	}
	return l.sum / float64(l.n) / 1e6
}

// Reset forgets every observation.
func (l *Latency) Reset() {
	clear(l.counts)
	clear(l.carries)
	l.sum, l.n, l.max = 0, 0, 0
}

// Histogram returns the observations as an hdrhistogram-go histogram (a copy).
func (l *Latency) Histogram() *hdr.Histogram {
	return hdr.Import(&hdr.Snapshot{
		LowestTrackableValue:  1,
		HighestTrackableValue: l.highest,
		SignificantFigures:    hdrSigDigits,
		Counts:                l.fullCounts(),
	})
}

// fullCounts returns every bucket's whole count.
func (l *Latency) fullCounts() []int64 {
	c := make([]int64, len(l.counts))
	for i, v := range l.counts {
		c[i] = int64(v)
	}
	for i, v := range l.carries { // none until a bucket first wraps
		c[i] += v
	}
	return c
}

// Stats summarises the observations in milliseconds.
func (l *Latency) Stats() result.Stats {
	if l.n == 0 {
		return result.Stats{}
	}
	h := l.Histogram()
	q := func(p float64) float64 { return float64(h.ValueAtQuantile(p)) / 1000 }
	return result.Stats{
		Count: l.n,
		Mean:  round6(l.MeanMS()),
		P50:   q(50),
		P90:   q(90),
		P95:   q(95),
		P99:   q(99),
		P999:  q(99.9),
		Max:   round6(l.max.Millis()),
	}
}

// round6 rounds to 6 significant decimals after the point, so that JSON carries no noise
// digits; the value is still a pure function of the run.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// Gauge is a quantity that changes at event times (number in system, busy servers); it keeps
// its time integral for time averages and its peak.
type Gauge struct {
	v     int64
	peak  int64
	last  Time
	area  float64 // value × nanoseconds since start
	start Time
}

// Add changes the gauge by d at time now.
func (g *Gauge) Add(now Time, d int64) {
	g.area += float64(g.v) * float64(now-g.last)
	g.last = now
	g.v += d
	if g.v > g.peak {
		g.peak = g.v
	}
}

// Value returns the current value.
func (g *Gauge) Value() int64 { return g.v }

// Peak returns the highest value since the last reset.
func (g *Gauge) Peak() int64 { return g.peak }

// Mean returns the time average from the last reset to now.
func (g *Gauge) Mean(now Time) float64 {
	span := now - g.start
	if span <= 0 {
		return float64(g.v)
	}
	return g.Area(now) / float64(span)
}

// Area returns the time integral of the value (value × nanoseconds) from the last reset to
// now.
func (g *Gauge) Area(now Time) float64 {
	return g.area + float64(g.v)*float64(now-g.last)
}

// Reset starts a new averaging period at now, keeping the current value.
func (g *Gauge) Reset(now Time) {
	g.area, g.last, g.start, g.peak = 0, now, now, g.v
}

// BatchMeans estimates a confidence interval for a steady-state mean from correlated
// observations: the measured period is cut into equal time batches, whose means are close
// to independent when batches are long compared with the correlation time.
//
// Add runs for every observation, so it only checks that now still falls in the batch it
// last used ([lo, hi)); finding the batch, with exact integer bounds, happens once per batch.
type BatchMeans struct {
	start, span Time
	lo, hi      Time // bounds of batch cur; empty until the first observation
	cur         int
	sum         [batches]float64
	n           [batches]float64
}

// batches is the number of batches: 20 is the usual compromise between the t-quantile's
// cost (few batches) and correlation between neighbours (short batches).
const batches = 20

// NewBatchMeans covers [start, end).
func NewBatchMeans(start, end Time) *BatchMeans {
	return &BatchMeans{start: start, span: end - start}
}

// Add records observation x made at time now; weight n (1 for a mean of observations).
// Observations before the start are ignored; those at or after the end go to the last batch.
func (b *BatchMeans) Add(now Time, x, n float64) {
	if uint64(now-b.lo) >= uint64(b.hi-b.lo) && !b.seek(now) {
		return
	}
	b.sum[b.cur] += x
	b.n[b.cur] += n
}

// seek makes the batch holding now current, and reports false when now is before the start.
func (b *BatchMeans) seek(now Time) bool {
	if now < b.start || b.span <= 0 {
		return false
	}
	// First guess by floating point, then exact by the integer bounds.
	i := min(int(float64(now-b.start)/float64(b.span)*batches), batches-1)
	for i > 0 && now < b.bound(i) {
		i--
	}
	for i < batches-1 && now >= b.bound(i+1) {
		i++
	}
	b.cur, b.lo, b.hi = i, b.bound(i), b.bound(i+1)
	if i == batches-1 {
		b.hi = math.MaxInt64 // the end of the run belongs to the last batch
	}
	return true
}

// bound is the first nanosecond of batch i: start + ⌈span·i/batches⌉, exact in 128 bits, so
// that now is in batch ⌊(now−start)·batches/span⌋ as the real numbers say.
func (b *BatchMeans) bound(i int) Time {
	hi, lo := bits.Mul64(uint64(b.span), uint64(i))
	q, r := bits.Div64(hi, lo, batches)
	if r != 0 {
		q++
	}
	return b.start + Time(q)
}

// minBatches is the number of batches that must hold observations for an interval: with
// fewer, the run is too short (or too quiet) for the batch means to say anything.
const minBatches = batches / 2

// Interval returns the grand mean (total sum / total weight) and the 95% half-width from the
// means of the k batches that hold observations (Student t with k−1 degrees of freedom). The
// half-width is +Inf when fewer than minBatches batches hold observations: there is no
// interval to give. With no observation at all both are 0.
func (b *BatchMeans) Interval() (mean, half float64) {
	var tot, totN float64
	means := make([]float64, 0, batches)
	for i := range b.sum {
		tot += b.sum[i]
		totN += b.n[i]
		if b.n[i] > 0 {
			means = append(means, b.sum[i]/b.n[i])
		}
	}
	if totN == 0 {
		return 0, 0
	}
	mean = tot / totN
	k := float64(len(means))
	if len(means) < minBatches {
		return mean, math.Inf(1)
	}
	var m, ss float64
	for _, x := range means {
		m += x
	}
	m /= k
	for _, x := range means {
		ss += (x - m) * (x - m)
	}
	sd := math.Sqrt(ss / (k - 1))
	return mean, StudentT95(int(k)-1) * sd / math.Sqrt(k)
}

// StudentT95 is the two-sided 95% quantile of Student's t with df degrees of freedom.
func StudentT95(df int) float64 {
	if df < 1 {
		return math.Inf(1)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}

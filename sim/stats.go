package sim

import (
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/headroom/headroom/result"
)

// Latency records a latency distribution: an HDR histogram in microseconds (3 significant
// digits) for the percentiles, and the exact sum for the mean, so that a mean compared with
// a textbook value carries no bucketing error.
type Latency struct {
	h   *hdr.Histogram
	sum float64 // nanoseconds
	n   int64
	max Time
}

// NewLatency returns a recorder for latencies up to max (longer ones are clamped).
func NewLatency(max Time) *Latency {
	us := int64(max/Microsecond) + 1
	if us < 1000 {
		us = 1000
	}
	return &Latency{h: hdr.New(1, us, 3)}
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
	if us > l.h.HighestTrackableValue() {
		us = l.h.HighestTrackableValue()
	}
	_ = l.h.RecordValue(us)
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
	l.h.Reset()
	l.sum, l.n, l.max = 0, 0, 0
}

// Stats summarises the observations in milliseconds.
func (l *Latency) Stats() result.Stats {
	if l.n == 0 {
		return result.Stats{}
	}
	q := func(p float64) float64 { return float64(l.h.ValueAtQuantile(p)) / 1000 }
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
	return (g.area + float64(g.v)*float64(now-g.last)) / float64(span)
}

// Reset starts a new averaging period at now, keeping the current value.
func (g *Gauge) Reset(now Time) {
	g.area, g.last, g.start, g.peak = 0, now, now, g.v
}

// BatchMeans estimates a confidence interval for a steady-state mean from correlated
// observations: the measured period is cut into equal time batches, whose means are close
// to independent when batches are long compared with the correlation time.
type BatchMeans struct {
	start, span Time
	sum         []float64
	n           []float64
}

// batches is the number of batches: 20 is the usual compromise between the t-quantile's
// cost (few batches) and correlation between neighbours (short batches).
const batches = 20

// NewBatchMeans covers [start, end).
func NewBatchMeans(start, end Time) *BatchMeans {
	return &BatchMeans{start: start, span: end - start, sum: make([]float64, batches), n: make([]float64, batches)}
}

// Add records observation x made at time now; weight n (1 for a mean of observations).
func (b *BatchMeans) Add(now Time, x, n float64) {
	if now < b.start || b.span <= 0 {
		return
	}
	i := int(float64(now-b.start) / float64(b.span) * batches)
	if i >= batches {
		i = batches - 1
	}
	b.sum[i] += x
	b.n[i] += n
}

// Interval returns the grand mean (total sum / total weight) and the 95% half-width from the
// batch means (Student t with batches−1 degrees of freedom).
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
	if k < 2 {
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

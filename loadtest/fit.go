package loadtest

import (
	"fmt"
	"math"
	"strconv"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/gonum/stat/distuv"
)

// LognormalFit is a lognormal distribution fitted to measured durations: its mean is the
// sample's exact mean (capacity depends on it), its sigma the standard deviation of the
// logarithms. A parametric fit is what a calibration run of a few hundred samples can
// support: an empirical table of percentiles from the same samples carries their noise
// into the tail and, interpolated linearly, overstates the mean of a skewed distribution.
type LognormalFit struct {
	MeanMS float64 `json:"mean_ms"`
	Sigma  float64 `json:"sigma"`
	Count  int64   `json:"count"`
}

// minSigma is the smallest sigma written: below it the distribution is a constant to the
// precision the histograms have.
const minSigma = 0.01

// YAML writes the fit as a scenario distribution, by median and p99 (median = mean ·
// e^(−σ²/2), p99 = median · e^(z99·σ)): the spelling the defaults use, so that the override
// merges over them key by key (a mean-and-sigma lognormal would meet the defaults' median
// and p99 and be refused as a mix of both).
func (f LognormalFit) YAML() string {
	num := func(x float64) string { return strconv.FormatFloat(roundSig(x, 5), 'f', -1, 64) }
	if f.Sigma < minSigma {
		return fmt.Sprintf("{dist: constant, value_ms: %s}", num(f.MeanMS))
	}
	median := f.MeanMS * math.Exp(-f.Sigma*f.Sigma/2)
	p99 := median * math.Exp(distuv.UnitNormal.Quantile(0.99)*f.Sigma)
	return fmt.Sprintf("{dist: lognormal, median_ms: %s, p99_ms: %s}", num(median), num(p99))
}

// roundSig rounds x to n significant digits.
func roundSig(x float64, n int) float64 {
	if x == 0 {
		return 0
	}
	p := math.Pow(10, float64(n-1)-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// logMoments accumulates the moments of log durations over bins.
type logMoments struct{ n, s, ss float64 }

func (m *logMoments) add(mid, count float64) {
	if count <= 0 || mid <= 0 {
		return
	}
	l := math.Log(mid)
	m.n += count
	m.s += count * l
	m.ss += count * l * l
}

func (m logMoments) sigma() float64 {
	if m.n < 2 {
		return 0
	}
	mu := m.s / m.n
	return math.Sqrt(math.Max(0, m.ss/m.n-mu*mu))
}

// FitHistogram fits a lognormal to a histogram's observations (seconds), each bucket's at
// its geometric midpoint; false when it is empty.
func FitHistogram(h Histogram) (LognormalFit, bool) {
	if h.Count <= 0 || len(h.Bounds) == 0 {
		return LognormalFit{}, false
	}
	var m logMoments
	below := 0.0
	for i, c := range h.Counts {
		lo := 0.0
		if i > 0 {
			lo = h.Bounds[i-1]
		}
		hi := h.Bounds[i]
		mid := math.Sqrt(lo * hi)
		if lo == 0 {
			mid = hi / 2
		}
		m.add(mid, c-below)
		below = c
	}
	m.add(h.Bounds[len(h.Bounds)-1], h.Count-below)
	return LognormalFit{MeanMS: 1000 * h.Mean(), Sigma: m.sigma(), Count: int64(math.Round(h.Count))}, true
}

// fitHDR fits a lognormal to an HDR histogram of microseconds.
func fitHDR(h *hdrhistogram.Histogram) (LognormalFit, bool) {
	if h.TotalCount() == 0 {
		return LognormalFit{}, false
	}
	var m logMoments
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		mid := math.Sqrt(float64(max(b.From, 1)) * float64(max(b.To, 1)))
		m.add(mid, float64(b.Count))
	}
	return LognormalFit{MeanMS: h.Mean() / 1000, Sigma: m.sigma(), Count: h.TotalCount()}, true
}

// APIFit fits a lognormal to the API latency of accepted writes.
func (r *Recorder) APIFit() (LognormalFit, bool) { return fitHDR(r.api) }

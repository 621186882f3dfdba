package sim

import (
	"math"
	"math/rand/v2"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/require"
)

// TestLatencyCountsCarryPast16Bits: a bucket's 16-bit count wraps into the carries, so that
// counts beyond 2¹⁶ (a busy bucket sees millions in a day) stay exact, and Reset clears both.
func TestLatencyCountsCarryPast16Bits(t *testing.T) {
	l := NewLatency(Hour)
	const busy = 3*(1<<16) + 17 // wraps three times
	for i := 0; i < busy; i++ {
		l.Record(7 * Millisecond)
	}
	l.Record(9 * Millisecond)
	counts := l.Histogram().Export().Counts
	require.Equal(t, int64(busy), counts[hdrIndex(7000)])
	require.Equal(t, int64(1), counts[hdrIndex(9000)])
	require.Equal(t, int64(busy+1), l.Histogram().TotalCount())
	s := l.Stats()
	require.Equal(t, 7.003, s.P99, "p99 is the busy bucket's highest value (7,000–7,003 µs)")
	require.Equal(t, 9.0, s.Max)
	l.Reset()
	require.Equal(t, int64(0), l.Histogram().TotalCount())
	l.Record(7 * Millisecond)
	require.Equal(t, int64(1), l.Histogram().Export().Counts[hdrIndex(7000)], "Reset cleared the carries too")
}

// The inline recording of Latency must put every value where hdrhistogram-go would, so that
// the library's percentiles over the imported counts are the library's own.
func TestLatencyCountsMatchTheHDRLibrary(t *testing.T) {
	const maxT = 400 * Hour
	l := NewLatency(maxT)
	ref := hdr.New(1, l.highest, hdrSigDigits)
	require.Less(t, hdrIndex(l.highest), len(ref.Export().Counts), "the highest value fits the library's geometry")
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 200000; i++ {
		// Log-uniform over twelve decades, plus the edges.
		d := Time(math.Exp(r.Float64() * math.Log(float64(maxT))))
		switch i {
		case 0:
			d = 0
		case 1:
			d = maxT + Hour // clamped
		case 2:
			d = 2047 * Microsecond
		case 3:
			d = 2048 * Microsecond
		}
		l.Record(d)
		us := int64(d / Microsecond)
		us = min(us, ref.HighestTrackableValue())
		require.NoError(t, ref.RecordValue(us))
	}
	want, got0 := ref.Export().Counts, l.Histogram().Export().Counts
	require.Equal(t, len(want), len(got0))
	for i := range want {
		if want[i] != got0[i] {
			t.Fatalf("count %d: library %d, Latency %d", i, want[i], got0[i])
		}
	}
	got := l.Histogram()
	for _, q := range []float64{0, 1, 50, 90, 95, 99, 99.9, 99.99, 100} {
		require.Equal(t, ref.ValueAtQuantile(q), got.ValueAtQuantile(q), "p%v", q)
	}
	s := l.Stats()
	require.Equal(t, int64(200000), s.Count)
	require.Equal(t, round6((maxT + Hour).Millis()), s.Max, "max is exact, not clamped")
	l.Reset()
	require.Zero(t, l.Count())
	require.Equal(t, int64(0), l.Histogram().TotalCount())
}

func TestBatchMeansPutsObservationsInTheirBatch(t *testing.T) {
	const start, end = Time(1000), Time(1000 + 20*7 + 3) // batches of 7 ns, plus a remainder
	b := NewBatchMeans(start, end)
	want := [batches]float64{}
	r := rand.New(rand.NewPCG(7, 8))
	now := Time(0)
	for now <= end+50 {
		if now >= start {
			// The exact batch of now: ⌊(now − start)·20 / span⌋.
			i := int((now - start) * batches / (end - start))
			want[min(i, batches-1)]++
		}
		b.Add(now, 1, 1)
		now += Time(r.IntN(3))
	}
	require.Equal(t, want, b.n)
	require.Equal(t, want, b.sum)
	// Going back in time still finds the right batch.
	b.Add(start, 5, 1)
	require.Equal(t, want[0]+5, b.sum[0])
}

func TestBatchMeansIntervalCoversTheMean(t *testing.T) {
	// Independent normal observations: the interval is the textbook one of 20 batch means.
	b := NewBatchMeans(0, 20000)
	r := rand.New(rand.NewPCG(9, 10))
	for now := Time(0); now < 20000; now++ {
		b.Add(now, 10+r.NormFloat64(), 1)
	}
	mean, half := b.Interval()
	require.InDelta(t, 10, mean, 3*half)
	// σ = 1, 1000 per batch: the half-width is about t(19)·(1/√1000)/√20 ≈ 0.0148.
	require.InDelta(t, 0.0148, half, 0.005)
	empty := NewBatchMeans(0, 100)
	mean, half = empty.Interval()
	require.Zero(t, mean)
	require.Zero(t, half)
	// Observations in fewer than half the batches: no interval.
	sparse := NewBatchMeans(0, 20000)
	for now := Time(0); now < 9000; now += 10 {
		sparse.Add(now, 1, 1)
	}
	mean, half = sparse.Interval()
	require.Equal(t, 1.0, mean)
	require.True(t, math.IsInf(half, 1))
}

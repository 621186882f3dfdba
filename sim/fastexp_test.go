package sim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFastExpMatchesMathExp(t *testing.T) {
	worst := 0.0
	for x := -60.0; x < 60; x += 0.000317 {
		got, want := fastExp(x), math.Exp(x)
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	require.Less(t, worst, 2e-15)
	for _, x := range []float64{0, 1, -1, 699.9, -699.9} {
		require.InEpsilon(t, math.Exp(x), fastExp(x), 2e-15, "x = %g", x)
	}
	for _, x := range []float64{700, -700, 710, -750, math.Inf(1), math.Inf(-1)} {
		require.Equal(t, math.Exp(x), fastExp(x), "x = %g", x)
	}
	require.True(t, math.IsNaN(fastExp(math.NaN())))
}

func BenchmarkFastExp(b *testing.B) {
	s := 0.0
	for i := range b.N {
		s += fastExp(16 + float64(i&1023)*1e-3)
	}
	sinkF = s
}

func BenchmarkMathExp(b *testing.B) {
	s := 0.0
	for i := range b.N {
		s += math.Exp(16 + float64(i&1023)*1e-3)
	}
	sinkF = s
}

var sinkF float64

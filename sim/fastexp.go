package sim

import "math"

// exp2Frac holds 2^(j/64), j = 0..63, for fastExp.
var exp2Frac = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

// fastExp is e^x to within an ulp or two (relative error < 1e-15 over the range a lognormal
// sampler uses), about a third cheaper than math.Exp, which matters because every lognormal
// draw — most of the latencies of a serverless run, several per request — takes one. The
// reduction x = (64k + j)·ln2/64 + r, |r| ≤ ln2/128, leaves a polynomial of degree 5 in r
// instead of math.Exp's degree-11 chain; 2^(j/64) comes from a 64-entry table.
func fastExp(x float64) float64 {
	if !(x > -700 && x < 700) { // also NaN: math.Exp handles the edges
		return math.Exp(x)
	}
	const (
		inv64  = 64 / math.Ln2
		ln2Hi  = 6.93147180369123816490e-01 / 64 // ln2 split so that n·ln2Hi is exact
		ln2Lo  = 1.90821492927058770002e-10 / 64
		c3, c4 = 1.0 / 6, 1.0 / 24
		c5     = 1.0 / 120
	)
	n := math.Floor(x*inv64 + 0.5)
	r := (x - n*ln2Hi) - n*ln2Lo
	ni := int64(n)
	r2 := r * r
	p := 1 + r + r2*(0.5+r*c3) + r2*r2*(c4+r*c5)
	return p * exp2Frac[ni&63] * math.Float64frombits(uint64((ni>>6)+1023)<<52)
}

package reports

import (
	"math"

	"github.com/headroom/headroom/result"
)

// intervals finds a figure's 95% confidence half-width so tables can show "value ±hw"
// beside the figure itself. Figures are named by their path in the JSON result, with
// components by name: "workload.completed", "latency_ms.api.p99",
// "components.workers.wait_ms.mean". The map is only ever looked up, never iterated, so it
// does not disturb the output order.
type intervals map[string]float64

func newIntervals(r *result.Result) intervals {
	if r.Replications <= 1 || len(r.CI95) == 0 {
		return nil
	}
	ci := make(intervals, len(r.CI95))
	for _, iv := range r.CI95 {
		ci[iv.Figure] = iv.HalfWidth
	}
	return ci
}

// with appends " ±hw" formatted by f when the figure has an interval.
func (ci intervals) with(figure, value string, f func(float64) string) string {
	hw, ok := ci[figure]
	if !ok || hw == 0 || math.IsNaN(hw) {
		return value
	}
	return value + " ±" + f(hw)
}

func (ci intervals) count(figure string, n int64) string {
	return ci.with(figure, count(n), func(x float64) string { return si(x) })
}

func (ci intervals) millis(figure string, ms float64) string {
	return ci.with(figure, millis(ms), millis)
}

func (ci intervals) rate(figure string, perS float64) string {
	return ci.with(figure, rate(perS), rate)
}

func (ci intervals) percent(figure string, frac float64) string {
	return ci.with(figure, percent(frac), percent)
}

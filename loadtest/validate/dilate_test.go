package validate

import (
	"math"
	"reflect"
	"testing"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim"
)

// TestDilationCoversScenario walks the scenario's types — not a scenario's values, so a
// field no bundled scenario sets is seen too — and requires every number to be classified:
// a duration or a distribution (× k), or listed in scenarioScaling. A field added to the
// format fails here until someone decides which clock it is on.
func TestDilationCoversScenario(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(tp reflect.Type)
	walk = func(tp reflect.Type) {
		switch tp.Kind() {
		case reflect.Pointer, reflect.Slice:
			walk(tp.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[tp] || tp == durationType {
			return
		}
		seen[tp] = true
		for i := range tp.NumField() {
			f := tp.Field(i)
			if !f.IsExported() {
				continue
			}
			key := tp.Name() + "." + f.Name
			if _, listed := scenarioScaling[key]; !listed && f.Type != durationType && f.Type != distType && isNumber(f.Type) {
				t.Errorf("%s (%s) is not classified for the dilated clock", key, f.Type)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(scenarios.Scenario{}))
	for _, b := range scenarios.Bundled() {
		s, err := scenarios.Load(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dilate(s, 60); err != nil {
			t.Errorf("%s: %v", b.Name, err)
		}
	}
}

// TestDilationIsAChangeOfTimeUnit runs a scenario as it is and on a clock 50× slower (its
// horizon 50× longer, as a compressed day's is): the same random draws give the same events
// in the same order, so the dilated run brought back is the direct run, up to the rounding of
// times to whole nanoseconds.
func TestDilationIsAChangeOfTimeUnit(t *testing.T) {
	const k = 50
	direct, err := scenarios.Load("validate-throttle", scenarios.WithSets([]string{"horizon=20s"}))
	if err != nil {
		t.Fatal(err)
	}
	slow, err := scenarios.Load("validate-throttle", scenarios.WithSets([]string{"horizon=1000s"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dilate(slow, k); err != nil {
		t.Fatal(err)
	}
	if got := slow.Component("p_pending").Function.Duration.Median.D(); got != 50*40e6 {
		t.Fatalf("dilated median %v, want 2s", got)
	}
	a, err := sim.Run(direct)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sim.Run(slow)
	if err != nil {
		t.Fatal(err)
	}
	if unknown := undilate(b, k); len(unknown) > 0 {
		t.Logf("result fields left on the dilated clock: %v", unknown)
	}
	close := func(name string, x, y float64) {
		t.Helper()
		if math.Abs(x-y) > 1e-6*math.Max(1, math.Abs(x)) {
			t.Errorf("%s: direct %v, dilated %v", name, x, y)
		}
	}
	close("horizon", a.HorizonS, b.HorizonS)
	close("offered", float64(a.Workload.Offered), float64(b.Workload.Offered))
	close("throttled", float64(a.ComponentByName("api").Throttled), float64(b.ComponentByName("api").Throttled))
	close("completed", float64(a.Workload.Completed), float64(b.Workload.Completed))
	close("completed/s", a.Workload.CompletedRPS, b.Workload.CompletedRPS)
	for _, f := range []struct {
		name string
		get  func(*result.Result) float64
	}{
		{"e2e p50", func(r *result.Result) float64 { return r.Latency.EndToEnd.P50 }},
		{"e2e p99", func(r *result.Result) float64 { return r.Latency.EndToEnd.P99 }},
		{"e2e mean", func(r *result.Result) float64 { return r.Latency.EndToEnd.Mean }},
		{"queue wait mean", func(r *result.Result) float64 { return r.ComponentByName("q_pending").Wait.Mean }},
	} {
		// Percentiles come from HDR buckets of 3 significant digits, on either clock.
		if x, y := f.get(a), f.get(b); math.Abs(x-y) > 0.002*x {
			t.Errorf("%s: direct %v, dilated %v", f.name, x, y)
		}
	}
	close("peak concurrency", float64(a.ComponentByName("p_pending").PeakConcurrency), float64(b.ComponentByName("p_pending").PeakConcurrency))
	close("max depth", float64(a.ComponentByName("q_pending").MaxDepth), float64(b.ComponentByName("q_pending").MaxDepth))
}

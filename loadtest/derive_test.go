package loadtest

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDeriveKeepsUtilisation scales the baseline to a machine: every limit and rate by the
// same factor, so every ratio of load to limit — what decides what binds — stays.
func TestDeriveKeepsUtilisation(t *testing.T) {
	full := load(t, "baseline")
	d, err := Derive(full, 0.01, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	small := load(t, "baseline", d.Sets...)
	if got, want := small.Workload.MeanRPS(), full.Workload.MeanRPS()*0.01; math.Abs(got-want) > 1e-9*want {
		t.Errorf("mean rate %g, want %g", got, want)
	}
	fr, sr := full.Regions[0], small.Regions[0]
	if sr.LambdaConcurrency != 0 && math.Abs(float64(sr.LambdaConcurrency)/small.Workload.MeanRPS()-float64(fr.LambdaConcurrency)/full.Workload.MeanRPS()) > 0.01*float64(fr.LambdaConcurrency)/full.Workload.MeanRPS() {
		t.Errorf("concurrency per request/s: %d/%g against %d/%g", sr.LambdaConcurrency, small.Workload.MeanRPS(), fr.LambdaConcurrency, full.Workload.MeanRPS())
	}
	if math.Abs(sr.APIGatewayRateRPS-fr.APIGatewayRateRPS*0.01) > 1e-9 {
		t.Errorf("gateway rate %g, want %g", sr.APIGatewayRateRPS, fr.APIGatewayRateRPS*0.01)
	}
	// Service times are kept.
	if !reflect.DeepEqual(small.Component("processor").Function.Duration, full.Component("processor").Function.Duration) {
		t.Error("scaling changed a service time")
	}
	// A diurnal day is compressed into the minute, not cut to it.
	if d.Play.Compress != 1440 || d.Duration != time.Minute || small.Horizon != full.Horizon {
		t.Errorf("play %+v duration %v horizon %v, want a day compressed 1440× into a minute", d.Play, d.Duration, small.Horizon)
	}
	// Only the pollers' starting 5 batches round at 1% (to 1 each): the notes say so.
	for _, n := range d.Notes {
		if !strings.Contains(n, "poller_start: 5 × 0.01") {
			t.Errorf("note %q: only poller_start rounds at 1%%", n)
		}
	}
	// 1,000 × 0.0001 executions is 0.1, which cannot run: the note says where it rounded.
	d, err = Derive(full, 0.0001, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(d.Notes, "\n"), "lambda_concurrency: 1000 × 0.0001 = 0.1, rounded to 1") {
		t.Errorf("notes %v, want the rounding of the concurrency limit named", d.Notes)
	}
}

func TestDeriveFlatRunsForTheDuration(t *testing.T) {
	s := load(t, "validate-throttle")
	d, err := Derive(s, 0.5, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d.Play.Compress != 0 || d.Duration != 20*time.Second {
		t.Errorf("play %+v duration %v: a flat workload needs no compression", d.Play, d.Duration)
	}
	h := load(t, "validate-throttle", d.Sets...)
	if h.Horizon.D() != 20*time.Second || h.Workload.RateRPS != 150 || h.Component("api").Gateway.RateRPS != 100 ||
		h.Component("p_pending").Function.ReservedConcurrency != 4 || h.Component("q_pending").Queue.MaxConcurrency != 4 {
		t.Errorf("derived: horizon %v rate %g gateway %g reserved %d mapping %d",
			h.Horizon, h.Workload.RateRPS, h.Component("api").Gateway.RateRPS,
			h.Component("p_pending").Function.ReservedConcurrency, h.Component("q_pending").Queue.MaxConcurrency)
	}
}

package loadtest

import (
	"math"
	"testing"
	"time"

	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim"
)

func load(t *testing.T, ref string, sets ...string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Load(ref, scenarios.WithSets(sets))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleFlat(t *testing.T) {
	s := load(t, "validate-below")
	sc, err := NewSchedule(s, Play{Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sc.StartRPS != 300 || len(sc.Stages) != 1 || sc.Stages[0].TargetRPS != 300 || sc.Duration() != 30*time.Second {
		t.Fatalf("schedule %+v, want 300/s for 30s", sc)
	}
	if got := sc.Expected(); got != 9000 {
		t.Errorf("expected arrivals %g, want 9000", got)
	}
}

func TestScheduleHourlyCompressedKeepsRates(t *testing.T) {
	s := load(t, "validate-backlog")
	sc, err := NewSchedule(s, Play{Compress: 1440})
	if err != nil {
		t.Fatal(err)
	}
	if d := sc.Duration(); d != time.Minute {
		t.Fatalf("a day compressed 1440× lasts %v, want 1m", d)
	}
	// 96/s for hours 0–7, a jump to 320/s held for hours 8–9, a jump back.
	want := []Stage{{20 * time.Second, 96}, {0, 320}, {5 * time.Second, 320}, {0, 96}, {35 * time.Second, 96}}
	if len(sc.Stages) != len(want) {
		t.Fatalf("stages %+v, want %+v", sc.Stages, want)
	}
	for i, st := range sc.Stages {
		if st.Duration != want[i].Duration || math.Abs(st.TargetRPS-want[i].TargetRPS) > 1e-9 {
			t.Errorf("stage %d = %+v, want %+v", i, st, want[i])
		}
	}
	// The rates are the day's; the volume is the day's ÷ 1440.
	if got, want := sc.Expected(), s.Workload.MeanRPS()*86400/1440; math.Abs(got-want) > 1e-6 {
		t.Errorf("expected %g arrivals, want %g", got, want)
	}
	if r := sc.RateAt(22 * time.Second); math.Abs(r-320) > 1e-9 {
		t.Errorf("rate at 22 s = %g, want the peak 320", r)
	}
}

// TestScheduleDiurnalFollowsSimulator holds the schedule's diurnal shape against the
// simulator's offered rate, hour by hour, over a simulated day.
func TestScheduleDiurnalFollowsSimulator(t *testing.T) {
	s := load(t, "baseline", "workload.users=1000", "workload.requests_per_user_per_day=345.6") // 4/s
	sc, err := NewSchedule(s, Play{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(s)
	if err != nil {
		t.Fatal(err)
	}
	per := res.Series.IntervalS
	for h := range 24 {
		var simRate, n float64
		for i, r := range res.Series.OfferedRPS {
			if at := float64(i) * per; at >= float64(h)*3600 && at < float64(h+1)*3600 {
				simRate += r
				n++
			}
		}
		simRate /= n
		var ours float64
		for m := range 60 {
			ours += sc.RateAt(time.Duration(h)*time.Hour+time.Duration(m)*time.Minute+30*time.Second) / 60
		}
		// Poisson counts of an hour: a relative sd of 1/√(3600·rate), at most 5% here.
		if tol := 4 / math.Sqrt(3600*ours); math.Abs(simRate-ours) > tol*ours {
			t.Errorf("hour %d: schedule %.3f/s, simulator %.3f/s (tolerance %.1f%%)", h, ours, simRate, 100*tol)
		}
	}
}

func TestScheduleRejectsBadPlay(t *testing.T) {
	s := load(t, "validate-below")
	for _, p := range []Play{{Scale: -1}, {Compress: math.NaN()}, {Scale: math.Inf(1)}} {
		if _, err := NewSchedule(s, p); err == nil {
			t.Errorf("play %+v accepted", p)
		}
	}
}

func TestExecutorK6(t *testing.T) {
	e := Executor{Schedule: Schedule{StartRPS: 108, Stages: []Stage{{20 * time.Second, 108}, {0, 10.25}}}, Grid: 2}
	got := e.K6()
	if got["executor"] != "ramping-arrival-rate" {
		t.Fatalf("executor %v", got["executor"])
	}
	// 20.5 iterations per second is not whole: a time unit of 10 s makes it exact.
	if got["timeUnit"] != "10000ms" || got["startRate"] != int64(2160) {
		t.Errorf("timeUnit %v startRate %v, want 10000ms and 2160", got["timeUnit"], got["startRate"])
	}
	stages := got["stages"].([]map[string]any)
	if stages[1]["target"] != int64(205) || stages[1]["duration"] != "0ms" {
		t.Errorf("stage 1 = %v, want a jump to 205 per 10 s", stages[1])
	}
	if pre, max := got["preAllocatedVUs"].(int64), got["maxVUs"].(int64); pre < 10 || max < pre {
		t.Errorf("VUs %d..%d", pre, max)
	}
}

package loadtest

import (
	"fmt"
	"math"
	"time"

	"github.com/headroom/headroom/scenarios"
)

// Schedule is an arrival rate over real time: a start rate, then stages along each of which
// the rate moves linearly to the stage's target; a stage of zero duration is a jump. It is
// k6's ramping-arrival-rate executor, so a schedule is played without translation — an open
// workload, as the simulator's is: arrivals do not wait for earlier requests to finish.
type Schedule struct {
	StartRPS float64
	Stages   []Stage
}

// Stage is one segment of a Schedule.
type Stage struct {
	Duration  time.Duration
	TargetRPS float64
}

// Play says how a scenario's workload is played in real time.
type Play struct {
	// Scale multiplies every arrival rate; 0 means 1.
	Scale float64
	// Compress is how many seconds of the scenario's clock pass in one real second: 1440
	// plays a day in a minute. Only the profile's time axis is compressed: the rate of every
	// moment stays what the scenario says (× Scale), and so does every utilisation, since
	// service times and queueing stay real — which is what a measurement needs. A
	// compressed day is the day's shape at the day's rates, shorter; its volume is the
	// day's ÷ Compress. 0 means 1.
	Compress float64
}

func (p Play) scale() float64 {
	if p.Scale == 0 {
		return 1
	}
	return p.Scale
}

func (p Play) compress() float64 {
	if p.Compress == 0 {
		return 1
	}
	return p.Compress
}

// Validate refuses scales and compressions that are not finite and positive.
func (p Play) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"scale", p.scale()}, {"compression", p.compress()}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v <= 0 {
			return fmt.Errorf("%s must be a finite number > 0, got %g", f.name, f.v)
		}
	}
	return nil
}

// Duration is the real time the workload lasts: the scenario's horizon, compressed.
func (p Play) Duration(s *scenarios.Scenario) time.Duration {
	return time.Duration(math.Round(float64(s.Horizon) / p.compress()))
}

// profileStep is the scenario time between two points of a diurnal profile's stages: the
// raised cosine is smooth, so linear pieces of five minutes are within a fraction of a
// percent of it.
const profileStep = 5 * time.Minute

// maxStages bounds a schedule: long horizons get longer pieces.
const maxStages = 2000

// NewSchedule returns the arrival schedule of s's workload played as p says. It follows the
// simulator's workload exactly in rate: a flat profile is one constant stage, an hourly one
// holds each hour's rate and jumps at the hour, a diurnal one is the simulator's raised
// cosine in linear pieces.
func NewSchedule(s *scenarios.Scenario, p Play) (Schedule, error) {
	if err := p.Validate(); err != nil {
		return Schedule{}, err
	}
	w := s.Workload
	mean := w.MeanRPS() * p.scale()
	if mean <= 0 || math.IsNaN(mean) || math.IsInf(mean, 0) {
		return Schedule{}, fmt.Errorf("workload: the mean rate must be > 0, got %g", mean)
	}
	horizon := s.Horizon.D()
	if horizon <= 0 {
		return Schedule{}, fmt.Errorf("horizon: must be > 0")
	}
	real := func(d time.Duration) time.Duration { return time.Duration(math.Round(float64(d) / p.compress())) }
	kind := w.Profile.Kind
	if w.Users == 0 || kind == "" {
		kind = "flat"
	}
	switch kind {
	case "flat":
		return Schedule{StartRPS: mean, Stages: []Stage{{Duration: real(horizon), TargetRPS: mean}}}, nil
	case "hourly":
		if len(w.Profile.Hourly) != 24 {
			return Schedule{}, fmt.Errorf("workload.profile.hourly: needs 24 weights, has %d", len(w.Profile.Hourly))
		}
		sum := 0.0
		for _, x := range w.Profile.Hourly {
			sum += x
		}
		rate := func(h int) float64 { return mean * w.Profile.Hourly[h%24] * 24 / sum }
		sc := Schedule{StartRPS: rate(0)}
		for t, h := time.Duration(0), 0; t < horizon; h++ {
			end := min(horizon, t+time.Hour)
			if h > 0 && rate(h) != rate(h-1) {
				sc.Stages = append(sc.Stages, Stage{Duration: 0, TargetRPS: rate(h)})
			}
			// Consecutive hours of one rate are one stage.
			if n := len(sc.Stages); n > 0 && sc.Stages[n-1].Duration > 0 && sc.Stages[n-1].TargetRPS == rate(h) {
				sc.Stages[n-1].Duration += real(end) - real(t)
			} else {
				sc.Stages = append(sc.Stages, Stage{Duration: real(end) - real(t), TargetRPS: rate(h)})
			}
			t = end
		}
		return sc, nil
	case "diurnal":
		d, err := newDiurnal(w.Profile.PeakToMean, w.Profile.PeakHour)
		if err != nil {
			return Schedule{}, err
		}
		step := max(profileStep, horizon/maxStages)
		sc := Schedule{StartRPS: mean * d.at(0)}
		for t := time.Duration(0); t < horizon; {
			end := min(horizon, t+step)
			sc.Stages = append(sc.Stages, Stage{Duration: real(end) - real(t), TargetRPS: mean * d.at(end)})
			t = end
		}
		return sc, nil
	}
	return Schedule{}, fmt.Errorf("workload.profile.kind: %q is not flat, diurnal or hourly", kind)
}

// diurnal is the simulator's daily shape (sim/workload.go): λ(t) = mean·(b + (1−b)·g^k)/norm
// with g = (1 + cos(2π(h − peak)/24))/2, k the smallest power whose mean leaves room for a
// floor b ≥ 0 with peak/mean = r. Its mean over a day is 1.
type diurnal struct {
	k              int
	b, norm, peakH float64
}

func newDiurnal(r, peakHour float64) (diurnal, error) {
	if r < 1 || math.IsNaN(r) || math.IsInf(r, 0) {
		return diurnal{}, fmt.Errorf("workload.profile.peak_to_mean: %v must be >= 1", r)
	}
	d := diurnal{peakH: peakHour}
	if r == 1 {
		d.k, d.b = 1, 1
	} else {
		for d.k = 1; raisedCosineMean(d.k) > 1/r; d.k++ {
		}
		m := raisedCosineMean(d.k)
		d.b = (1/r - m) / (1 - m)
	}
	d.norm = d.b + (1-d.b)*raisedCosineMean(d.k)
	return d, nil
}

// raisedCosineMean is the mean over a period of ((1 + cos x)/2)^k = C(2k, k) / 4^k.
func raisedCosineMean(k int) float64 {
	m := 1.0
	for i := 1; i <= k; i++ {
		m *= float64(2*i-1) / float64(2*i)
	}
	return m
}

// at is the rate relative to the daily mean at scenario time t.
func (d diurnal) at(t time.Duration) float64 {
	h := math.Mod(t.Hours(), 24)
	g := (1 + math.Cos(2*math.Pi*(h-d.peakH)/24)) / 2
	return (d.b + (1-d.b)*math.Pow(g, float64(d.k))) / d.norm
}

// Duration is the schedule's length.
func (s Schedule) Duration() time.Duration {
	var d time.Duration
	for _, st := range s.Stages {
		d += st.Duration
	}
	return d
}

// PeakRPS is the highest rate the schedule reaches.
func (s Schedule) PeakRPS() float64 {
	p := s.StartRPS
	for _, st := range s.Stages {
		p = max(p, st.TargetRPS)
	}
	return p
}

// Expected is the expected number of arrivals: the area under the rate.
func (s Schedule) Expected() float64 {
	from, n := s.StartRPS, 0.0
	for _, st := range s.Stages {
		n += st.Duration.Seconds() * (from + st.TargetRPS) / 2
		from = st.TargetRPS
	}
	return n
}

// RateAt is the rate at real time t since the start (0 after the end).
func (s Schedule) RateAt(t time.Duration) float64 {
	from := s.StartRPS
	var at time.Duration
	for _, st := range s.Stages {
		if t < at+st.Duration {
			f := float64(t-at) / float64(st.Duration)
			return from + (st.TargetRPS-from)*f
		}
		at += st.Duration
		from = st.TargetRPS
	}
	return 0
}

// Scaled returns the schedule with every rate multiplied by f.
func (s Schedule) Scaled(f float64) Schedule {
	out := Schedule{StartRPS: s.StartRPS * f, Stages: make([]Stage, len(s.Stages))}
	for i, st := range s.Stages {
		out.Stages[i] = Stage{Duration: st.Duration, TargetRPS: st.TargetRPS * f}
	}
	return out
}

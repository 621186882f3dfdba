package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// workload is the open arrival process. It keeps exactly one pending arrival event whatever
// the population: users only scale the rate. A time-varying rate is generated exactly —
// piecewise-constant hourly profiles by restarting the exponential clock at each hour
// boundary (memorylessness), the continuous diurnal profile by thinning (Lewis–Shedler):
// candidates at the peak rate, each kept with probability λ(t)/λ_max.
type workload struct {
	m     *Model
	id    HandlerID
	timer TimerID // the one pending arrival
	rng   *rand.Rand
	entry component

	deterministic bool
	mean          float64 // requests per second over a day
	profile       profileKind
	// gap is the mean interarrival time in nanoseconds of the flat profile (1/mean): the
	// hot path multiplies by it rather than divide by the rate.
	gap float64
	// diurnal: λ(t) = mean · (b + (1−b)·g(t)^k) / norm, g = (1 + cos(2π(h − peak)/24)) / 2
	b, norm, peakHour float64
	k                 int
	maxRate           float64   // per second, the thinning envelope
	hourly            []float64 // per second, 24 entries

	attrCum  [][]float64 // cumulative probabilities per attribute
	users    uint32
	arrivals int64 // all arrivals, for the series
}

type profileKind uint8

const (
	profileFlat profileKind = iota
	profileDiurnal
	profileHourly
)

func newWorkload(m *Model, seed uint64) (*workload, error) {
	wsc := m.sc.Workload
	w := &workload{m: m, rng: Stream(seed, "workload"), mean: wsc.MeanRPS()}
	w.entry = m.byName[wsc.Entry]
	if w.entry == nil {
		return nil, fmt.Errorf("workload.entry: no component %q", wsc.Entry)
	}
	if w.mean <= 0 {
		return nil, fmt.Errorf("workload: the mean rate must be > 0 (rate_rps, or users × requests_per_user_per_day)")
	}
	switch wsc.Arrival {
	case "", "poisson":
	case "deterministic":
		w.deterministic = true
	default:
		return nil, fmt.Errorf("workload.arrival: %q is not poisson or deterministic", wsc.Arrival)
	}
	kind := wsc.Profile.Kind
	if wsc.Users == 0 || kind == "" {
		kind = "flat"
	}
	switch kind {
	case "flat":
		w.profile = profileFlat
		w.maxRate = w.mean
		w.gap = float64(Second) / w.mean
	case "diurnal":
		w.profile = profileDiurnal
		r := wsc.Profile.PeakToMean
		if r < 1 {
			return nil, fmt.Errorf("workload.profile.peak_to_mean: %v must be >= 1", r)
		}
		w.k, w.b = diurnalShape(r)
		w.norm = w.b + (1-w.b)*raisedCosineMean(w.k)
		w.peakHour = wsc.Profile.PeakHour
		w.maxRate = w.mean / w.norm
	case "hourly":
		w.profile = profileHourly
		if len(wsc.Profile.Hourly) != 24 {
			return nil, fmt.Errorf("workload.profile.hourly: needs 24 weights, has %d", len(wsc.Profile.Hourly))
		}
		sum := 0.0
		for _, x := range wsc.Profile.Hourly {
			sum += x
		}
		for _, x := range wsc.Profile.Hourly {
			v := w.mean * x * 24 / sum
			w.hourly = append(w.hourly, v)
			w.maxRate = math.Max(w.maxRate, v)
		}
	default:
		return nil, fmt.Errorf("workload.profile.kind: %q is not flat, diurnal or hourly", kind)
	}
	if w.deterministic && w.profile != profileFlat {
		return nil, fmt.Errorf("workload.arrival: deterministic arrivals need a flat profile")
	}
	for _, a := range wsc.Mix {
		cum := make([]float64, len(a.Values))
		s := 0.0
		for i, v := range a.Values {
			s += v.P
			cum[i] = s
		}
		cum[len(cum)-1] = math.Inf(1) // rounding never leaves a draw unassigned
		w.attrCum = append(w.attrCum, cum)
	}
	if wsc.Users > 0 {
		w.users = uint32(min(wsc.Users, math.MaxUint32))
	}
	w.id = m.k.Register(w)
	w.timer = m.k.NewTimer(w.id)
	if t, ok := w.nextAfter(0); ok {
		m.k.SetTimer(w.timer, t, 0, 0)
	}
	return w, nil
}

// diurnalShape picks the smallest power k of the raised cosine whose mean leaves room for a
// non-negative floor b with peak/mean = r: b + (1−b)·m_k = 1/r.
func diurnalShape(r float64) (k int, b float64) {
	if r == 1 {
		return 1, 1
	}
	for k = 1; raisedCosineMean(k) > 1/r; k++ {
	}
	m := raisedCosineMean(k)
	return k, (1/r - m) / (1 - m)
}

// raisedCosineMean is the mean over a period of ((1 + cos x)/2)^k = C(2k, k) / 4^k.
func raisedCosineMean(k int) float64 {
	m := 1.0
	for i := 1; i <= k; i++ {
		m *= float64(2*i-1) / float64(2*i)
	}
	return m
}

// rateAt returns λ(t) in requests per second.
func (w *workload) rateAt(t Time) float64 {
	switch w.profile {
	case profileDiurnal:
		h := math.Mod(t.Seconds()/3600, 24)
		g := (1 + math.Cos(2*math.Pi*(h-w.peakHour)/24)) / 2
		return w.mean * (w.b + (1-w.b)*math.Pow(g, float64(w.k))) / w.norm
	case profileHourly:
		return w.hourly[int(t/Hour)%24]
	}
	return w.mean
}

// nextAfter returns the next arrival time after t, and false past the horizon.
func (w *workload) nextAfter(t Time) (Time, bool) {
	end := w.m.horizon
	switch {
	case w.deterministic:
		t += Time(w.gap)
	case w.profile == profileFlat:
		t += Time(w.rng.ExpFloat64() * w.gap)
	case w.profile == profileHourly:
		for {
			rate := w.hourly[int(t/Hour)%24]
			boundary := (t/Hour + 1) * Hour
			if rate > 0 {
				c := t + Time(w.rng.ExpFloat64()/rate*float64(Second))
				if c < boundary {
					t = c
					break
				}
			}
			t = boundary
			if t > end {
				return 0, false
			}
		}
	default: // thinning
		for {
			t += Time(w.rng.ExpFloat64() / w.maxRate * float64(Second))
			if t > end || w.rng.Float64()*w.maxRate <= w.rateAt(t) {
				break
			}
		}
	}
	return t, t <= end
}

// Handle is one arrival.
func (w *workload) Handle(op int32, arg int64) {
	m := w.m
	w.arrivals++
	r := m.newRequest()
	q := m.req(r)
	for i, cum := range w.attrCum {
		u := w.rng.Float64()
		j := 0
		for u > cum[j] {
			j++
		}
		q.attrs[i] = uint8(j)
	}
	if w.users > 0 {
		q.user = uint32(w.rng.Uint64N(uint64(w.users)))
	}
	if q.measured {
		m.offered++
	}
	if t, ok := w.nextAfter(m.k.now); ok {
		m.k.SetTimer(w.timer, t, 0, 0)
	}
	w.entry.accept(r)
}

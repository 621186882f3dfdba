package sim

import (
	"fmt"
	"math"
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
	rng   Rng
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
	// env bounds the diurnal rate over each minute of the day, for thinning (see nextAfter).
	env []envelope

	attrCum  [][]float64 // cumulative probabilities per attribute
	users    uint32
	arrivals int64    // all arrivals, for the series
	_        [48]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

type profileKind uint8

const (
	profileFlat profileKind = iota
	profileDiurnal
	profileHourly
)

func newWorkload(m *Model, seed uint64) (*workload, error) {
	wsc := m.sc.Workload
	w := &workload{m: m, rng: *Stream(seed, "workload"), mean: wsc.MeanRPS()}
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
		w.env = w.diurnalEnvelope()
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
	default: // thinning, minute by minute
		for {
			seg := t / Minute
			e := &w.env[int(seg%envSegments)]
			boundary := (seg + 1) * Minute
			c := boundary
			if e.hi > 0 {
				c = t + Time(w.rng.ExpFloat64()*e.gap)
			}
			if c >= boundary {
				// No candidate in this minute: restart the clock at its end (memoryless).
				if t = boundary; t > end {
					return 0, false
				}
				continue
			}
			t = c
			if t > end {
				break
			}
			// Accept with probability λ(t)/hi; below lo, without computing λ(t).
			if u := w.rng.Float64() * e.hi; u <= e.lo || u <= w.rateAt(t) {
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

// envSegments is the number of one-minute pieces of the diurnal thinning envelope.
const envSegments = 24 * 60

// envelope bounds the rate over one minute: candidates come at hi (gap = 1/hi in
// nanoseconds) and a candidate drawn below lo is accepted without evaluating λ(t).
type envelope struct {
	hi, lo, gap float64
}

// diurnalEnvelope bounds λ over each minute of the day. Thinning against the peak rate would
// reject two candidates in three at a peak-to-mean of 3 and evaluate λ (a cosine and a
// power) for each; against a per-minute bound nearly every candidate is kept, and the lower
// bound accepts almost all of them outright. λ is monotone between its trough and its peak,
// so its extremes over a minute are at the minute's ends, or at the peak or trough if one
// falls inside. The bounds are widened by a relative 1e-9 against rounding; thinning is exact
// for any bound hi ≥ λ and lo ≤ λ.
func (w *workload) diurnalEnvelope() []envelope {
	env := make([]envelope, envSegments)
	peak := Time(w.peakHour * float64(Hour))
	trough := peak + 12*Hour
	inside := func(x, a, b Time) bool {
		x %= 24 * Hour
		return x > a && x < b
	}
	for i := range env {
		a, b := Time(i)*Minute, Time(i+1)*Minute
		hi, lo := math.Max(w.rateAt(a), w.rateAt(b)), math.Min(w.rateAt(a), w.rateAt(b))
		if inside(peak, a, b) {
			hi = w.rateAt(peak)
		}
		if inside(trough, a, b) {
			lo = w.rateAt(trough)
		}
		hi *= 1 + 1e-9
		lo *= 1 - 1e-9
		env[i] = envelope{hi: hi, lo: lo, gap: float64(Second) / hi}
	}
	return env
}

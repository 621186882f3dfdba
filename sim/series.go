package sim

import "github.com/headroom/headroom/result"

// seriesSampler is the model's clock-driven housekeeping: one event per interval samples
// every component for the time series (and reports progress), and one event at the end of
// the warm-up starts the measured period. A day at one-minute resolution costs 1,440 events.
type seriesSampler struct {
	m        *Model
	id       HandlerID
	interval Time
	offered  []float64
	comps    []*compSeries
	lastArr  int64
}

type compSeries struct {
	s             result.Series
	lastCompleted int64
	lastThrottled int64
}

const (
	opSample int32 = iota
	opWarmupEnd
)

// maxSeriesPoints bounds the series length: long horizons get coarser intervals, so a
// result's size does not grow with its horizon.
const maxSeriesPoints = 1440

// seriesInterval is the shortest whole number of minutes that keeps a horizon's series
// within maxSeriesPoints: k minutes give ⌊horizon / k min⌋ points.
func seriesInterval(horizon Time) Time {
	return (horizon/((maxSeriesPoints+1)*Minute) + 1) * Minute
}

func newSeriesSampler(m *Model) *seriesSampler {
	s := &seriesSampler{m: m, interval: seriesInterval(m.horizon)}
	// The slices get their final size now, so sampling never allocates during the run.
	points := int(m.horizon / s.interval)
	s.offered = make([]float64, 0, points)
	for range m.comps {
		cs := &compSeries{}
		cs.s.ThroughputRPS = make([]float64, 0, points)
		cs.s.Concurrency = make([]float64, 0, points)
		cs.s.QueueDepth = make([]float64, 0, points)
		cs.s.Throttled = make([]float64, 0, points)
		s.comps = append(s.comps, cs)
	}
	s.id = m.k.Register(s)
	m.k.Schedule(s.interval, s.id, opSample, 0)
	if m.warmup > 0 {
		m.k.Schedule(m.warmup, s.id, opWarmupEnd, 0)
	}
	return s
}

func (s *seriesSampler) Handle(op int32, arg int64) {
	m := s.m
	now := m.k.now
	if op == opWarmupEnd {
		for i, c := range m.comps {
			c.base().st.reset(m, now)
			if r, ok := c.(resetter); ok {
				r.resetStats(now)
			}
			s.comps[i].lastCompleted, s.comps[i].lastThrottled = 0, 0
		}
		return
	}
	secs := s.interval.Seconds()
	s.offered = append(s.offered, round6(float64(m.wl.arrivals-s.lastArr)/secs))
	s.lastArr = m.wl.arrivals
	for i, c := range m.comps {
		st := &c.base().st
		cs := s.comps[i]
		cs.s.ThroughputRPS = append(cs.s.ThroughputRPS, round6(float64(st.completed-cs.lastCompleted)/secs))
		cs.s.Concurrency = append(cs.s.Concurrency, float64(st.busy.Value()))
		queued := st.inSys.Value() - st.busy.Value()
		if q, ok := c.(queuer); ok {
			queued = q.queued()
		}
		cs.s.QueueDepth = append(cs.s.QueueDepth, float64(queued))
		cs.s.Throttled = append(cs.s.Throttled, float64(st.throttled-cs.lastThrottled))
		cs.lastCompleted, cs.lastThrottled = st.completed, st.throttled
	}
	if m.progress != nil {
		m.progress(now, m.horizon)
	}
	if next := now + s.interval; next <= m.horizon {
		m.k.Schedule(next, s.id, opSample, 0)
	}
}

// peakOffered returns the highest offered rate of any interval.
func (s *seriesSampler) peakOffered() float64 {
	p := 0.0
	for _, v := range s.offered {
		p = max(p, v)
	}
	return p
}

// queuer is implemented by kinds whose requests in the system but not in service are not
// all queued: an async VM tier's requests wait for their downstream answers without a
// worker. queued returns the requests waiting now, for the series' queue depth.
type queuer interface {
	queued() int64
}

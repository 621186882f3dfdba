package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindTable, newTable) }

// table is a DynamoDB table: read and write latencies, and capacity that throttles. A call
// consumes ⌈item_kb⌉ write units or ⌈item_kb / 4⌉ read units; a throttled call fails the
// invocation that made it. Reads and writes have separate capacity, as in DynamoDB.
//
// On-demand mode (onDemand) serves, in each second, up to twice the table's previous peak,
// and at least the initial capacity, but never more than the table's on-demand maximum
// (40,000 units/s per direction by default). Provisioned mode is a token bucket per
// direction refilled at the provisioned units per second and holding up to burst_seconds
// of them.
type table struct {
	node
	delay
	read, write Sampler
	wru, rru    float64 // units per call
	provisioned bool
	wBucket     tokenBucket
	rBucket     tokenBucket
	wOD, rOD    onDemand
	// Per-second consumption, both directions together, for the combined peak.
	sec            int64
	secUnits       float64
	peakUnits      float64
	boundW, boundR bool
	// boundWMax, boundRMax: the on-demand maximum bound (a limit of its own, so that it is
	// reported even after the 2 × peak rule throttled first).
	boundWMax, boundRMax bool
	// wUnits and rUnits are the capacity units consumed (usage.go).
	wUnits, rUnits float64
	// rep is the table's part in a global table (globaltable.go), nil when it has no replicas.
	rep *replica
}

var (
	_ component = (*table)(nil)
	_ resetter  = (*table)(nil)
	_ linker    = (*table)(nil)
)

func newTable(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Table
	if spec == nil {
		return nil, fmt.Errorf("no table settings")
	}
	rd, err := NewSampler(spec.ReadLatency)
	if err != nil {
		return nil, fmt.Errorf("read_latency: %w", err)
	}
	wr, err := NewSampler(spec.WriteLatency)
	if err != nil {
		return nil, fmt.Errorf("write_latency: %w", err)
	}
	if spec.ItemKB <= 0 {
		return nil, fmt.Errorf("item_kb: must be > 0")
	}
	t := &table{node: *n, read: rd, write: wr,
		wru: math.Ceil(spec.ItemKB), rru: math.Ceil(spec.ItemKB / 4), sec: -1}
	switch spec.Mode {
	case "", "on_demand":
		if spec.OnDemandInitialWRU <= 0 || spec.OnDemandInitialRRU <= 0 || spec.OnDemandPeakWindow <= 0 ||
			spec.OnDemandMaxWRU <= 0 || spec.OnDemandMaxRRU <= 0 {
			return nil, fmt.Errorf("on-demand mode needs on_demand_initial_wru, on_demand_initial_rru, on_demand_peak_window, on_demand_max_wru and on_demand_max_rru > 0")
		}
		win := Dur(spec.OnDemandPeakWindow.D())
		t.wOD = onDemand{initial: spec.OnDemandInitialWRU, maxUnits: spec.OnDemandMaxWRU, window: win, sec: -1}
		t.rOD = onDemand{initial: spec.OnDemandInitialRRU, maxUnits: spec.OnDemandMaxRRU, window: win, sec: -1}
	case "provisioned":
		if spec.ProvisionedWCU <= 0 || spec.ProvisionedRCU <= 0 {
			return nil, fmt.Errorf("provisioned mode needs provisioned_wcu and provisioned_rcu > 0")
		}
		// A second's worth at least: the bucket must hold one second of capacity to serve
		// the provisioned rate at all.
		b := max(1, spec.BurstSeconds)
		t.provisioned = true
		t.wBucket = newTokenBucket(spec.ProvisionedWCU, spec.ProvisionedWCU*b)
		t.rBucket = newTokenBucket(spec.ProvisionedRCU, spec.ProvisionedRCU*b)
	default:
		return nil, fmt.Errorf("mode: %q is not on_demand or provisioned", spec.Mode)
	}
	return t, nil
}

// accept is never called: link refuses a table as anyone's next.
func (t *table) accept(r ReqID) { t.m.reject(r) }

func (t *table) link() error {
	if err := notNext(&t.node, "a function reaches a table through calls"); err != nil {
		return err
	}
	return t.linkReplicas()
}

func (t *table) Handle(op int32, arg int64) {}

// call makes one read or write at now and returns its latency, or false when throttled.
func (t *table) call(now Time, write bool) (Time, bool) {
	units := t.rru
	if write {
		units = t.wru
	}
	var ok bool
	switch {
	case t.provisioned && write:
		ok = t.wBucket.takeUnits(now, units)
	case t.provisioned:
		ok = t.rBucket.takeUnits(now, units)
	case write:
		ok = t.wOD.take(now, units)
	default:
		ok = t.rOD.take(now, units)
	}
	if !ok {
		t.refused(&t.node)
		t.bindCapacity(write)
		return 0, false
	}
	if s := int64(now / Second); s != t.sec {
		t.sec, t.secUnits = s, 0
	}
	t.secUnits += units
	t.peakUnits = max(t.peakUnits, t.secUnits)
	if write {
		t.wUnits += units
		if t.rep != nil {
			t.rep.replicate(now, units)
		}
	} else {
		t.rUnits += units
	}
	var lat Time
	if write {
		lat = t.write.Sample(&t.rng)
	} else {
		lat = t.read.Sample(&t.rng)
	}
	t.served(&t.node, now, lat)
	return lat, true
}

// bindCapacity records a throttle's limit the first time it binds. It is called for every
// throttled call, so it builds nothing (not even the limit's name) once the flag is set.
// An on-demand table's maximum is a limit of its own: a table ramping up is throttled by
// the 2 × peak rule first, and by the maximum once twice its peak would exceed it.
func (t *table) bindCapacity(write bool) {
	flag, dir, limit, od, spec := &t.boundR, "read", "read capacity", &t.rOD, t.spec.Table
	if write {
		flag, dir, limit, od = &t.boundW, "write", "write capacity", &t.wOD
	}
	if !t.provisioned && od.capped() {
		maxFlag, maxLimit, key := &t.boundRMax, "on-demand maximum read throughput", "on_demand_max_rru"
		if write {
			maxFlag, maxLimit, key = &t.boundWMax, "on-demand maximum write throughput", "on_demand_max_wru"
		}
		t.m.bindOnce(maxFlag, &t.node, maxLimit, func() string {
			return fmt.Sprintf("the table's on-demand maximum of %.0f %s units/s (%s)", od.maxUnits, dir, key)
		})
		return
	}
	t.m.bindOnce(flag, &t.node, limit, func() string {
		if t.provisioned {
			return fmt.Sprintf("provisioned %g WCU / %g RCU with %g s of burst exhausted", spec.ProvisionedWCU, spec.ProvisionedRCU, spec.BurstSeconds)
		}
		return fmt.Sprintf("on-demand %s limit of %.0f units/s (max of the initial %.0f and 2 × the peak settled %v ago)",
			dir, od.limit, od.initial, time.Duration(od.window))
	})
}

func (t *table) resetStats(now Time) {
	t.delay.resetStats(now)
	t.peakUnits = t.secUnits
	t.wOD.peak, t.rOD.peak = t.wOD.used, t.rOD.used
	t.wUnits, t.rUnits = 0, 0
	if t.rep != nil {
		t.rep.resetStats()
	}
}

func (t *table) report(c *result.Component) {
	t.reportDelay(&t.node, c)
	c.PeakUnitsPS = round6(t.peakUnits)
	if !t.provisioned {
		c.PeakWriteUnitsPS = round6(t.wOD.peak)
		c.PeakReadUnitsPS = round6(t.rOD.peak)
	}
	if t.rep != nil {
		t.rep.report(c)
	}
}

// onDemand is the capacity of one direction of an on-demand table, in units per second.
//
// DynamoDB serves at once up to twice the table's previous peak, and adapts to a new peak
// within peak_window (30 minutes), but never beyond the table's on-demand maximum
// throughput (the table-level quota, 40,000 units/s per direction by default:
// on_demand_max_wru, on_demand_max_rru). The lazy approximation: consumption is counted
// per whole second; the limit in a second is min(maximum, max(initial, 2 × the highest
// per-second consumption of a second that ended at least peak_window ago)). Only served
// units count toward a peak, so a throttled surge does not raise the limit by itself.
// Seconds are closed when the next call comes, and only rising peaks are queued for
// settling (a lower peak behind a higher one can never be the maximum), so a call costs
// O(1) amortised and no event.
type onDemand struct {
	initial  float64
	maxUnits float64 // the on-demand maximum: the limit never exceeds it
	window   Time
	sec      int64   // the current second
	used     float64 // units served in the current second
	limit    float64 // the limit in force in the current second
	settled  float64 // highest per-second consumption settled (older than window)
	rising   ring[peakMark]
	// lastQueued is the units of the last mark queued (0 when the queue has drained).
	lastQueued float64
	peak       float64 // highest per-second consumption seen (the reported figure)
}

// peakMark is a closed second's consumption and the time it becomes the previous peak.
type peakMark struct {
	at    Time
	units float64
}

func (o *onDemand) take(now Time, units float64) bool {
	o.roll(now)
	if o.used+units > o.limit {
		return false
	}
	o.used += units
	o.peak = max(o.peak, o.used)
	return true
}

// roll moves the current second to now's, closing the one that ended.
func (o *onDemand) roll(now Time) {
	if s := int64(now / Second); s != o.sec {
		o.close()
		o.sec, o.used = s, 0
		for o.rising.len() > 0 && o.rising.peek().at <= now {
			o.settled = max(o.settled, o.rising.pop().units)
		}
		if o.rising.len() == 0 {
			o.lastQueued = 0
		}
		o.limit = min(o.maxUnits, o.adaptive())
	}
}

// adaptive is what the previous peak allows: at least the initial capacity, twice the
// settled peak.
func (o *onDemand) adaptive() float64 { return max(o.initial, 2*o.settled) }

// capped reports whether the limit in force is the on-demand maximum, less than the
// previous peak would allow.
func (o *onDemand) capped() bool { return o.maxUnits < o.adaptive() }

// close queues the second that just ended as a candidate previous peak. A second no higher
// than the last one queued can never become the maximum (that one settles first), so the
// queue holds rising peaks only.
func (o *onDemand) close() {
	if o.sec < 0 || o.used <= o.settled || o.used <= o.lastQueued {
		return
	}
	o.lastQueued = o.used
	o.rising.push(peakMark{at: Time(o.sec+1)*Second + o.window, units: o.used})
}

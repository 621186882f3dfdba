package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
)

// delay keeps the figures of a pure delay station — a table, a topic — that the functions
// call: a call never waits for another and its latency is drawn when it is made, so the call
// is settled at once and costs no event. With no event at its end there is no gauge to move;
// but the number of calls in progress integrated over time is exactly the sum of their
// latencies, which is what area keeps (clipped at the horizon), so the time-average number
// in the station (Little's L) is still exact.
type delay struct {
	area float64 // nanoseconds of calls in progress, measured period
}

// served counts a call made at now that lasts lat.
func (d *delay) served(n *node, now, lat Time) {
	st := &n.st
	st.offered++
	st.accepted++
	st.completed++
	st.sojourn.Record(lat)
	d.area += float64(min(now+lat, n.m.horizon) - now)
}

// refused counts a call turned away by a capacity limit.
func (d *delay) refused(n *node) {
	n.st.offered++
	n.st.rejected++
	n.st.throttled++
}

func (d *delay) resetStats(now Time) { d.area = 0 }

// reportDelay replaces the gauge-based figures, which a delay station does not keep.
func (d *delay) reportDelay(n *node, c *result.Component) {
	span := float64(n.m.horizon - n.m.warmup)
	c.MeanInSystem = round6(d.area / span)
	c.MeanConcurrency = c.MeanInSystem
	c.PeakConcurrency = 0
	c.Utilization = 0
}

// notNext refuses a delay station named as some component's next: it is reached through a
// function's calls only (hint says how).
func notNext(n *node, hint string) error {
	for _, c := range n.m.comps {
		if b := c.base(); b.next != nil && b.next.base() == n {
			return fmt.Errorf("%s is the next of %s, but a %s takes no synchronous requests: %s", n.name, b.name, n.kind, hint)
		}
	}
	return nil
}

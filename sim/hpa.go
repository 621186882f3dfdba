package sim

import (
	"fmt"
	"math"
	"time"
)

// hpa is the HorizontalPodAutoscaler's replica calculation (kubernetes.io, "Horizontal Pod
// Autoscaling", algorithm details), apart from the metric it is fed:
//
//	recommendation = ceil(current × metric / target), or current within the tolerance,
//	                 then between min and max replicas;
//	scale-up:   to the recommendation, by at most max(current × percent, current + pods)
//	            per period (the default policies, 100 % or 4 pods per 15 s, select Max);
//	scale-down: to the highest recommendation of the stabilization window (300 s by
//	            default), so that replicas fall only once the load has stayed low that long.
//
// The policies' period is taken to be the HPA's own (15 s, as by default): each evaluation
// may change the replicas by one policy step.
type hpa struct {
	minReplicas, maxReplicas int
	tolerance, upPercent     float64
	upPods                   int
	window                   Time
	recs                     []hpaRec // the recommendations of the window, oldest first
	_                        [56]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

type hpaRec struct {
	at  Time
	rec int
}

// next is one evaluation at now with current replicas and the metric's ratio to its
// target. It returns the replicas to run, the recommendation before the policies and
// limits, and the limit that held the result back: "max replicas", "scale-up policy" or "".
func (h *hpa) next(now Time, current int, ratio float64) (desired, rec int, limit string) {
	rec = current
	if math.Abs(ratio-1) > h.tolerance {
		rec = int(math.Ceil(float64(current)*ratio - 1e-9))
	}
	want := rec
	if want > h.maxReplicas {
		limit = "max replicas"
	}
	want = min(max(want, h.minReplicas), h.maxReplicas)

	k := 0
	for k < len(h.recs) && h.recs[k].at <= now-h.window {
		k++
	}
	h.recs = append(h.recs[:0], h.recs[k:]...)
	h.recs = append(h.recs, hpaRec{at: now, rec: want})

	desired = want
	switch {
	case want < current:
		high := want
		for _, r := range h.recs {
			high = max(high, r.rec)
		}
		desired = min(current, high)
	case want > current:
		step := max(int(math.Ceil(float64(current)*(1+h.upPercent/100)-1e-9)), current+h.upPods)
		if want > step {
			desired, limit = step, "scale-up policy"
		}
	}
	return desired, rec, limit
}

// autoscale is one HPA evaluation.
func (d *deployment) autoscale(now Time) {
	spec := d.dspec
	current := int(d.replicas.Value())
	desired, rec, limit := d.hpa.next(now, current, d.metricRatio(now, current))
	switch {
	case limit == "max replicas":
		d.bindOnceNamed(limit, func() string {
			return fmt.Sprintf("the HPA wants %d replicas; max_replicas is %d", rec, spec.MaxReplicas)
		})
	case limit == "scale-up policy" && d.workWaited(now):
		d.bindOnceNamed(limit, func() string {
			return fmt.Sprintf("the HPA wants %d replicas from %d; the policy allows max(%g %%, %d pods) per %v, %d; work has waited %v",
				rec, current, spec.ScaleUpPercent, spec.ScaleUpPods, time.Duration(d.hpaPeriod), desired, time.Duration(d.oldestWork(now)).Round(time.Second))
		})
	}
	// The cluster's pod limit.
	if most := d.maxPods(d.nLaunched); desired > most {
		d.bindOnceNamed("cluster pods", func() string {
			return fmt.Sprintf("%d pods wanted; the cluster's %d pods less %d DaemonSet pods on %d nodes leave %d",
				desired, spec.ClusterMaxPods, spec.DaemonsetPods, d.nLaunched, most)
		})
		desired = max(most, 0)
	}
	d.scaleTo(desired, now)
}

// metricRatio is the HPA's metric over its target.
func (d *deployment) metricRatio(now Time, current int) float64 {
	spec := d.dspec
	busy, slots := d.st.busy.Area(now), d.slots.Area(now)
	dBusy, dSlots := busy-d.lastBusyArea, slots-d.lastSlotArea
	d.lastBusyArea, d.lastSlotArea, d.lastHPA = busy, slots, now
	if spec.Metric == "backlog" {
		total := int64(0)
		for _, q := range d.queues {
			total += q.st.inSys.Value() // visible and in flight, as SQS reports them
		}
		return float64(total) / float64(max(current, 1)) / spec.Target
	}
	util := 0.0
	if dSlots > 0 {
		util = dBusy / dSlots
	}
	ratio := util / spec.Target
	// On a scale-up, pods not yet ready, or ready for less than the readiness delay, count
	// as idle (the HPA does not trust their CPU yet).
	for d.readyTimes.len() > 0 && *d.readyTimes.peek() <= now-d.readinessDelay {
		d.readyTimes.pop()
	}
	if ready := max(0, int(d.readyPods.Value())-d.readyTimes.len()); ratio > 1 && current > ready {
		// As the HPA does, a recount that reverses the direction means no change.
		ratio = max(1, util*float64(ready)/float64(current)/spec.Target)
	}
	return ratio
}

// scaleTo creates or removes pods to reach n replicas.
func (d *deployment) scaleTo(n int, now Time) {
	current := int(d.replicas.Value())
	for range n - current {
		p := d.newPod(now)
		d.pending.push(p)
		d.nPend++
	}
	if n < current {
		d.shrink(current-n, now)
	}
	d.schedule(now)
}

// shrink removes k pods: pending ones first, then starting ones, then the newest ready ones.
func (d *deployment) shrink(k int, now Time) {
	for _, state := range []podState{podPending, podStarting, podReady} {
		for i := len(d.live) - 1; i >= 0 && k > 0; i-- {
			if p := d.live[i]; p >= 0 && d.pods[p].state == state {
				d.terminate(p, now)
				d.live[i] = -1
				k--
			}
		}
	}
	kept := d.live[:0]
	for _, p := range d.live {
		if p >= 0 {
			kept = append(kept, p)
		}
	}
	d.live = kept
}

package sim

import "math"

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

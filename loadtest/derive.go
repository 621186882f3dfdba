package loadtest

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/headroom/headroom/scenarios"
)

// Derived is a scenario made to fit a machine: capacity limits and arrival rates scaled by
// one factor — so every utilisation, every ratio of load to limit, stays what it was —
// service times kept, and the horizon played in a bounded time.
type Derived struct {
	// Sets are the --set overrides that scale the scenario (after the user's own). The
	// simulator, the system and the load generator all load the scenario with them, so
	// they run the same scaled scenario by construction.
	Sets []string
	// Play compresses the workload's profile into Duration (Compress > 1 only for a
	// profile that varies; a flat one simply gets the shorter horizon).
	Play Play
	// Duration is the real length of the run.
	Duration time.Duration
	// Notes say where scaling had to round a limit.
	Notes []string
}

// Derive scales s by factor (0 means 1) and fits its horizon into d (0: the horizon as it
// is). A flat workload is the same at any length, so its horizon becomes d; a profile that
// varies over the day is compressed instead — the whole day played in d, its shape and the
// rate of every hour kept (so every utilisation is the full-scale one), service times and
// queueing real.
func Derive(s *scenarios.Scenario, factor float64, d time.Duration) (Derived, error) {
	if factor == 0 {
		factor = 1
	}
	if factor <= 0 || math.IsNaN(factor) || math.IsInf(factor, 0) {
		return Derived{}, fmt.Errorf("scale must be a finite number > 0, got %g", factor)
	}
	if d < 0 {
		return Derived{}, fmt.Errorf("duration must be > 0, got %v", d)
	}
	var out Derived
	if factor != 1 {
		out.Sets, out.Notes = scaleSets(s, factor)
	}
	horizon := s.Horizon.D()
	if d == 0 || d == horizon {
		out.Duration = horizon
		return out, nil
	}
	out.Duration = d
	if flatProfile(s.Workload) {
		out.Sets = append(out.Sets, "horizon="+d.String())
		if s.Warmup.D() > 0 {
			// The warm-up keeps its share of the run.
			w := time.Duration(float64(s.Warmup) * float64(d) / float64(horizon)).Round(time.Millisecond)
			out.Sets = append(out.Sets, "warmup="+w.String())
		}
		return out, nil
	}
	out.Play.Compress = float64(horizon) / float64(d)
	return out, nil
}

// flatProfile reports whether the workload's rate is the same at every moment.
func flatProfile(w scenarios.Workload) bool {
	return w.Users == 0 || w.Profile.Kind == "" || w.Profile.Kind == "flat" ||
		w.Profile.Kind == "diurnal" && w.Profile.PeakToMean == 1
}

// scaleSets scales every capacity limit and arrival rate of s by f, as --set overrides in
// the scenario's order.
func scaleSets(s *scenarios.Scenario, f float64) (sets, notes []string) {
	num := func(key string, v float64) {
		sets = append(sets, key+"="+strconv.FormatFloat(v*f, 'g', 10, 64))
	}
	// Integer limits round; one that rounds far from the scaled value changes what binds,
	// which a note says.
	count := func(key string, v int, least int) {
		if v == 0 {
			return
		}
		x := float64(v) * f
		n := max(least, int(math.Round(x)))
		if rel := math.Abs(float64(n)-x) / x; rel > 0.05 {
			notes = append(notes, fmt.Sprintf("%s: %d × %g = %.3g, rounded to %d (%+.0f%%)", key, v, f, x, n, 100*(float64(n)-x)/x))
		}
		sets = append(sets, key+"="+strconv.Itoa(n))
	}
	w := s.Workload
	if w.Users > 0 {
		num("workload.requests_per_user_per_day", w.RequestsPerUserPerDay)
	} else {
		num("workload.rate_rps", w.RateRPS)
	}
	for _, r := range s.Regions {
		p := "regions." + r.Name + "."
		count(p+"lambda_concurrency", r.LambdaConcurrency, 1)
		count(p+"lambda_unreserved_min", r.LambdaUnreservedMin, 0)
		count(p+"lambda_scaling_burst", r.LambdaScalingBurst, 1)
		num(p+"lambda_scaling_refill_rate", r.LambdaScalingRefillRate)
		num(p+"api_gateway_rate_rps", r.APIGatewayRateRPS)
		count(p+"api_gateway_burst", r.APIGatewayBurst, 1)
		num(p+"sns_publish_rps", r.SNSPublishRPS)
		num(p+"sns_fifo_publish_rps", r.SNSFifoPublishRPS)
	}
	for _, c := range s.Components {
		p := "components." + c.Name + "."
		switch c.Kind {
		case scenarios.KindGateway:
			if c.Gateway.RateRPS > 0 {
				num(p+"rate_rps", c.Gateway.RateRPS)
			}
			count(p+"burst", c.Gateway.Burst, 1)
		case scenarios.KindFunction:
			count(p+"reserved_concurrency", c.Function.ReservedConcurrency, 1)
		case scenarios.KindQueue:
			q := c.Queue
			if c.Next == "" {
				continue
			}
			count(p+"max_concurrency", q.MaxConcurrency, 2)
			start := max(1, int(math.Round(float64(q.PollerStart)*f)))
			count(p+"poller_start", q.PollerStart, 1)
			count(p+"poller_max", q.PollerMax, start)
			count(p+"poller_ramp_per_m", q.PollerRampPerM, 1)
		case scenarios.KindTable:
			t := c.Table
			if t.Mode == "provisioned" {
				num(p+"provisioned_wcu", t.ProvisionedWCU)
				num(p+"provisioned_rcu", t.ProvisionedRCU)
			} else {
				num(p+"on_demand_initial_wru", t.OnDemandInitialWRU)
				num(p+"on_demand_initial_rru", t.OnDemandInitialRRU)
				num(p+"on_demand_max_wru", t.OnDemandMaxWRU)
				num(p+"on_demand_max_rru", t.OnDemandMaxRRU)
			}
		case scenarios.KindTopic:
			if c.Topic.PublishRPS > 0 {
				num(p+"publish_rps", c.Topic.PublishRPS)
			}
		case scenarios.KindPool:
			count(p+"concurrency", c.Pool.Concurrency, 1)
		default:
			// Load balancers, VM tiers, caches, databases and deployments have capacities
			// of machines and pods, which do not scale by a factor: a third of a VM is not
			// a smaller VM. Left as they are, and said so.
			notes = append(notes, fmt.Sprintf("components.%s: a %s is not scaled (its capacity is whole machines or pods)", c.Name, c.Kind))
		}
	}
	return sets, notes
}

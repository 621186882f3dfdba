package validate

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// A compressed run plays a day's profile in minutes — the rates of every hour as they are,
// each hour lasting 1/k of one — while service times stay real. The simulator's profiles
// are fixed to the 24-hour day, so it predicts that run by the same scenario on a dilated
// clock instead: every duration of the scenario × k and every rate ÷ k (the daily volume
// too), the day itself (horizon, warm-up and profile) left as it is. Queueing is invariant under a
// change of time unit — the same events happen in the same order, k times slower — so the
// dilated run, its times ÷ k and its rates × k, is the prediction of the compressed one.
//
// The classification below names every number of the scenario types. A field it does not
// name makes dilation fail, so a field added to the scenario format cannot be silently
// left on the wrong clock; TestDilationCoversScenario walks the types to keep the list
// complete.

type scaling uint8

const (
	keep    scaling = iota // counts, sizes, probabilities, the day itself
	timeK                  // durations: × k
	perTime                // rates: ÷ k
)

// scenarioScaling classifies the scenario's numbers by "Type.Field". Durations and
// distributions are time unless listed here.
var scenarioScaling = map[string]scaling{
	"Scenario.Horizon": keep, "Scenario.Warmup": keep, "Scenario.Seed": keep,
	"Workload.RateRPS": perTime, "Workload.Users": keep, "Workload.RequestsPerUserPerDay": perTime,
	"Workload.PayloadBytes": keep,
	"Profile.PeakToMean":    keep, "Profile.PeakHour": keep, "Profile.Hourly": keep,
	"WeightedValue.P":          keep,
	"Region.LambdaConcurrency": keep, "Region.LambdaUnreservedMin": keep, "Region.LambdaScalingBurst": keep,
	"Region.LambdaScalingRefillRate": perTime, "Region.APIGatewayRateRPS": perTime, "Region.APIGatewayBurst": keep,
	"Region.SNSPublishRPS": perTime, "Region.SNSFifoPublishRPS": perTime,
	"Pool.Concurrency": keep, "Pool.QueueCapacity": keep,
	"Gateway.RateRPS": perTime, "Gateway.Burst": keep,
	"Function.MemoryMB": keep, "Function.ReservedConcurrency": keep, "Function.ErrorRate": keep,
	// A table counts its capacity in one-second windows of the simulator's clock, which do
	// not dilate: ÷ k its capacity would meet a Poisson stream's bursts in windows k times
	// too long and throttle what the real run never would. Its limits stay as they are
	// (the system's store has none); its peak window and latencies dilate.
	"Table.ItemKB": keep, "Table.OnDemandInitialWRU": keep, "Table.OnDemandInitialRRU": keep,
	"Table.OnDemandMaxWRU": keep, "Table.OnDemandMaxRRU": keep,
	"Table.ProvisionedWCU": keep, "Table.ProvisionedRCU": keep, "Table.BurstSeconds": keep,
	"Topic.PublishRPS":  perTime,
	"Queue.MaxReceives": keep, "Queue.BatchSize": keep, "Queue.MaxConcurrency": keep,
	"Queue.PollerStart": keep, "Queue.PollerMax": keep, "Queue.PollerRampPerM": perTime,
	"Dist.Sigma": keep, "Percentile.Q": keep, "Pos.Line": keep,
	// Objectives and claims judge results; validation judges the results brought back to
	// the real clock and does not use the simulator's verdicts on them.
	"SLO.Value": keep, "Claim.AtLeast": keep, "Claim.MonthlyUSD": keep, "Claim.Under": keep,
	"Region.EC2VCPUQuota": keep,
	"Region.SQSFifoTPS":   perTime, "Region.SQSFifoHighThroughputTPS": perTime,
	"Topic.GroupRPS": perTime, "Topic.FifoTopicRPS": perTime,
	"RouterRoute.Weight": keep, "RouterRoute.Clients": keep, // shares of the traffic
	"LoadBalancer.RequestsPerConnection": keep,
	"VMTier.Instances":                   keep, "VMTier.Workers": keep,
	"Cache.Instances": keep, "Cache.HitRatio": keep, "Cache.MemoryMB": keep, "Cache.ReservedMemoryPercent": keep,
	"Cache.ItemKB": keep, "Cache.WorkingSet": keep, "Cache.MaxOpsRPS": perTime,
	"Database.Replicas": keep, "Database.Cores": keep, "Database.PoolSize": keep, "Database.MaxConnections": keep,
	"Database.BytesPerConnection": keep, "Database.StorageGB": keep,
	// A deployment's counts and sizes; its target is a utilisation or messages per pod, its
	// scale-up a share per HPA period (the period is a duration and dilates).
	"Deployment.Concurrency": keep, "Deployment.CPURequest": keep, "Deployment.MemoryRequestMB": keep,
	"Deployment.BatchSize": keep, "Deployment.MinReplicas": keep, "Deployment.MaxReplicas": keep,
	"Deployment.Target": keep, "Deployment.Tolerance": keep, "Deployment.ScaleUpPercent": keep,
	"Deployment.ScaleUpPods": keep, "Deployment.TargetPods": keep, "Deployment.MaxPods": keep,
	"Deployment.DaemonsetPods": keep, "Deployment.DaemonsetCPU": keep, "Deployment.DaemonsetMemoryMB": keep,
	"Deployment.KubeReservedMemoryMB": keep, "Deployment.KubeReservedMemoryPerPodMB": keep,
	"Deployment.EvictionMemoryMB": keep, "Deployment.KubeReservedCPU": keep, "Deployment.MinNodes": keep,
	"Deployment.MaxNodes": keep, "Deployment.ClusterMaxNodes": keep, "Deployment.ClusterMaxPods": keep,
	"Deployment.SubnetAddresses": keep,
	"InstanceType.VCPUs":         keep, "InstanceType.MemoryMB": keep, "InstanceType.NetworkInterfaces": keep,
	"InstanceType.AddressesPerInterface": keep,
}

var (
	durationType = reflect.TypeOf(scenarios.Duration(0))
	distType     = reflect.TypeOf(scenarios.Dist{})
)

// dilate puts s on a clock k times slower, in place (s must be a copy of its own: load it
// again). It returns what it had to round: the poller ramp is a whole number per minute.
func dilate(s *scenarios.Scenario, k float64) (notes []string, err error) {
	if k <= 0 || math.IsNaN(k) || math.IsInf(k, 0) {
		return nil, fmt.Errorf("dilation %g: must be finite and > 0", k)
	}
	var walk func(v reflect.Value) error
	walk = func(v reflect.Value) error {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return nil
			}
			return walk(v.Elem())
		case reflect.Slice:
			for i := range v.Len() {
				if err := walk(v.Index(i)); err != nil {
					return err
				}
			}
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				key := t.Name() + "." + f.Name
				how, listed := scenarioScaling[key]
				switch {
				case f.Type == durationType:
					if !listed {
						how = timeK
					}
					if err := apply(v.Field(i), key, how, k, &notes); err != nil {
						return err
					}
				case isNumber(f.Type):
					if !listed {
						return fmt.Errorf("cannot put %s on a dilated clock: it is not classified as a duration, a rate or a count (loadtest/validate/dilate.go)", key)
					}
					if err := apply(v.Field(i), key, how, k, &notes); err != nil {
						return err
					}
				case listed && how == keep:
					// A structure kept whole.
				default:
					// Structures, pointers and lists hold more numbers; a distribution's
					// fields are durations (× k) but for sigma and the quantiles.
					if err := walk(v.Field(i)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return notes, walk(reflect.ValueOf(s).Elem())
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return isNumber(t.Elem())
	}
	return false
}

func apply(v reflect.Value, key string, how scaling, k float64, notes *[]string) error {
	if how == keep {
		return nil
	}
	f := k
	if how == perTime {
		f = 1 / k
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() * f)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Type() == durationType {
			v.SetInt(int64(math.Round(float64(v.Int()) * f)))
			return nil
		}
		x := float64(v.Int()) * f
		n := int64(math.Round(x))
		if x > 0 && n == 0 {
			n = 1
		}
		if x != 0 && math.Abs(float64(n)-x)/x > 0.01 {
			*notes = append(*notes, fmt.Sprintf("%s: %g on the dilated clock is rounded to %d: the simulator plays it %+.0f%% off", key, x, n, 100*(float64(n)-x)/x))
		}
		v.SetInt(n)
	case reflect.Slice:
		for i := range v.Len() {
			if err := apply(v.Index(i), key, how, k, notes); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("cannot put %s (%s) on a dilated clock", key, v.Type())
	}
	return nil
}

// resultScaling classifies the result's numbers by "Type.Field": a time (÷ k back to the
// real clock), a rate (× k), or nothing (counts, shares, concurrency). A number it does
// not name is left as it is and reported.
var resultScaling = map[string]scaling{
	"Result.HorizonS": timeK, "Result.WarmupS": timeK,
	"Workload.OfferedRPS": perTime, "Workload.CompletedRPS": perTime, "Workload.PeakRPS": perTime,
	"Stats.Mean": timeK, "Stats.P50": timeK, "Stats.P90": timeK, "Stats.P95": timeK, "Stats.P99": timeK,
	"Stats.P999": timeK, "Stats.Max": timeK,
	"Component.ThroughputRPS": perTime, "Component.MaxAgeMS": timeK, "Component.PeakUnitsPS": perTime,
	"Component.PeakReadUnitsPS": perTime, "Component.PeakWriteUnitsPS": perTime, "Component.BilledGBS": timeK,
	"Analytic.LambdaRPS": perTime, "Analytic.MuRPS": perTime, "Analytic.WaitMeanMS": timeK,
	"Analytic.SimWaitMeanMS": timeK, "Analytic.WaitMeanHalfWidthMS": timeK,
	"Break.AtS": timeK, "Break.OfferedRPS": perTime,
	"SeriesIndex.IntervalS": timeK, "SeriesIndex.OfferedRPS": perTime, "Series.ThroughputRPS": perTime,
	"Cost.PeriodS": timeK,
	// The costs and the usage they bill (GB-seconds, requests) are left on the dilated clock
	// and reported as such: validation compares no cost.
}

// resultKeep lists the numbers that stay as they are (counts, shares, concurrency, the
// machine's timing).
var resultKeep = []string{
	"Result.Seed", "Result.Replications", "Stats.Count",
	"Workload.Offered", "Workload.Accepted", "Workload.Rejected", "Workload.Completed", "Workload.Failed",
	"Component.Offered", "Component.Accepted", "Component.Rejected", "Component.Completed",
	"Component.Utilization", "Component.Capacity", "Component.PeakConcurrency", "Component.MeanConcurrency",
	"Component.MeanInSystem", "Component.Throttled", "Component.Errors", "Component.ColdStarts",
	"Component.Invocations", "Component.MaxDepth", "Component.DeadLettered", "Component.Redelivered",
	"Component.Published", "Component.Delivered", "Component.Unrouted", "Component.TimedOut",
	"Analytic.Servers", "Analytic.Capacity", "Analytic.Rho", "Analytic.PWait", "Analytic.PBlock",
	"Analytic.SimPWait", "Analytic.SimPBlock", "Analytic.PBlockHalfWidth",
	"Series.Concurrency", "Series.QueueDepth", "Series.Throttled",
	"Component.PodsReachable", "Component.CPUUtilization", "Cost.HoursPerMonth",
	"Interval.Mean", "Interval.HalfWidth",
	"Timing.WallS", "Timing.Events", "Timing.EventsPerS",
}

// undilate brings a result of the dilated scenario back to the real clock and returns the
// numbers it did not know how to (left as they were). The confidence intervals are
// rescaled by the unit their figure's name carries (…_ms, …_rps).
func undilate(r *result.Result, k float64) (unknown []string) {
	seen := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				key := t.Name() + "." + f.Name
				fv := v.Field(i)
				if t == reflect.TypeOf(result.Interval{}) && f.Name == "Mean" {
					how := intervalScaling(v.Field(0).String())
					rescale(fv, how, k)
					rescale(v.FieldByName("HalfWidth"), how, k)
					continue
				}
				if how, ok := resultScaling[key]; ok {
					rescale(fv, how, k)
					continue
				}
				if isNumber(f.Type) && !containsString(resultKeep, key) && !seen[key] {
					seen[key] = true
					unknown = append(unknown, key)
					continue
				}
				walk(fv)
			}
		}
	}
	walk(reflect.ValueOf(r).Elem())
	return unknown
}

func intervalScaling(figure string) scaling {
	switch {
	case strings.Contains(figure, "_ms"):
		return timeK
	case strings.HasSuffix(figure, "_rps"):
		return perTime
	}
	return keep
}

func rescale(v reflect.Value, how scaling, k float64) {
	f := 1 / k
	switch how {
	case keep:
		return
	case perTime:
		f = k
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() * f)
	case reflect.Slice:
		for i := range v.Len() {
			rescale(v.Index(i), how, k)
		}
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

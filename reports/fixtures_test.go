package reports

import "github.com/headroom/headroom/result"

// The fixtures are results built by hand, shaped like what the simulator produces for the
// bundled scenarios, so the golden files show every part of a report.

// baselineFixture is a serverless pipeline run where the account concurrency limit binds.
func baselineFixture() *result.Result {
	return &result.Result{
		Schema:       result.Schema,
		Mode:         result.ModePredicted,
		Scenario:     "baseline",
		Description:  "Serverless request pipeline at 8,000,000 users.\nReasoning for each duration follows.",
		Seed:         1,
		HorizonS:     86400,
		WarmupS:      0,
		Replications: 1,
		Workload: result.Workload{
			Offered: 160_012_345, Accepted: 159_998_001, Rejected: 14_344, Completed: 159_870_222,
			Failed: 1_203, OfferedRPS: 1852.0, CompletedRPS: 1850.35, PeakRPS: 5555.6,
		},
		Latency: result.Latencies{
			API:      result.Stats{Count: 159_998_001, Mean: 61.2, P50: 48.1, P90: 98.3, P95: 131, P99: 402, P999: 1510, Max: 9_870},
			EndToEnd: result.Stats{Count: 159_870_222, Mean: 2_310, P50: 310, P90: 1_950, P95: 8_400, P99: 61_300, P999: 312_000, Max: 2_750_000},
		},
		Components: []result.Component{
			{
				Name: "api", Kind: "gateway", Offered: 160_012_345, Accepted: 159_998_001, Rejected: 14_344, Completed: 159_998_001,
				Wait:            result.Stats{Count: 159_998_001},
				Sojourn:         result.Stats{Count: 159_998_001, Mean: 61.2, P50: 48.1, P90: 98.3, P95: 131, P99: 402, P999: 1510, Max: 9_870},
				PeakConcurrency: 412, MeanConcurrency: 113.3, MeanInSystem: 113.3, ThroughputRPS: 1851.8,
				Throttled: 14_344, TimedOut: 17,
			},
			{
				Name: "request", Kind: "function", Offered: 159_998_001, Accepted: 159_998_001, Completed: 159_998_001,
				Wait:        result.Stats{Count: 159_998_001},
				Sojourn:     result.Stats{Count: 159_998_001, Mean: 55.9, P50: 43.0, P90: 91.1, P95: 120, P99: 390, P999: 1490, Max: 9_800},
				Utilization: 0.1035, Capacity: 1000, PeakConcurrency: 388, MeanConcurrency: 103.5, MeanInSystem: 103.5, ThroughputRPS: 1851.8,
				Invocations: 159_998_001, ColdStarts: 3_112, BilledGBS: 1_151_985.6,
			},
			{
				Name: "requests", Kind: "table", Offered: 159_998_001, Accepted: 159_998_001, Completed: 159_998_001,
				Wait:            result.Stats{Count: 159_998_001},
				Sojourn:         result.Stats{Count: 159_998_001, Mean: 7.1, P50: 6.2, P90: 10.4, P95: 12.0, P99: 18.5, P999: 31, Max: 88},
				PeakConcurrency: 52, MeanConcurrency: 13.1, MeanInSystem: 13.1, ThroughputRPS: 1851.8,
				PeakUnitsPS: 5_702, PeakReadUnitsPS: 0, PeakWriteUnitsPS: 5_702,
			},
			{
				Name: "states", Kind: "topic", Offered: 159_998_001, Accepted: 159_998_001, Completed: 159_998_001,
				Wait:            result.Stats{Count: 159_998_001},
				Sojourn:         result.Stats{Count: 159_998_001, Mean: 21, P50: 19.5, P90: 30, P95: 33, P99: 44, P999: 70, Max: 140},
				PeakConcurrency: 160, MeanConcurrency: 38.9, MeanInSystem: 38.9, ThroughputRPS: 1851.8,
				Published: 159_998_001, Delivered: 159_998_001,
			},
			{
				Name: "pending", Kind: "queue", Offered: 79_999_000, Accepted: 79_999_000, Completed: 79_933_000,
				Wait:            result.Stats{Count: 79_933_000, Mean: 2_100, P50: 120, P90: 1_700, P95: 7_900, P99: 60_100, P999: 311_000, Max: 2_740_000},
				Sojourn:         result.Stats{Count: 79_933_000, Mean: 2_250, P50: 260, P90: 1_850, P95: 8_050, P99: 60_250, P999: 311_150, Max: 2_740_150},
				PeakConcurrency: 1_840_112, MeanConcurrency: 0, MeanInSystem: 2_083.2, ThroughputRPS: 925.2,
				MaxDepth: 1_840_112, MaxAgeMS: 2_740_000, Redelivered: 2_410, DeadLettered: 1_203,
			},
			{
				Name: "processor", Kind: "function", Offered: 159_870_222, Accepted: 159_870_222, Completed: 159_870_222,
				Wait:        result.Stats{Count: 159_870_222},
				Sojourn:     result.Stats{Count: 159_870_222, Mean: 150, P50: 120, P90: 260, P95: 330, P99: 510, P999: 900, Max: 3_100},
				Utilization: 0.6123, Capacity: 1000, PeakConcurrency: 1000, MeanConcurrency: 612.3, MeanInSystem: 612.3, ThroughputRPS: 1850.35,
				Invocations: 16_001_200, ColdStarts: 9_870, Throttled: 41_215, Errors: 1_208,
			},
		},
		Checks: []result.Check{
			{Name: "little/api", Passed: true, Detail: "L = 113.3, λW = 113.3 (0.01% apart, tolerance 2%)"},
			{Name: "little/pending", Passed: true, Detail: "L = 2083, λW = 2082 (0.05% apart, tolerance 2%)"},
			{Name: "conservation", Passed: false, Detail: "offered 160012345 ≠ accepted 159998001 + rejected 14344 + 0 still answering; accepted 159998001 = completed 159870222 + failed 1203 + 126576 still processing"},
		},
		Breaks: []result.Break{
			{Component: "processor", Limit: "account concurrency 1000", AtS: 36_723.4, OfferedRPS: 4_980, Detail: "region default: 1000 of 1000 environments busy; throttled batches return to the queue"},
			{Component: "pending", Limit: "message age > 60s", AtS: 37_800, OfferedRPS: 5_210, Detail: "backlog grows while the processor is throttled"},
		},
		Timing: result.Timing{WallS: 21.734, Events: 1_612_345_678, EventsPerS: 74_185_000},
	}
}

// mmcFixture is the M/M/10 textbook queue with its Erlang C figures, over 4 replications.
func mmcFixture() *result.Result {
	return &result.Result{
		Schema:       result.Schema,
		Mode:         result.ModePredicted,
		Scenario:     "mmc",
		Description:  "Textbook M/M/10 queue; checks the kernel against Erlang C.",
		Seed:         42,
		HorizonS:     400 * 3600,
		WarmupS:      3600,
		Replications: 4,
		Workload: result.Workload{
			Offered: 11_519_876, Accepted: 11_519_876, Completed: 11_519_870,
			OfferedRPS: 7.9999, CompletedRPS: 7.9999, PeakRPS: 8,
		},
		Latency: result.Latencies{
			API:      result.Stats{Count: 11_519_870, Mean: 1204.1, P50: 850, P90: 2_800, P95: 3_550, P99: 5_300, P999: 7_900, Max: 17_400},
			EndToEnd: result.Stats{Count: 11_519_870, Mean: 1204.1, P50: 850, P90: 2_800, P95: 3_550, P99: 5_300, P999: 7_900, Max: 17_400},
		},
		Components: []result.Component{{
			Name: "workers", Kind: "pool", Offered: 11_519_876, Accepted: 11_519_876, Completed: 11_519_870,
			Wait:        result.Stats{Count: 11_519_870, Mean: 204.1, P50: 0, P90: 760, P95: 1_190, P99: 2_270, P999: 3_420, Max: 9_900},
			Sojourn:     result.Stats{Count: 11_519_870, Mean: 1204.1, P50: 850, P90: 2_800, P95: 3_550, P99: 5_300, P999: 7_900, Max: 17_400},
			Utilization: 0.79991, Capacity: 10, PeakConcurrency: 10, MeanConcurrency: 7.9991, MeanInSystem: 9.632, ThroughputRPS: 7.9999,
			Analytic: &result.Analytic{
				Model: "M/M/c", LambdaRPS: 8, MuRPS: 1, Servers: 10, Rho: 0.8,
				WaitMeanMS: 204.5928, PWait: 0.4092, SimWaitMeanMS: 204.1, SimPWait: 0.4089, WaitMeanHalfWidthMS: 1.7,
			},
		}},
		Checks: []result.Check{
			{Name: "little/workers", Passed: true, Detail: "L = 9.632, λW = 9.633 (0.01% apart, tolerance 2%)"},
			{Name: "erlang-c/workers", Passed: true, Detail: "simulated mean wait 204.10 ms, Erlang C 204.59 ms, within ±1.70 ms"},
		},
		CI95: []result.Interval{
			{Figure: "workload.completed", Mean: 11_519_870, HalfWidth: 3_100},
			{Figure: "latency_ms.api.p99", Mean: 5_300, HalfWidth: 41},
			{Figure: "components.workers.wait_ms.mean", Mean: 204.1, HalfWidth: 1.7},
			{Figure: "components.workers.wait_ms.p99", Mean: 2_270, HalfWidth: 22},
			{Figure: "components.workers.utilization", Mean: 0.79991, HalfWidth: 0.0004},
			{Figure: "components.workers.peak_concurrency", Mean: 10, HalfWidth: 0},
			{Figure: "components.workers.analytic.sim_p_wait", Mean: 0.4089, HalfWidth: 0.0031},
		},
		Timing: result.Timing{WallS: 3.2, Events: 46_079_504, EventsPerS: 14_399_845},
	}
}

// lossFixture is the M/M/37/37 loss system of the issue (λ = 30, μ = 1) with Erlang B.
func lossFixture() *result.Result {
	return &result.Result{
		Schema:       result.Schema,
		Mode:         result.ModePredicted,
		Scenario:     "mmc",
		Seed:         1,
		HorizonS:     3600,
		Replications: 1,
		Workload: result.Workload{
			Offered: 108_000, Accepted: 105_800, Rejected: 2_200, Completed: 105_790,
			OfferedRPS: 30, CompletedRPS: 29.39, PeakRPS: 30,
		},
		Latency: result.Latencies{
			API:      result.Stats{Count: 105_790, Mean: 1000.2, P50: 693, P90: 2_300, P95: 2_990, P99: 4_600, P999: 6_900, Max: 12_100},
			EndToEnd: result.Stats{Count: 105_790, Mean: 1000.2, P50: 693, P90: 2_300, P95: 2_990, P99: 4_600, P999: 6_900, Max: 12_100},
		},
		Components: []result.Component{{
			Name: "workers", Kind: "pool", Offered: 108_000, Accepted: 105_800, Rejected: 2_200, Completed: 105_790,
			Wait:        result.Stats{Count: 105_790},
			Sojourn:     result.Stats{Count: 105_790, Mean: 1000.2, P50: 693, P90: 2_300, P95: 2_990, P99: 4_600, P999: 6_900, Max: 12_100},
			Utilization: 0.7943, Capacity: 37, PeakConcurrency: 37, MeanConcurrency: 29.39, MeanInSystem: 29.39, ThroughputRPS: 29.39,
			Analytic: &result.Analytic{
				Model: "M/M/c/c", LambdaRPS: 30, MuRPS: 1, Servers: 37, Capacity: 37, Rho: 0.8108,
				PBlock: 0.0206, SimPBlock: 0.0204, PBlockHalfWidth: 0.0011,
			},
		}},
		Checks: []result.Check{
			{Name: "erlang-b/workers", Passed: true, Detail: "simulated P(block) 0.0204, Erlang B 0.0206, within ±0.0011"},
		},
		Timing: result.Timing{WallS: 0.021, Events: 321_590, EventsPerS: 15_313_809},
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

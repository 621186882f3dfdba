package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func claimScenario(claims ...scenarios.Claim) *scenarios.Scenario {
	return &scenarios.Scenario{Name: "alt", Claims: claims}
}

func TestClaimVerdicts(t *testing.T) {
	r := &result.Result{
		Workload: result.Workload{Offered: 100, Accepted: 100, Completed: 100},
		Latency:  result.Latencies{API: result.Stats{Count: 100, P99: 250}, EndToEnd: result.Stats{Count: 100, P99: 90_000}},
		Cost:     &result.Cost{MonthlyUSD: 1234.5, PricesAsOf: "2026-11-23"},
	}
	sc := claimScenario(
		scenarios.Claim{Says: "fast API", Kind: scenarios.ClaimP99Under, Path: "api", Under: scenarios.Duration(300 * time.Millisecond)},
		scenarios.Claim{Kind: scenarios.ClaimP99Under, Path: "end_to_end", Under: scenarios.Duration(time.Minute)},
		scenarios.Claim{Kind: scenarios.ClaimCostUnder, MonthlyUSD: 2000},
		scenarios.Claim{Kind: scenarios.ClaimCostUnder, MonthlyUSD: 1000},
		scenarios.Claim{Says: "FIFO keeps arrival order", Kind: scenarios.ClaimOrderPreserved, Key: "state"},
		scenarios.Claim{Says: "Kubernetes reaches 50,000 pods", Kind: scenarios.ClaimPodsReachable, AtLeast: 50000},
		scenarios.Claim{Says: "a second region doubles capacity", Kind: scenarios.ClaimCapacityRatio, Vs: "baseline", AtLeast: 1.8},
		scenarios.Claim{Kind: scenarios.ClaimMeetsSLO, SLO: "completed_ratio>=0.99"},
	)
	got := EvaluateClaims(sc, r, nil)
	want := []struct{ verdict, evidence string }{
		{"holds", "api.p99 = 250ms over 100 requests"},
		{"fails", "end_to_end.p99 = 1m30s over 100 requests"},
		{"holds", "monthly cost $1234.50 (prices as of 2026-11-23)"},
		{"fails", "monthly cost $1234.50"},
		{"unknown", "cannot be checked: the model reports no ordering per state"},
		{"unknown", "no component reports the pods it can reach: the model has no Kubernetes cluster"},
		{"unknown", "needs the largest load at SLO of alt and of baseline: run headroom compare baseline alt --breakpoint"},
		{"holds", "100 completed of 100 offered"},
	}
	require.Len(t, got, len(want))
	for i, w := range want {
		require.Equal(t, w.verdict, got[i].Verdict, "claim %d %+v", i, got[i])
		require.Contains(t, got[i].Evidence, w.evidence, "claim %d", i)
	}
	require.Equal(t, "fast API", got[0].Claim)
	require.Equal(t, "api.p99 < 300ms", got[0].Check)
	require.Equal(t, "end_to_end.p99 < 1m0s", got[1].Claim, "no says: the checkable form")

	// The kinds report what the claims need.
	r.Components = []result.Component{
		{Name: "q_pending", Ordering: []result.Ordering{{Key: "state", Checked: 500, Violations: 0}}},
		{Name: "q_approved", Ordering: []result.Ordering{{Key: "state", Checked: 300, Violations: 0}}},
		{Name: "cluster", PodsReachable: 37_950, PodsLimit: "vCPU quota: 5,000 vCPUs / 2 per m5.large node = 2,500 nodes"},
	}
	got = EvaluateClaims(sc, r, nil)
	require.Equal(t, "holds", got[4].Verdict)
	require.Equal(t, "0 of 800 messages processed out of arrival order per state (q_pending 0 of 500, q_approved 0 of 300)", got[4].Evidence)
	require.Equal(t, "fails", got[5].Verdict)
	require.Equal(t, "cluster can run at most 37950 pods; the binding limit: vCPU quota: 5,000 vCPUs / 2 per m5.large node = 2,500 nodes", got[5].Evidence)
	r.Components[1].Ordering[0].Violations = 7
	require.Equal(t, "fails", EvaluateClaims(sc, r, nil)[4].Verdict)
	r.Components[0].Ordering[0].Key = "user"
	r.Components[1].Ordering[0].Key = "user"
	require.Contains(t, EvaluateClaims(sc, r, nil)[4].Evidence, "no ordering per state (q_pending counts order per user")

	// Nothing processed: no evidence either way.
	r.Components[0].Ordering[0] = result.Ordering{Key: "state"}
	r.Components[1].Ordering[0] = result.Ordering{Key: "state"}
	got = EvaluateClaims(sc, r, nil)
	require.Equal(t, "unknown", got[4].Verdict)
	require.Contains(t, got[4].Evidence, "no message was processed in the measured period")
}

// Replications are combined field by field as means, but the ordering claim must see a
// violation any one replication had: 3 in one of eight is not 3/8 ≈ 0.
func TestReplicationsKeepTheOrderViolationsOfAnyOne(t *testing.T) {
	rs := make([]*result.Result, 8)
	for i := range rs {
		rs[i] = &result.Result{Components: []result.Component{{Name: "q", Ordering: []result.Ordering{{Key: "state", Checked: 1000}}}}}
	}
	rs[5].Components[0].Ordering[0].Violations = 3
	got := combine(rs).Components[0].Ordering[0]
	require.Equal(t, result.Ordering{Key: "state", Checked: 1000, Violations: 3}, got)
	sc := claimScenario(scenarios.Claim{Kind: scenarios.ClaimOrderPreserved, Key: "state"})
	require.Equal(t, "fails", EvaluateClaims(sc, combine(rs), nil)[0].Verdict)
}

func TestCapacityRatioClaimUsesTheBreakpoints(t *testing.T) {
	sc := claimScenario(scenarios.Claim{Kind: scenarios.ClaimCapacityRatio, Vs: "baseline", AtLeast: 1.8})
	bp := func(name string, max, fail float64, status string) *result.Breakpoint {
		return &result.Breakpoint{Scenario: name, Variable: "users", MaxLoad: max, FailLoad: fail, Status: status}
	}
	ctx := &ClaimContext{Compared: []string{"baseline", "alt"}, Breakpoints: map[string]*result.Breakpoint{
		"baseline": bp("baseline", 5_000_000, 5_100_000, "found"),
		"alt":      bp("alt", 9_500_000, 9_650_000, "found"),
	}}
	got := EvaluateClaims(sc, &result.Result{}, ctx)[0]
	require.Equal(t, "holds", got.Verdict)
	require.Equal(t, "max users at SLO: alt 9500000 vs baseline 5000000, ratio 1.9 (needs >= 1.8) (between 1.863 and 1.93 given the search tolerance)", got.Evidence)

	ctx.Breakpoints["alt"] = bp("alt", 7_000_000, 7_100_000, "found")
	require.Equal(t, "fails", EvaluateClaims(sc, &result.Result{}, ctx)[0].Verdict)

	ctx.Breakpoints["alt"] = bp("alt", 5_120_000_000, 0, "above_range")
	got = EvaluateClaims(sc, &result.Result{}, ctx)[0]
	require.Equal(t, "holds", got.Verdict)
	require.Contains(t, got.Evidence, "still met its SLOs at the largest load probed")

	// Both unbounded: each load is only where its search stopped, so no ratio is known.
	ctx.Breakpoints["baseline"] = bp("baseline", 1_000_000, 0, "above_range")
	got = EvaluateClaims(sc, &result.Result{}, ctx)[0]
	require.Equal(t, "unknown", got.Verdict)
	require.Contains(t, got.Evidence, "but baseline still met its SLOs at the largest load probed")
	ctx.Breakpoints["baseline"] = bp("baseline", 5_000_000, 5_100_000, "found")

	// Loads found against different objectives are not comparable.
	slos := func(names ...string) []result.SLOResult {
		var out []result.SLOResult
		for _, n := range names {
			out = append(out, result.SLOResult{SLO: n, Passed: true})
		}
		return out
	}
	ctx.Breakpoints["alt"] = bp("alt", 9_500_000, 9_650_000, "found")
	ctx.Breakpoints["alt"].SLOs = slos("throttle_ratio<=0.01", "api.p99<=300ms")
	ctx.Breakpoints["baseline"].SLOs = slos("api.p99<=300ms", "throttle_ratio<=0.001")
	got = EvaluateClaims(sc, &result.Result{}, ctx)[0]
	require.Equal(t, "unknown", got.Verdict)
	require.Equal(t, "alt was searched against api.p99<=300ms, throttle_ratio<=0.01 and baseline against api.p99<=300ms, throttle_ratio<=0.001: the loads meet different objectives", got.Evidence)
	ctx.Breakpoints["alt"].SLOs = slos("throttle_ratio<=0.001", "api.p99<=300ms")
	require.Equal(t, "holds", EvaluateClaims(sc, &result.Result{}, ctx)[0].Verdict, "the same objectives in another order")
	// A search that met its (other) objectives at no load says nothing about these either.
	ctx.Breakpoints["alt"] = bp("alt", 0, 1_000_000, "below_range")
	ctx.Breakpoints["alt"].SLOs = slos("throttle_ratio<=0.01", "api.p99<=300ms")
	require.Equal(t, "unknown", EvaluateClaims(sc, &result.Result{}, ctx)[0].Verdict)
	ctx.Breakpoints["alt"].SLOs = slos("throttle_ratio<=0.001", "api.p99<=300ms")
	require.Equal(t, "fails", EvaluateClaims(sc, &result.Result{}, ctx)[0].Verdict)

	delete(ctx.Breakpoints, "baseline")
	got = EvaluateClaims(sc, &result.Result{}, ctx)[0]
	require.Equal(t, "unknown", got.Verdict)
	require.Equal(t, "baseline is not in this comparison (baseline, alt): add it", got.Evidence)
}

package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// findBreak returns the break of component c's limit, or nil.
func findBreak(m *Model, c, limit string) *result.Break {
	for i := range m.breaks {
		if b := &m.breaks[i]; b.Component == c && b.Limit == limit {
			return b
		}
	}
	return nil
}

// An on-demand table serves up to twice its previous peak but never more than its
// on-demand maximum (on_demand_max_wru, 40,000 units/s by default). 5,000 writes/s of
// 10 KB (10 WRU each: 50,000 WRU/s offered) for 10 s, arrivals every 0.2 ms from 0.2 ms,
// against a table starting at 5,000 WRU/s whose peak window is cut to 1 s so that the
// doubling takes seconds: second k's peak settles at k + 2 s, so the limit in second k is
// min(max, max(5,000, 2 × the most served in seconds 0 … k − 2)), and every second is
// overloaded up to the cap:
//
//	second   0–1     2–3     4–5     6–7     8–9
//	2×peak   5,000   10,000  20,000  40,000  80,000
//	served   5,000   10,000  20,000  40,000  40,000  (max 40,000)
//
// 2 × (5,000 + 10,000 + 20,000 + 40,000 + 40,000) = 230,000 WRU, a peak of 40,000/s, and
// from 8 s on the throttle is the maximum's, which the run reports as a limit of its own
// (the 2 × peak rule bound first, at the start). The first write refused by the cap is the
// one after the 4,000 served from 8 s: at 8 s + 4,000 × 0.2 ms = 8.8 s.
//
// With the maximum raised to 100,000 seconds 8 and 9 serve all 50,000 offered: 250,000 WRU,
// a peak of 50,000/s. A table starting warm above its maximum (as breakpoint probes start
// on-demand tables) is held to it from the first second: 10 × 40,000 = 400,000 WRU.
func TestOnDemandTableMaximumCapsTheDoubling(t *testing.T) {
	run := func(initial, maxWRU float64) (*Model, *table) {
		tbl := &scenarios.Component{Name: "t", Kind: scenarios.KindTable, Table: &scenarios.Table{
			Mode: "on_demand", ItemKB: 10, ReadLatency: constant(time.Millisecond), WriteLatency: constant(time.Millisecond),
			OnDemandInitialWRU: initial, OnDemandInitialRRU: 12000, OnDemandPeakWindow: scenarios.Duration(time.Second),
			OnDemandMaxWRU: maxWRU, OnDemandMaxRRU: 40000,
		}}
		w := fn("w", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "t", Op: "write"}} })
		m := runModel(t, deterministic(5000, 10*time.Second, "w", testRegion(), w, tbl))
		return m, comp[*table](t, m, "t")
	}

	m, tb := run(5000, 40000)
	require.InDelta(t, 230000, tb.wUnits, 10) // ± the write arriving at 10 s, if any
	require.Equal(t, 40000.0, tb.wOD.peak)
	require.Equal(t, tb.st.offered-tb.st.completed, tb.st.throttled)
	first := findBreak(m, "t", "write capacity")
	require.NotNil(t, first)
	require.InDelta(t, 0, first.AtS, 0.2, "the 2 × peak rule binds in the first second")
	capped := findBreak(m, "t", "on-demand maximum write throughput")
	require.NotNil(t, capped, "%+v", m.breaks)
	require.InDelta(t, 8.8, capped.AtS, 0.001)
	require.Equal(t, "the table's on-demand maximum of 40000 write units/s (on_demand_max_wru)", capped.Detail)

	m, tb = run(5000, 100000)
	require.InDelta(t, 250000, tb.wUnits, 10)
	require.Equal(t, 50000.0, tb.wOD.peak)
	require.Nil(t, findBreak(m, "t", "on-demand maximum write throughput"))

	m, tb = run(1e15, 40000)
	require.InDelta(t, 400000, tb.wUnits, 10)
	require.Nil(t, findBreak(m, "t", "write capacity"), "only the maximum binds")
	require.NotNil(t, findBreak(m, "t", "on-demand maximum write throughput"))
}

package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// 1,000 arrivals/s exactly, each running exactly 10 ms, against 5 executions: a slot frees
// every 2 ms on average, so exactly 500/s run and exactly the excess, 500/s, is throttled.
// Arrivals come at k ms; the ones at 1–5 ms run, 6–10 ms are throttled, the completion at
// 11 ms runs before the arrival at 11 ms (scheduled earlier), and so on: 5 of every 10.
func TestFunctionAtItsConcurrencyCapThrottlesExactlyTheExcess(t *testing.T) {
	reg := testRegion()
	reg.LambdaConcurrency, reg.LambdaUnreservedMin = 5, 0
	sc := deterministic(1000, 10*time.Second, "f", reg, fn("f", 10*time.Millisecond))
	m := runModel(t, sc)
	f := comp[*function](t, m, "f")
	require.Equal(t, int64(10000), f.st.offered)
	require.Equal(t, int64(5000), f.st.accepted)
	require.Equal(t, int64(5000), f.st.throttled)
	require.Equal(t, int64(5000), m.rejected)
	require.Equal(t, int64(5), f.st.busy.Peak())
	require.Equal(t, int64(5), f.coldStarts, "five environments, reused ever after")
	require.Equal(t, "account concurrency", m.breaks[0].Limit)
	require.Equal(t, 0.006, m.breaks[0].AtS, "the sixth arrival, at 6 ms, is the first throttled")
	requireChecksPass(t, m)
}

// Reserved concurrency caps its function and is carved out of the shared pool: with an
// account limit of 100 and 30 reserved for a, b (unreserved) gets at most 70.
func TestReservedConcurrencyCapsAFunctionAndShrinksTheSharedPool(t *testing.T) {
	reg := testRegion()
	reg.LambdaConcurrency, reg.LambdaUnreservedMin = 100, 10
	a := fn("a", 100*time.Millisecond, func(f *scenarios.Function) { f.ReservedConcurrency = 30 })
	a.Next = "b"
	b := fn("b", time.Second)
	// a needs 1,000/s × 0.1 s = 100 and gets 30, so it passes 300/s to b, which needs 300.
	sc := deterministic(1000, 20*time.Second, "a", reg, a, b)
	m := runModel(t, sc)
	fa, fb := comp[*function](t, m, "a"), comp[*function](t, m, "b")
	require.Equal(t, int64(30), fa.st.busy.Peak())
	require.Equal(t, int64(70), fb.st.busy.Peak())
	require.Equal(t, int64(30), fa.st.capacity)
	require.Equal(t, int64(70), fb.st.capacity)
	require.Greater(t, fa.st.throttled, int64(0))
	require.Greater(t, fb.st.throttled, int64(0))
	limits := map[string]string{}
	for _, br := range m.breaks {
		limits[br.Component] = br.Limit
	}
	require.Equal(t, map[string]string{"a": "reserved concurrency", "b": "account concurrency"}, limits)
	requireChecksPass(t, m)

	// Reserving more than the limit less the unreserved minimum is refused.
	a.Function.ReservedConcurrency = 91
	_, err := build(sc, 1)
	require.ErrorContains(t, err, "at most 90 may be")
}

// An environment idle for less than idle_lifetime is reused; one idle for longer has expired
// and the next invocation starts cold — decided when it is looked at, with no expiry event.
func TestIdleEnvironmentExpiresAfterItsLifetimeAndNotBefore(t *testing.T) {
	for _, c := range []struct {
		every time.Duration
		cold  int64
	}{
		{every: 10*time.Minute - time.Second, cold: 1}, // idle 9 min 59 s − 1 ms: always warm
		{every: 10*time.Minute + time.Second, cold: 6}, // idle 10 min 1 s − 1 ms: always cold
	} {
		f := fn("f", time.Millisecond, func(f *scenarios.Function) {
			f.Init = constant(100 * time.Millisecond)
		})
		sc := deterministic(1/c.every.Seconds(), 6*c.every+time.Second, "f", testRegion(), f)
		m := runModel(t, sc)
		fc := comp[*function](t, m, "f")
		require.Equal(t, int64(6), fc.invocations)
		require.Equal(t, c.cold, fc.coldStarts, "arrivals every %v", c.every)
		// A cold start adds INIT to the invocation: the mean sojourn shows how many.
		wantMean := 1 + 100*float64(c.cold)/6
		require.InDelta(t, wantMean, fc.st.sojourn.MeanMS(), 1e-9)
	}
}

// The per-function scaling bucket (1,000 environments per 10 s) throttles a sudden surge of
// cold starts: with a burst of 50 and a refill of 10/s, 2,000 arrivals/s of 10 s invocations
// get 50 environments at once and 10 more per second.
func TestScalingRateThrottlesColdStartsBeyondTheBucket(t *testing.T) {
	reg := testRegion()
	reg.LambdaScalingBurst, reg.LambdaScalingRefillRate = 50, 10
	sc := deterministic(2000, 5*time.Second, "f", reg, fn("f", 10*time.Second))
	m := runModel(t, sc)
	f := comp[*function](t, m, "f")
	// Tokens: 50 at the first arrival (0.5 ms), + 10/s until 5 s.
	require.Equal(t, int64(50+int((5*Second-Millisecond/2).Seconds()*10)), f.coldStarts)
	require.Equal(t, f.coldStarts, f.st.accepted)
	require.Equal(t, "scaling rate", m.breaks[0].Limit)
}

// A function's timeout cuts an invocation short (an error), and a gateway turns an answer
// later than its integration timeout into a 504.
func TestTimeoutsFailTheInvocationAndTheGatewayAnswers504(t *testing.T) {
	gw := &scenarios.Component{Name: "api", Kind: scenarios.KindGateway, Next: "f",
		Gateway: &scenarios.Gateway{Timeout: scenarios.Duration(2 * time.Second)}}
	slow := fn("f", 3*time.Second, func(f *scenarios.Function) { f.Timeout = scenarios.Duration(10 * time.Second) })
	sc := deterministic(10, time.Minute, "api", testRegion(), gw, slow)
	m := runModel(t, sc)
	g := comp[*gateway](t, m, "api")
	require.Equal(t, m.rejected, g.timedOut)
	require.Equal(t, int64(600-30), g.timedOut, "every answer that came before the horizon")
	require.Equal(t, int64(0), m.accepted)

	slow.Function.Timeout = scenarios.Duration(time.Second)
	m = runModel(t, sc)
	f := comp[*function](t, m, "f")
	require.Equal(t, f.invocations, f.errors)
	require.InDelta(t, 1000, f.st.sojourn.MeanMS(), 1e-9, "cut at the 1 s timeout")
	require.Equal(t, int64(0), comp[*gateway](t, m, "api").timedOut)
	require.Equal(t, f.errors, m.rejected)
}

// Billing: every invocation's duration, INIT included, rounded up to the millisecond, × memory.
func TestFunctionBillsGBSecondsPerMillisecond(t *testing.T) {
	f := fn("f", 1500*time.Microsecond, func(f *scenarios.Function) {
		f.MemoryMB = 2048
		f.Init = constant(100 * time.Millisecond)
	})
	sc := deterministic(10, 11*time.Second+50*time.Millisecond, "f", testRegion(), f)
	m := runModel(t, sc)
	var c result.Component
	comp[*function](t, m, "f").report(&c)
	// 110 invocations, every 100 ms. The first is cold and still in INIT when the second
	// comes, which starts cold too; all others reuse one of the two. 2 × 102 ms (101.5 rounded
	// up) + 108 × 2 ms (1.5 rounded up) = 420 ms, × 2 GB = 0.84 GB-s.
	require.Equal(t, int64(110), c.Invocations)
	require.Equal(t, int64(2), c.ColdStarts)
	require.Equal(t, 0.84, c.BilledGBS)
}

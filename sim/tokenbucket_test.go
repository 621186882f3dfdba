package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// Offered far above its rate, a bucket that starts full admits exactly burst + rate × window
// over the window, whatever the offered rate: the burst at once, then one per refill. (The
// offers must come often enough that the bucket never overflows between two of them, i.e.
// burst ≥ 1 + rate × interval; otherwise the overflow is lost, as it should be.)
func TestTokenBucketAdmitsRateTimesWindowPlusBurst(t *testing.T) {
	cases := []struct {
		rate, burst float64
		every       Time // offered every
		window      Time
	}{
		{rate: 100, burst: 50, every: Millisecond, window: 10 * Second},
		{rate: 10000, burst: 5000, every: 6 * Microsecond, window: 3 * Second},
		{rate: 3, burst: 2, every: 100 * Millisecond, window: 60 * Second},
	}
	for _, c := range cases {
		b := newTokenBucket(c.rate, c.burst)
		admitted := 0
		for now := Time(0); now <= c.window; now += c.every {
			if b.take(now, 1) {
				admitted++
			}
		}
		want := int(c.burst + c.rate*c.window.Seconds())
		require.Equal(t, want, admitted, "rate %g burst %g", c.rate, c.burst)
	}
}

func TestTokenBucketRefillsLazilyUpToItsBurst(t *testing.T) {
	b := newTokenBucket(100, 10)
	require.True(t, b.take(0, 10))
	require.False(t, b.take(0, 1))
	require.InDelta(t, 5, b.tokens(50*Millisecond), 1e-9)
	require.InDelta(t, 10, b.tokens(time2(time.Hour)), 1e-9, "never more than the burst")
	require.True(t, b.takeUnits(time2(time.Hour), 2.5))
	require.InDelta(t, 7.5, b.tokens(time2(time.Hour)), 1e-9)
	// Time going backwards (a caller charging at an earlier instant) gives no refill.
	require.InDelta(t, 7.5, b.tokens(0), 1e-9)
}

func time2(d time.Duration) Time { return Dur(d) }

// The same law through a gateway: deterministic arrivals at 1,000/s against a stage limit of
// 100/s with a burst of 50 over 10 s: 1,050 admitted, the rest throttled with a 429.
func TestGatewayStageLimitAdmitsRateTimesWindowPlusBurst(t *testing.T) {
	gw := &scenarios.Component{Name: "api", Kind: scenarios.KindGateway, Next: "f",
		Gateway: &scenarios.Gateway{RateRPS: 100, Burst: 50, Timeout: scenarios.Duration(29 * time.Second)}}
	sc := deterministic(1000, 10*time.Second, "api", testRegion(), gw, fn("f", time.Millisecond))
	m := runModel(t, sc)
	g := comp[*gateway](t, m, "api")
	require.Equal(t, int64(10000), g.st.offered)
	// The first arrival comes at 1 ms, so the window of refill is 10 s − 1 ms: 999.9 tokens
	// accrue, of which the one due at 10 s exactly arrives with the last request.
	require.Equal(t, int64(50+1000-1), g.st.accepted)
	require.Equal(t, g.st.offered-g.st.accepted, g.st.throttled)
	require.Equal(t, m.rejected, g.st.throttled)
	require.Len(t, m.breaks, 1)
	require.Equal(t, "rate limit", m.breaks[0].Limit)
	requireChecksPass(t, m)
}

// The account bucket is shared: two gateways in one region draw from it, so together they
// take no more than burst + rate × window tokens, while each alone would take all of them.
func TestGatewaysShareTheRegionsAccountBucket(t *testing.T) {
	reg := testRegion()
	reg.APIGatewayRateRPS, reg.APIGatewayBurst = 200, 3
	outer := &scenarios.Component{Name: "outer", Kind: scenarios.KindGateway, Next: "inner",
		Gateway: &scenarios.Gateway{Timeout: scenarios.Duration(29 * time.Second)}}
	inner := &scenarios.Component{Name: "inner", Kind: scenarios.KindGateway, Next: "f",
		Gateway: &scenarios.Gateway{Timeout: scenarios.Duration(29 * time.Second)}}
	// 150 arrivals/s, each wanting a token from each gateway; the bucket stays below its
	// burst between arrivals (1 + 200/150 < 3), so no refill is lost after the first arrival
	// at 1/150 s: 3 + 200 × (20 − 1/150) = 4,001.7 tokens in all.
	sc := deterministic(150, 20*time.Second, "outer", reg, outer, inner, fn("f", time.Millisecond))
	m := runModel(t, sc)
	o, i := comp[*gateway](t, m, "outer"), comp[*gateway](t, m, "inner")
	require.Equal(t, int64(4001), o.st.accepted+i.st.accepted)
	require.Greater(t, i.st.throttled, int64(0))
	requireChecksPass(t, m)
}

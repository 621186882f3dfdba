package sim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim/cost"
)

// The monthly bill of the bundled vm-cache with its default instances, by hand from
// prices.yaml (730 hours a month):
//
//	web    3 × m5.large        × $0.096  × 730 h = $210.24
//	mysql  3 × db.m5.large     × $0.171  × 730 h = $374.49   (primary + 2 replicas)
//	cache  1 × cache.m5.large  × $0.156  × 730 h = $113.88
//	lb     1 ALB               × $0.0225 × 730 h =  $16.425
//	                                                --------
//	                           fixed by the fleet:  $715.035
//
// plus the load balancer's capacity units, which follow the traffic: LCU-hours × $0.008.
// The 3 + 3 VMs alone are $584.73, the reference sheet's "≈ $585/month before storage,
// transfer, load balancer".
func TestVMCacheMonthlyCostMatchesTheHandCalculation(t *testing.T) {
	sc, err := scenarios.Load("vm-cache", scenarios.WithSets([]string{"horizon=1h"}))
	require.NoError(t, err)
	res, err := Run(sc)
	require.NoError(t, err)
	c := res.Cost
	require.Empty(t, c.Unpriced)
	monthly := map[string]float64{}
	var lcuHours float64
	for _, l := range c.Lines {
		monthly[l.Component+" "+l.Price] += l.MonthlyUSD
		if l.Price == "elb.alb.lcu_hours" {
			lcuHours += l.Quantity
		}
	}
	cents := func(x float64) float64 { return math.Round(x*100) / 100 }
	require.Equal(t, 210.24, cents(monthly["web ec2.m5.large"]))
	require.Equal(t, 374.49, cents(monthly["mysql rds.mysql.db.m5.large"]))
	require.Equal(t, 113.88, cents(monthly["cache elasticache.cache.m5.large"]))
	require.InDelta(t, 16.425, monthly["lb elb.alb.hours"], 1e-9)
	require.Equal(t, 584.73, cents(monthly["web ec2.m5.large"]+monthly["mysql rds.mysql.db.m5.large"]))
	// One hour's LCU-hours, a month of such hours.
	lcu := lcuHours * 730 * 0.008
	require.InDelta(t, lcu, monthly["lb elb.alb.lcu_hours"], 1e-5)
	require.Equal(t, cents(715.035+lcu), cents(c.MonthlyUSD))
	// The fleet does not follow the load: at twice the traffic only the LCUs double.
	double := cost.Default().PriceAt(res, 2)
	require.InDelta(t, c.MonthlyUSD+lcu, double.MonthlyUSD, 1e-5)
}

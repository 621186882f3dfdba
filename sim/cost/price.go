package cost

import (
	"fmt"
	"math"

	"github.com/headroom/headroom/result"
)

// Price bills r's usage: one line per component and usage item, totals per service, for
// the measured period and per month.
func (t *Table) Price(r *result.Result) *result.Cost { return t.PriceAt(r, 1) }

// PriceAt bills r's usage as if the load had been factor × r's: every quantity not marked
// Fixed, and the completed requests, scale by factor (tiers then apply to the scaled
// volume). It estimates the cost at another load from one run.
func (t *Table) PriceAt(r *result.Result, factor float64) *result.Cost {
	periodH := (r.HorizonS - r.WarmupS) / 3600
	c := &result.Cost{
		PricesAsOf:    t.AsOf,
		PricesSource:  t.Source,
		Currency:      t.Currency,
		HoursPerMonth: t.HoursPerMonth,
		PeriodS:       r.HorizonS - r.WarmupS,
	}
	if periodH <= 0 {
		return c
	}
	toMonth := t.HoursPerMonth / periodH

	// Gather the priced usage, then the monthly volume of each (price, region): tiers
	// apply to it.
	type item struct {
		line  result.CostLine
		entry Entry
		group int
	}
	type group struct {
		key, region string
		monthly     float64
	}
	var items []item
	var groups []group
	groupOf := func(key, region string) int {
		for i, g := range groups {
			if g.key == key && g.region == region {
				return i
			}
		}
		groups = append(groups, group{key: key, region: region})
		return len(groups) - 1
	}
	for _, comp := range r.Components {
		for _, u := range comp.Usage {
			q := u.Quantity
			if !u.Fixed {
				q *= factor
			}
			if q == 0 {
				continue // nothing to bill: the component's usage still lists it
			}
			e, ok := t.Entry(u.Price)
			if !ok {
				c.Unpriced = append(c.Unpriced, fmt.Sprintf("%s: %s (%s)", comp.Name, u.Price, u.Item))
				continue
			}
			g := groupOf(u.Price, comp.Region)
			groups[g].monthly += q * toMonth
			items = append(items, item{
				line: result.CostLine{
					Component: comp.Name, Region: comp.Region, Service: e.Service, Item: u.Item,
					Price: u.Price, Quantity: q, Unit: e.Unit, Per: e.Per,
				},
				entry: e, group: g,
			})
		}
	}
	// The average price of Per units at each group's monthly volume.
	unit := make([]float64, len(groups))
	for i, g := range groups {
		e, _ := t.Entry(g.key)
		if g.monthly > 0 {
			unit[i] = e.Cost(g.monthly) / g.monthly * e.Per
		} else {
			unit[i] = e.Tiers[0].USD
		}
	}
	var horizon, monthly float64
	for _, it := range items {
		l := it.line
		u := unit[it.group]
		h := l.Quantity * u / l.Per
		mo := h * toMonth
		horizon += h
		monthly += mo
		l.UnitUSD = round12(u)
		l.Quantity = round6(l.Quantity)
		l.HorizonUSD, l.MonthlyUSD = round6(h), round6(mo)
		c.Lines = append(c.Lines, l)
		found := false
		for j := range c.Services {
			if s := &c.Services[j]; s.Service == l.Service {
				s.HorizonUSD += h
				s.MonthlyUSD += mo
				found = true
				break
			}
		}
		if !found {
			c.Services = append(c.Services, result.ServiceCost{Service: l.Service, HorizonUSD: h, MonthlyUSD: mo})
		}
	}
	for j := range c.Services {
		s := &c.Services[j]
		s.HorizonUSD, s.MonthlyUSD = round6(s.HorizonUSD), round6(s.MonthlyUSD)
	}
	c.HorizonUSD, c.MonthlyUSD = round6(horizon), round6(monthly)
	if completed := float64(r.Workload.Completed) * factor; completed > 0 {
		c.PerMillionUSD = round6(horizon / completed * 1e6)
	}
	return c
}

// round6 keeps a millionth of a dollar: cents are exact and the bytes deterministic.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// round12 keeps unit prices such as $0.0000166667 per GB-s exact.
func round12(x float64) float64 { return math.Round(x*1e12) / 1e12 }

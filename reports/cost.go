package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/headroom/headroom/result"
)

// costBlocks shows the bill: the total for the measured period and per month with the cost
// per million requests, one row per service, then one row per priced item.
func costBlocks(r *result.Result) []block {
	c := r.Cost
	if c == nil {
		return nil
	}
	period := span(c.PeriodS)
	sum := block{
		title:   "Cost",
		header:  []string{"service", period, "per month", "share"},
		numeric: []bool{false, true, true, true},
	}
	for _, s := range c.Services {
		sh := ""
		if c.MonthlyUSD > 0 {
			sh = percent(s.MonthlyUSD / c.MonthlyUSD)
		}
		sum.rows = append(sum.rows, []string{s.Service, usd(s.HorizonUSD), usd(s.MonthlyUSD), sh})
	}
	sum.rows = append(sum.rows, []string{"total", usd(c.HorizonUSD), usd(c.MonthlyUSD), ""})
	note := fmt.Sprintf("%s per million completed requests · a month is %s h · prices %s as of %s",
		usd(c.PerMillionUSD), strconv.FormatFloat(c.HoursPerMonth, 'f', -1, 64), c.PricesSource, c.PricesAsOf)
	if len(c.Unpriced) > 0 {
		note += " · NO PRICE for " + strings.Join(c.Unpriced, "; ")
	}
	sum.note = note
	lines := block{
		title:   "Cost by item",
		header:  []string{"component", "item", "quantity", "unit price", "per month"},
		numeric: []bool{false, false, true, true, true},
		wrap:    []int{0, 48, 0, 0, 0},
	}
	for _, l := range c.Lines {
		lines.rows = append(lines.rows, []string{
			l.Component, l.Item, si(l.Quantity) + " " + l.Unit, unitPrice(l.UnitUSD, l.Per, l.Unit), usd(l.MonthlyUSD),
		})
	}
	if len(lines.rows) == 0 {
		return []block{sum}
	}
	return []block{sum, lines}
}

// claimsBlock lists the scenario's claims with their verdicts.
func claimsBlock(claims []result.ClaimResult) (block, bool) {
	b := block{
		title:   "Claims",
		header:  []string{"verdict", "claim", "check", "evidence"},
		numeric: []bool{false, false, false, false},
		wrap:    []int{0, 32, 32, 64},
	}
	for _, c := range claims {
		b.rows = append(b.rows, []string{strings.ToUpper(c.Verdict), c.Claim, c.Check, c.Evidence})
	}
	return b, len(b.rows) > 0
}

// usd formats dollars with cents and thousands separators: $29,250.79, $0.0014 below a
// cent (so small bills do not read as nothing).
func usd(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return sig3(x)
	}
	neg := x < 0
	x = math.Abs(x)
	var s string
	if x > 0 && x < 0.01 {
		s = "$" + strconv.FormatFloat(roundSig(x, 2), 'f', -1, 64)
	} else {
		cents := strconv.FormatFloat(x, 'f', 2, 64)
		whole, frac, _ := strings.Cut(cents, ".")
		var b strings.Builder
		for i, d := range whole {
			if i > 0 && (len(whole)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(d)
		}
		s = "$" + b.String() + "." + frac
	}
	if neg {
		return "-" + s
	}
	return s
}

// unitPrice formats a price of per units: $0.20/M requests, $0.096/instance-hours.
func unitPrice(price, per float64, unit string) string {
	p := strconv.FormatFloat(roundSig(price, 6), 'f', -1, 64)
	if whole, frac, _ := strings.Cut(p, "."); price >= 0.01 && len(frac) < 2 {
		p = whole + "." + (frac + "00")[:2] // $0.20, $3.50: prices read in cents
	}
	p = "$" + p
	switch per {
	case 1, 0:
		return p + "/" + unit
	case 1e6:
		return p + "/M " + unit
	}
	return p + "/" + si(per) + " " + unit
}

package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// ComparisonReporter writes a report of a comparison to w.
type ComparisonReporter func(w io.Writer, c *result.Comparison) error

// BreakpointReporter writes a report of a breakpoint search to w.
type BreakpointReporter func(w io.Writer, b *result.Breakpoint) error

var (
	_ ComparisonReporter = CompareTable
	_ ComparisonReporter = CompareMarkdown
	_ ComparisonReporter = CompareJSON
	_ BreakpointReporter = BreakpointTable
	_ BreakpointReporter = BreakpointMarkdown
	_ BreakpointReporter = BreakpointJSON
)

// ComparisonForFormat returns the comparison reporter for "table", "json" or "md".
func ComparisonForFormat(name string) (ComparisonReporter, error) {
	switch name {
	case "table":
		return CompareTable, nil
	case "json":
		return CompareJSON, nil
	case "md", "markdown":
		return CompareMarkdown, nil
	}
	return nil, fmt.Errorf("unknown format %q: want one of %s", name, strings.Join(Formats, ", "))
}

// BreakpointForFormat returns the breakpoint reporter for "table", "json" or "md".
func BreakpointForFormat(name string) (BreakpointReporter, error) {
	switch name {
	case "table":
		return BreakpointTable, nil
	case "json":
		return BreakpointJSON, nil
	case "md", "markdown":
		return BreakpointMarkdown, nil
	}
	return nil, fmt.Errorf("unknown format %q: want one of %s", name, strings.Join(Formats, ", "))
}

// CompareJSON writes the comparison document (schema headroom/compare/v1): every
// scenario's full result in the one result schema, the comparison rows and, with a
// breakpoint search, every breakpoint.
func CompareJSON(w io.Writer, c *result.Comparison) error {
	if c == nil {
		return fmt.Errorf("nil comparison")
	}
	for _, r := range c.Results {
		if err := checkFinite(r); err != nil {
			return fmt.Errorf("%s: %w", r.Scenario, err)
		}
	}
	return encodeJSON(w, c)
}

// BreakpointJSON writes the breakpoint document (schema headroom/breakpoint/v1).
func BreakpointJSON(w io.Writer, b *result.Breakpoint) error {
	if b == nil {
		return fmt.Errorf("nil breakpoint")
	}
	return encodeJSON(w, b)
}

func encodeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// CompareTable writes the comparison as text tables: the scenarios side by side, what
// breaks first in each, the breakpoints, the claims with their verdicts.
func CompareTable(w io.Writer, c *result.Comparison) error {
	if c == nil {
		return fmt.Errorf("nil comparison")
	}
	return renderText(w, compareSummary(c))
}

// CompareMarkdown writes the same content as CompareTable as Markdown.
func CompareMarkdown(w io.Writer, c *result.Comparison) error {
	if c == nil {
		return fmt.Errorf("nil comparison")
	}
	return renderMarkdown(w, compareSummary(c))
}

// BreakpointTable writes a breakpoint search as text: the load found, what binds above
// it, the SLOs there, every probe.
func BreakpointTable(w io.Writer, b *result.Breakpoint) error {
	if b == nil {
		return fmt.Errorf("nil breakpoint")
	}
	return renderText(w, breakpointSummary(b))
}

// BreakpointMarkdown writes the same content as BreakpointTable as Markdown.
func BreakpointMarkdown(w io.Writer, b *result.Breakpoint) error {
	if b == nil {
		return fmt.Errorf("nil breakpoint")
	}
	return renderMarkdown(w, breakpointSummary(b))
}

func renderText(w io.Writer, s summary) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Headroom: %s\n", s.title)
	if s.subtitle != "" {
		fmt.Fprintln(bw, s.subtitle)
	}
	for _, b := range s.blocks {
		fmt.Fprintln(bw)
		if err := textBlock(bw, b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func renderMarkdown(w io.Writer, s summary) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Headroom: %s\n", mdEscape(s.title))
	if s.subtitle != "" {
		fmt.Fprintf(bw, "\n%s\n", mdEscape(s.subtitle))
	}
	for _, b := range s.blocks {
		fmt.Fprintln(bw)
		if err := mdBlock(bw, b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// cellWidth is where the side-by-side cells wrap.
const cellWidth = 26

func compareSummary(c *result.Comparison) summary {
	var names []string
	for _, r := range c.Rows {
		names = append(names, r.Scenario)
	}
	s := summary{title: "comparison of " + strings.Join(names, ", ")}
	if len(c.Results) > 0 {
		s.subtitle = fmt.Sprintf("Common random numbers: every scenario runs with seed %d (each component draws from its own stream), over %s.",
			c.Results[0].Seed, span(c.Results[0].HorizonS))
	}
	side := block{title: "Side by side", header: append([]string{"figure"}, names...)}
	side.numeric = make([]bool, len(side.header))
	side.wrap = make([]int, len(side.header))
	for i := 1; i < len(side.header); i++ {
		side.numeric[i] = true
		side.wrap[i] = cellWidth
	}
	row := func(label string, cell func(r *result.ComparisonRow) string) {
		cells := []string{label}
		for i := range c.Rows {
			cells = append(cells, cell(&c.Rows[i]))
		}
		side.rows = append(side.rows, cells)
	}
	row("offered", func(r *result.ComparisonRow) string { return count(r.Offered) })
	row("offered rate mean / peak", func(r *result.ComparisonRow) string { return rate(r.OfferedRPS) + " / " + rate(r.PeakRPS) })
	row("completed", func(r *result.ComparisonRow) string {
		return count(r.Completed) + " (" + share(r.Completed, r.Offered) + ")"
	})
	row("api p50 / p99", func(r *result.ComparisonRow) string { return millis(r.APIP50MS) + " / " + millis(r.APIP99MS) })
	row("end to end p50 / p99", func(r *result.ComparisonRow) string { return millis(r.E2EP50MS) + " / " + millis(r.E2EP99MS) })
	row("throttle ratio", func(r *result.ComparisonRow) string {
		if r.ThrottledComponent == "" {
			return "0"
		}
		return percent(r.ThrottleRatio) + " (" + r.ThrottledComponent + ")"
	})
	row("error ratio", func(r *result.ComparisonRow) string { return percent(r.ErrorRatio) })
	row("max queue age", func(r *result.ComparisonRow) string { return millis(r.MaxQueueAgeMS) })
	row("cold starts", func(r *result.ComparisonRow) string { return count(r.ColdStarts) })
	row("peak concurrency / limit", func(r *result.ComparisonRow) string {
		if r.ConcurrencyLimit == 0 {
			return ""
		}
		return concurrency(r.PeakConcurrency) + " / " + concurrency(r.ConcurrencyLimit) + " (" + r.ConcurrencyComponent + ")"
	})
	row("cost per month", func(r *result.ComparisonRow) string { return usd(r.MonthlyUSD) })
	row("cost per million requests", func(r *result.ComparisonRow) string { return usd(r.PerMillionUSD) })
	row("what breaks first", func(r *result.ComparisonRow) string {
		if r.FirstBreak == nil {
			return "nothing"
		}
		b := r.FirstBreak
		return fmt.Sprintf("%s: %s at %s (offered %s)", b.Component, b.Limit, span(b.AtS), rate(b.OfferedRPS))
	})
	if len(c.Breakpoints) > 0 {
		row("max load at SLO", func(r *result.ComparisonRow) string { return maxLoadText(r) })
		row("binding SLO above it", func(r *result.ComparisonRow) string { return r.BindingSLO })
		row("cost per month at that load", func(r *result.ComparisonRow) string {
			if r.MaxLoad == 0 {
				return ""
			}
			return usd(r.MonthlyUSDAtMax)
		})
	}
	for _, r := range c.Rows {
		if len(r.Claims) > 0 {
			row("claims", func(r *result.ComparisonRow) string { return claimTally(r.Claims) })
			break
		}
	}
	s.blocks = append(s.blocks, side)

	breaks := block{title: "What breaks first", alert: true}
	for _, r := range c.Rows {
		if r.FirstBreak == nil {
			breaks.lines = append(breaks.lines, r.Scenario+": nothing: no limit bound during the run")
			continue
		}
		breaks.lines = append(breaks.lines, r.Scenario+": "+describeBreak(*r.FirstBreak))
	}
	s.blocks = append(s.blocks, breaks)

	if len(c.Breakpoints) > 0 {
		s.blocks = append(s.blocks, breakpointsBlock(c.Breakpoints))
	}
	cl := block{
		title:   "Claims",
		header:  []string{"scenario", "verdict", "claim", "evidence"},
		numeric: []bool{false, false, false, false},
		wrap:    []int{0, 0, 36, 72},
	}
	for _, r := range c.Rows {
		for _, x := range r.Claims {
			claim := x.Claim
			if x.Check != x.Claim {
				claim += " (" + x.Check + ")"
			}
			cl.rows = append(cl.rows, []string{r.Scenario, strings.ToUpper(x.Verdict), claim, x.Evidence})
		}
	}
	if len(cl.rows) > 0 {
		s.blocks = append(s.blocks, cl)
	}
	s.blocks = append(s.blocks, block{title: "Timing", lines: []string{timingLine(c.Timing)}})
	return s
}

func timingLine(t result.Timing) string {
	parts := []string{millis(t.WallS*1e3) + " wall"}
	if t.Events > 0 {
		parts = append(parts, count(t.Events)+" events", si(t.EventsPerS)+" events/s")
	}
	return strings.Join(parts, " · ")
}

// breakpointsBlock lists each scenario's search: the load found, the one that failed, the
// SLO that binds there and the limit that broke first at it.
func breakpointsBlock(bps []*result.Breakpoint) block {
	b := block{
		title:   "Breakpoints",
		header:  []string{"scenario", "max load at SLO", "fails at", "binding SLO there", "first break there", "probes"},
		numeric: []bool{false, true, true, false, false, true},
		wrap:    []int{0, 0, 0, 40, 48, 0},
	}
	methods := map[string]bool{}
	var order []string
	for _, bp := range bps {
		if bp == nil {
			continue
		}
		row := result.ComparisonRow{MaxLoad: bp.MaxLoad, LoadVariable: bp.Variable}
		if bp.Status == "above_range" {
			row.BreakpointNote = "above"
		}
		fails := ""
		if bp.FailLoad > 0 {
			fails = loadWithUnit(bp.FailLoad, bp.Variable)
		}
		binding, first := "", ""
		if bp.Binding != nil {
			binding = bp.Binding.SLO + ": " + bp.Binding.Detail
		}
		if bp.FirstBreakAtFail != nil {
			fb := bp.FirstBreakAtFail
			first = fmt.Sprintf("%s: %s (offered %s)", fb.Component, fb.Limit, rate(fb.OfferedRPS))
		}
		b.rows = append(b.rows, []string{bp.Scenario, maxLoadText(&row), fails, binding, first, strconv.Itoa(len(bp.Probes))})
		if !methods[bp.Method] {
			methods[bp.Method] = true
			order = append(order, bp.Method)
		}
	}
	if len(order) == 1 {
		b.note = "Probes: " + order[0] + "."
	} else if len(order) > 1 {
		b.note = "Probes: see each scenario's breakpoint method in the JSON form."
	}
	return b
}

func maxLoadText(r *result.ComparisonRow) string {
	switch {
	case r.LoadVariable == "":
		return ""
	case r.BreakpointNote != "" && r.MaxLoad > 0:
		return "≥ " + loadWithUnit(r.MaxLoad, r.LoadVariable)
	case r.MaxLoad == 0:
		return "none"
	}
	return loadWithUnit(r.MaxLoad, r.LoadVariable)
}

// loadWithUnit shows a load: 6.57M users, 8.79 rps.
func loadWithUnit(x float64, variable string) string {
	if variable == "users" {
		return si(x) + " users"
	}
	return si(x) + " rps"
}

func claimTally(cs []result.ClaimResult) string {
	if len(cs) == 0 {
		return ""
	}
	n := map[string]int{}
	for _, c := range cs {
		n[c.Verdict]++
	}
	var parts []string
	for _, v := range []string{result.VerdictHolds, result.VerdictFails, result.VerdictUnknown} {
		if n[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[v], v))
		}
	}
	return strings.Join(parts, ", ")
}

func breakpointSummary(bp *result.Breakpoint) summary {
	s := summary{title: bp.Scenario + " · breakpoint"}
	kv := block{title: "Breakpoint", alert: true}
	nominal := loadWithUnit(bp.Nominal, bp.Variable)
	switch bp.Status {
	case "found":
		kv.kv = append(kv.kv, [2]string{"max load at SLO", fmt.Sprintf("%s (%s the scenario's %s)", loadWithUnit(bp.MaxLoad, bp.Variable), ratioText(bp.Ratio), nominal)})
		kv.kv = append(kv.kv, [2]string{"fails at", fmt.Sprintf("%s (within %s)", loadWithUnit(bp.FailLoad, bp.Variable), percent(bp.Tolerance))})
	case "above_range":
		kv.kv = append(kv.kv, [2]string{"max load at SLO", fmt.Sprintf("≥ %s: every SLO still held at the largest load probed (%s the scenario's %s)", loadWithUnit(bp.MaxLoad, bp.Variable), ratioText(bp.Ratio), nominal)})
	default:
		kv.kv = append(kv.kv, [2]string{"max load at SLO", fmt.Sprintf("none: the SLOs fail at every load probed, down to %s (the scenario's is %s)", loadWithUnit(bp.FailLoad, bp.Variable), nominal)})
	}
	if bp.Binding != nil {
		kv.kv = append(kv.kv, [2]string{"binding SLO", bp.Binding.SLO + " fails: " + bp.Binding.Detail})
	}
	if fb := bp.FirstBreakAtFail; fb != nil {
		kv.kv = append(kv.kv, [2]string{"first break above", describeBreak(*fb)})
	}
	if fb := bp.FirstBreak; fb != nil {
		kv.kv = append(kv.kv, [2]string{"first break at max", describeBreak(*fb)})
	} else if bp.MaxLoad > 0 {
		kv.kv = append(kv.kv, [2]string{"first break at max", "nothing: no limit bound"})
	}
	if bp.MaxLoad > 0 {
		kv.kv = append(kv.kv, [2]string{"cost per month there", usd(bp.MonthlyUSD) + " (" + bp.CostNote + ")"})
	}
	kv.kv = append(kv.kv, [2]string{"method", bp.Method})
	if st := bp.Start; st != nil {
		at := loadWithUnit(st.Load, bp.Variable)
		if st.Spread > 0 {
			at += " ±" + percent(st.Spread)
		}
		kv.kv = append(kv.kv, [2]string{"search started at", at + ": " + st.Basis})
	}
	s.blocks = append(s.blocks, kv)

	slo := block{
		title:   "SLOs at the max load",
		header:  []string{"status", "SLO", "value", "evidence"},
		numeric: []bool{false, false, true, false},
		wrap:    []int{0, 0, 0, detailWidth},
	}
	if bp.MaxLoad == 0 {
		slo.title = "SLOs at the smallest load probed"
	}
	for _, x := range bp.SLOs {
		st := "PASS"
		if !x.Passed {
			st = "FAIL"
		}
		slo.rows = append(slo.rows, []string{st, x.SLO, sloValue(x), x.Detail})
	}
	s.blocks = append(s.blocks, slo)

	pr := block{
		title:   "Probes",
		header:  []string{bp.Variable, "result", "failed SLOs"},
		numeric: []bool{true, false, false},
		wrap:    []int{0, 0, detailWidth},
	}
	for _, p := range bp.Probes {
		res := "meets every SLO"
		if !p.Passed {
			res = "fails"
		}
		load := si(p.Load)
		if bp.Variable != "users" {
			load = strconv.FormatFloat(roundSig(p.Load, 5), 'f', -1, 64)
		}
		pr.rows = append(pr.rows, []string{load, res, strings.Join(p.Failed, "; ")})
	}
	s.blocks = append(s.blocks, pr)
	s.blocks = append(s.blocks, block{title: "Timing", lines: []string{timingLine(bp.Timing)}})
	return s
}

func ratioText(r float64) string { return strconv.FormatFloat(roundSig(r, 3), 'f', -1, 64) + "×" }

// sloValue formats an SLO's figure in its unit: a time, or a ratio as a percentage.
func sloValue(x result.SLOResult) string {
	if s, err := scenarios.ParseSLO(x.SLO); err == nil && !s.IsLatency() {
		return percent(x.Value)
	}
	return millis(x.Value)
}

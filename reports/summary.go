package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/headroom/headroom/result"
)

// A summary is the content of a human-readable report, independent of how it is drawn:
// Table and Markdown render the same summary, so the two formats always say the same
// thing.
type summary struct {
	title    string // "baseline · predicted"
	subtitle string // the description's first line
	blocks   []block
}

// A block is one section of a report: a titled list of key/value facts, of lines, or a
// table. Exactly one of kv, lines and rows is used.
type block struct {
	title string
	// alert marks the section a reader must not miss ("what breaks first").
	alert bool
	kv    [][2]string
	lines []string
	// A table: column headers, which columns hold numbers (right-aligned), rows.
	header  []string
	numeric []bool
	rows    [][]string
	// wrap is the width at which a column's long text wraps, by column (0: never).
	wrap []int
	// note is one line printed under the table.
	note string
}

func (b block) isTable() bool { return b.header != nil }

// summarize builds the report content for r. It reads nothing but r.
func summarize(r *result.Result) summary {
	s := summary{title: r.Scenario}
	if r.Mode != "" {
		s.title += " · " + r.Mode
	}
	if desc, _, _ := strings.Cut(strings.TrimSpace(r.Description), "\n"); desc != "" {
		s.subtitle = strings.TrimSpace(desc)
	}
	ci := newIntervals(r)
	s.blocks = append(s.blocks,
		runBlock(r),
		breaksBlock(r),
		workloadBlock(r, ci),
		latencyBlock(r, ci),
		componentsBlock(r, ci),
	)
	if b, ok := kindSpecificBlock(r); ok {
		s.blocks = append(s.blocks, b)
	}
	if b, ok := analyticBlock(r, ci); ok {
		s.blocks = append(s.blocks, b)
	}
	s.blocks = append(s.blocks, costBlocks(r)...)
	if b, ok := claimsBlock(r.Claims); ok {
		s.blocks = append(s.blocks, b)
	}
	s.blocks = append(s.blocks, checksBlock(r))
	if b, ok := intervalsBlock(r); ok {
		s.blocks = append(s.blocks, b)
	}
	s.blocks = append(s.blocks, timingBlock(r))
	return s
}

func runBlock(r *result.Result) block {
	horizon := span(r.HorizonS)
	if r.WarmupS > 0 {
		horizon += " (first " + span(r.WarmupS) + " is warm-up, not measured)"
	}
	reps := strconv.Itoa(r.Replications)
	if r.Replications > 1 {
		reps += " (means, ± is the 95% confidence half-width)"
	}
	return block{title: "Run", kv: [][2]string{
		{"scenario", r.Scenario},
		{"seed", strconv.FormatUint(r.Seed, 10)},
		{"horizon", horizon},
		{"replications", reps},
	}}
}

// breaksBlock puts what breaks first in front of everything else: it is the question the
// tool exists to answer.
func breaksBlock(r *result.Result) block {
	b := block{title: "What breaks first", alert: true}
	if len(r.Breaks) == 0 {
		b.lines = []string{"nothing: no limit bound during the run"}
		return b
	}
	for i, br := range r.Breaks {
		line := describeBreak(br)
		if i == 0 {
			line = "FIRST  " + line
		} else {
			line = "then   " + line
		}
		b.lines = append(b.lines, line)
	}
	return b
}

func describeBreak(br result.Break) string {
	var sb strings.Builder
	sb.WriteString(br.Component)
	sb.WriteString(": ")
	sb.WriteString(br.Limit)
	sb.WriteString(" at ")
	sb.WriteString(span(br.AtS))
	if br.OfferedRPS > 0 {
		sb.WriteString(" (offered ")
		sb.WriteString(rate(br.OfferedRPS))
		sb.WriteString(")")
	}
	if br.Detail != "" {
		sb.WriteString(" — ")
		sb.WriteString(br.Detail)
	}
	return sb.String()
}

func workloadBlock(r *result.Result, ci intervals) block {
	w := r.Workload
	b := block{
		title:   "Workload",
		header:  []string{"requests", "count", "share", "rate"},
		numeric: []bool{false, true, true, false},
	}
	offeredRate := rate(w.OfferedRPS) + " mean"
	if w.PeakRPS > 0 {
		offeredRate += ", " + rate(w.PeakRPS) + " peak"
	}
	b.rows = [][]string{
		{"offered", ci.count("workload.offered", w.Offered), "", offeredRate},
		{"accepted", ci.count("workload.accepted", w.Accepted), share(w.Accepted, w.Offered), ""},
		{"rejected", ci.count("workload.rejected", w.Rejected), share(w.Rejected, w.Offered), ""},
		{"completed", ci.count("workload.completed", w.Completed), share(w.Completed, w.Offered), rate(w.CompletedRPS)},
		{"failed", ci.count("workload.failed", w.Failed), share(w.Failed, w.Offered), ""},
	}
	return b
}

func latencyBlock(r *result.Result, ci intervals) block {
	b := block{
		title:   "Latency",
		header:  []string{"path", "count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"},
		numeric: []bool{false, true, true, true, true, true, true, true, true},
	}
	row := func(label, key string, st result.Stats) []string {
		p := "latency_ms." + key + "."
		return []string{label, count(st.Count),
			ci.millis(p+"mean", st.Mean), ci.millis(p+"p50", st.P50), ci.millis(p+"p90", st.P90),
			ci.millis(p+"p95", st.P95), ci.millis(p+"p99", st.P99), ci.millis(p+"p999", st.P999),
			ci.millis(p+"max", st.Max)}
	}
	b.rows = [][]string{
		row("api", "api", r.Latency.API),
		row("end to end", "end_to_end", r.Latency.EndToEnd),
	}
	return b
}

func componentsBlock(r *result.Result, ci intervals) block {
	// A region column only when the scenario spans several regions.
	regions := false
	for _, c := range r.Components {
		if c.Region != r.Components[0].Region {
			regions = true
		}
	}
	b := block{title: "Components"}
	b.header = []string{"component", "kind"}
	b.numeric = []bool{false, false}
	if regions {
		b.header = append(b.header, "region")
		b.numeric = append(b.numeric, false)
	}
	b.header = append(b.header, "offered", "accepted", "rejected", "completed", "rate",
		"util", "peak/cap", "wait p50/p99", "sojourn p50/p99")
	b.numeric = append(b.numeric, true, true, true, true, true, true, true, true, true)
	for _, c := range r.Components {
		p := "components." + c.Name + "."
		row := []string{c.Name, c.Kind}
		if regions {
			row = append(row, c.Region)
		}
		util := ""
		if c.Capacity > 0 || c.Utilization > 0 {
			util = ci.percent(p+"utilization", c.Utilization)
		}
		peak := concurrency(c.PeakConcurrency)
		if c.Capacity > 0 {
			peak += "/" + concurrency(c.Capacity)
		}
		peak = ci.with(p+"peak_concurrency", peak, func(x float64) string { return sig3(x) })
		row = append(row,
			ci.count(p+"offered", c.Offered),
			ci.count(p+"accepted", c.Accepted),
			ci.count(p+"rejected", c.Rejected),
			ci.count(p+"completed", c.Completed),
			ci.rate(p+"throughput_rps", c.ThroughputRPS),
			util,
			peak,
			ci.millis(p+"wait_ms.p50", c.Wait.P50)+" / "+ci.millis(p+"wait_ms.p99", c.Wait.P99),
			ci.millis(p+"sojourn_ms.p50", c.Sojourn.P50)+" / "+ci.millis(p+"sojourn_ms.p99", c.Sojourn.P99),
		)
		b.rows = append(b.rows, row)
	}
	if len(r.Components) == 0 {
		b.note = "no components"
	}
	return b
}

// kindColumn is one kind-specific figure, shown for the components that have it.
type kindColumn struct {
	header string
	cell   func(c *result.Component) string
}

var kindColumns = []kindColumn{
	{"throttled", func(c *result.Component) string {
		return nonZero(c.Throttled, func() string { return count(c.Throttled) + pct(c.Throttled, c.Offered) })
	}},
	{"timed out (504)", func(c *result.Component) string {
		return nonZero(c.TimedOut, func() string { return count(c.TimedOut) + pct(c.TimedOut, c.Offered) })
	}},
	{"errors", func(c *result.Component) string { return nonZero(c.Errors, func() string { return count(c.Errors) }) }},
	{"invocations", func(c *result.Component) string {
		return nonZero(c.Invocations, func() string { return count(c.Invocations) })
	}},
	{"cold starts", func(c *result.Component) string {
		return nonZero(c.ColdStarts, func() string { return count(c.ColdStarts) + pct(c.ColdStarts, c.Invocations) })
	}},
	{"billed", func(c *result.Component) string {
		if c.BilledGBS == 0 {
			return ""
		}
		return si(c.BilledGBS) + " GB-s"
	}},
	{"max depth", func(c *result.Component) string {
		return nonZero(c.MaxDepth, func() string { return count(c.MaxDepth) })
	}},
	{"max age", func(c *result.Component) string {
		if c.MaxAgeMS == 0 {
			return ""
		}
		return millis(c.MaxAgeMS)
	}},
	{"redelivered", func(c *result.Component) string {
		return nonZero(c.Redelivered, func() string { return count(c.Redelivered) })
	}},
	{"dead-lettered", func(c *result.Component) string {
		return nonZero(c.DeadLettered, func() string { return count(c.DeadLettered) })
	}},
	{"published", func(c *result.Component) string {
		return nonZero(c.Published, func() string { return count(c.Published) })
	}},
	{"delivered", func(c *result.Component) string {
		return nonZero(c.Delivered, func() string { return count(c.Delivered) })
	}},
	{"unrouted", func(c *result.Component) string {
		return nonZero(c.Unrouted, func() string { return count(c.Unrouted) })
	}},
	{"peak capacity units", func(c *result.Component) string {
		if c.PeakUnitsPS == 0 {
			return ""
		}
		s := rate(c.PeakUnitsPS)
		if c.PeakReadUnitsPS != 0 || c.PeakWriteUnitsPS != 0 {
			s += " (read " + rate(c.PeakReadUnitsPS) + ", write " + rate(c.PeakWriteUnitsPS) + ")"
		}
		return s
	}},
	{"replicated writes", func(c *result.Component) string {
		return nonZero(c.ReplicatedWrites, func() string {
			s := count(c.ReplicatedWrites)
			if l := c.ReplicationLag; l != nil {
				s += " (lag p50 " + millis(l.P50) + ", p99 " + millis(l.P99) + ")"
			}
			return s
		})
	}},
	{"routes", func(c *result.Component) string {
		var parts []string
		for _, rt := range c.Routes {
			parts = append(parts, fmt.Sprintf("%s %s (share %s)", rt.To, count(rt.Requests), percent(rt.Share)))
		}
		return strings.Join(parts, ", ")
	}},
	{"FIFO", func(c *result.Component) string {
		f := c.FIFO
		if f == nil {
			return ""
		}
		parts := []string{"groups per " + f.GroupBy}
		if f.PeakGroups > 0 {
			parts = append(parts, "peak groups "+count(f.PeakGroups))
		}
		if f.PeakBlockedGroups > 0 {
			parts = append(parts, "peak blocked groups "+count(f.PeakBlockedGroups))
		}
		if f.ReceiveWaits > 0 {
			parts = append(parts, "receives waiting for the "+sig3(f.TPS)+" calls/s limit "+count(f.ReceiveWaits))
		}
		if f.SendThrottled > 0 {
			parts = append(parts, "sends throttled "+count(f.SendThrottled))
		}
		if f.GroupThrottled > 0 {
			parts = append(parts, "refused by the group limit "+count(f.GroupThrottled))
		}
		if f.TopicThrottled > 0 {
			parts = append(parts, "refused by the topic limit "+count(f.TopicThrottled))
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}},
	{"out of order", func(c *result.Component) string {
		var parts []string
		for _, o := range c.Ordering {
			parts = append(parts, fmt.Sprintf("per %s %s of %s", o.Key, count(o.Violations), count(o.Checked)))
		}
		return strings.Join(parts, ", ")
	}},
}

func nonZero(n int64, f func() string) string {
	if n == 0 {
		return ""
	}
	return f()
}

// pct is " (x%)" of whole, or "" when whole is 0.
func pct(part, whole int64) string {
	if whole == 0 {
		return ""
	}
	return " (" + percent(float64(part)/float64(whole)) + ")"
}

// kindSpecificBlock shows the figures only some kinds have (throttles, cold starts, queue
// depth and age, dead letters) as one line per component that reports any, so the table
// stays narrow however many kinds a scenario mixes.
func kindSpecificBlock(r *result.Result) (block, bool) {
	b := block{
		title:   "Limits and kind-specific figures",
		header:  []string{"component", "figures"},
		numeric: []bool{false, false},
	}
	for i := range r.Components {
		c := &r.Components[i]
		var figs []string
		for _, col := range kindColumns {
			if cell := col.cell(c); cell != "" {
				figs = append(figs, col.header+" "+cell)
			}
		}
		if len(figs) > 0 {
			b.rows = append(b.rows, []string{c.Name, strings.Join(figs, " · ")})
		}
	}
	return b, len(b.rows) > 0
}

// analyticBlock sets the textbook queueing figures beside the simulated ones for every
// component that matches a textbook queue: the simulator's proof of its own correctness.
func analyticBlock(r *result.Result, ci intervals) (block, bool) {
	b := block{
		title:   "Analytic check (textbook queue vs simulation)",
		header:  []string{"component", "model", "inputs", "figure", "textbook", "simulated", "±95%", "difference"},
		numeric: []bool{false, false, false, false, true, true, true, true},
	}
	for _, c := range r.Components {
		a := c.Analytic
		if a == nil {
			continue
		}
		model := modelName(a)
		inputs := fmt.Sprintf("λ=%s μ=%s ρ=%s", rate(a.LambdaRPS), rate(a.MuRPS), strconv.FormatFloat(a.Rho, 'f', 3, 64))
		loss := a.Model == "M/M/c/c"
		if !loss {
			b.rows = append(b.rows,
				[]string{c.Name, model, inputs, "mean wait",
					fixedMillis(a.WaitMeanMS), fixedMillis(a.SimWaitMeanMS), halfWidth(fixedMillis, a.WaitMeanHalfWidthMS),
					relDiff(a.SimWaitMeanMS, a.WaitMeanMS)},
				[]string{c.Name, model, inputs, "P(wait)",
					prob(a.PWait), prob(a.SimPWait),
					halfWidth(prob, ci["components."+c.Name+".analytic.sim_p_wait"]),
					absDiff(a.SimPWait, a.PWait)})
		}
		if loss || a.Model == "M/M/c/K" || a.PBlock != 0 || a.SimPBlock != 0 {
			b.rows = append(b.rows, []string{c.Name, model, inputs, "P(block)",
				prob(a.PBlock), prob(a.SimPBlock), halfWidth(prob, a.PBlockHalfWidth), absDiff(a.SimPBlock, a.PBlock)})
		}
	}
	return b, len(b.rows) > 0
}

// modelName instantiates the Kendall notation with the component's numbers: M/M/10,
// M/M/10/50, M/M/37/37.
func modelName(a *result.Analytic) string {
	switch a.Model {
	case "M/M/c":
		return fmt.Sprintf("M/M/%d", a.Servers)
	case "M/M/c/K":
		return fmt.Sprintf("M/M/%d/%d", a.Servers, a.Capacity)
	case "M/M/c/c":
		return fmt.Sprintf("M/M/%d/%d", a.Servers, a.Servers)
	}
	return a.Model
}

// fixedMillis shows a mean wait with two decimals: the analytic check is about precision.
func fixedMillis(ms float64) string { return strconv.FormatFloat(ms, 'f', 2, 64) + " ms" }

func halfWidth(f func(float64) string, hw float64) string {
	if hw == 0 {
		return ""
	}
	return "±" + f(hw)
}

func relDiff(sim, want float64) string {
	if want == 0 {
		return ""
	}
	return signedPercent((sim - want) / want)
}

func absDiff(sim, want float64) string {
	d := sim - want
	s := strconv.FormatFloat(d, 'f', 4, 64)
	if d >= 0 {
		s = "+" + s
	}
	return s
}

// detailWidth is where prose cells (check details) wrap, so that tables fit a terminal.
const detailWidth = 96

func checksBlock(r *result.Result) block {
	b := block{
		title:   "Checks",
		header:  []string{"status", "check", "detail"},
		numeric: []bool{false, false, false},
		wrap:    []int{0, 0, detailWidth},
	}
	failed := 0
	for _, c := range r.Checks {
		status := "PASS"
		if !c.Passed {
			status = "FAIL"
			failed++
		}
		b.rows = append(b.rows, []string{status, c.Name, c.Detail})
	}
	switch {
	case len(r.Checks) == 0:
		b.note = "no checks ran"
	case failed == 0 && len(r.Checks) == 1:
		b.note = "the check passed"
	case failed == 0:
		b.note = fmt.Sprintf("all %d checks passed", len(r.Checks))
	default:
		b.note = fmt.Sprintf("%d of %d checks FAILED", failed, len(r.Checks))
	}
	return b
}

func intervalsBlock(r *result.Result) (block, bool) {
	if r.Replications <= 1 || len(r.CI95) == 0 {
		return block{}, false
	}
	b := block{
		title:   fmt.Sprintf("95%% confidence intervals over %d replications", r.Replications),
		header:  []string{"figure", "mean", "±95%", "relative"},
		numeric: []bool{false, true, true, true},
	}
	for _, iv := range r.CI95 {
		rel := ""
		if iv.Mean != 0 {
			rel = "±" + percent(math.Abs(iv.HalfWidth/iv.Mean))
		}
		mean, hw := meanPM(iv.Mean, iv.HalfWidth)
		b.rows = append(b.rows, []string{iv.Figure, mean, hw, rel})
	}
	return b, true
}

func timingBlock(r *result.Result) block {
	t := r.Timing
	parts := []string{millis(t.WallS*1e3) + " wall"}
	if t.Events > 0 {
		parts = append(parts, count(t.Events)+" events", si(t.EventsPerS)+" events/s")
	}
	return block{title: "Timing", lines: []string{strings.Join(parts, " · ")}}
}

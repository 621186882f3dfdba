package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/headroom/headroom/result"
)

// Table writes r as text tables for a terminal: the run, what breaks first, the workload,
// latency percentiles, one row per component, the kind-specific figures, the analytic
// check, the self-checks with PASS/FAIL, confidence intervals when there are replications,
// and the timing line.
func Table(w io.Writer, r *result.Result) error {
	if r == nil {
		return fmt.Errorf("nil result")
	}
	s := summarize(r)
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

func textBlock(w *bufio.Writer, b block) error {
	title := b.title
	if b.alert {
		title = ">>> " + strings.ToUpper(title)
	}
	fmt.Fprintln(w, title)
	width := 0
	for _, kv := range b.kv {
		width = max(width, len(kv[0]))
	}
	for _, kv := range b.kv {
		fmt.Fprintf(w, "  %-*s  %s\n", width, kv[0], kv[1])
	}
	for _, l := range b.lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if b.isTable() {
		if err := renderTable(w, b, renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})); err != nil {
			return err
		}
	}
	if b.note != "" {
		fmt.Fprintf(w, "  %s\n", b.note)
	}
	return nil
}

// renderTable draws b's table with tablewriter through the given renderer, numbers
// right-aligned and headers as written (tablewriter upper-cases them by default).
func renderTable(w io.Writer, b block, rd tw.Renderer) error {
	aligns := make([]tw.Align, len(b.header))
	for i := range aligns {
		aligns[i] = tw.AlignLeft
		if i < len(b.numeric) && b.numeric[i] {
			aligns[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(rd),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		// Details (check texts) are long: wrap them rather than truncate.
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
	)
	widths := tw.NewMapper[int, int]()
	for i, w := range b.wrap {
		if w > 0 {
			widths.Set(i, w)
		}
	}
	if widths.Len() > 0 {
		t.Configure(func(cfg *tablewriter.Config) { cfg.Row.ColMaxWidths.PerColumn = widths })
	}
	t.Header(anySlice(b.header)...)
	for _, row := range b.rows {
		if err := t.Append(row); err != nil {
			return fmt.Errorf("table %q: %w", b.title, err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("table %q: %w", b.title, err)
	}
	return nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

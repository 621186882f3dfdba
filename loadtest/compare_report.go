package loadtest

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTable writes the comparison as a text table for a terminal: one row per figure with
// the prediction (± its 95% confidence half-width), the measurement, the error, the
// tolerance and whether it held, then the figures outside tolerance by name.
func (c Comparison) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Validation: %s · predicted (%d replications) vs measured\n", c.Scenario, c.Replications)
	if err := c.table(w, renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})); err != nil {
		return err
	}
	c.verdict(w)
	return nil
}

// WriteMarkdown writes the comparison as a Markdown table.
func (c Comparison) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "### %s · predicted (%d replications) vs measured\n\n", c.Scenario, c.Replications)
	if err := c.table(w, renderer.NewMarkdown()); err != nil {
		return err
	}
	fmt.Fprintln(w)
	c.verdict(w)
	return nil
}

// WriteNotes writes where the model and the system differ.
func (c Comparison) WriteNotes(w io.Writer) {
	if len(c.Notes) == 0 {
		return
	}
	fmt.Fprintln(w, "Model ↔ system:")
	for _, n := range c.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

func (c Comparison) verdict(w io.Writer) {
	failed := c.Failed()
	if len(failed) == 0 {
		fmt.Fprintf(w, "PASS: all %d figures inside tolerance\n", len(c.Rows))
		return
	}
	var names []string
	for _, r := range failed {
		names = append(names, fmt.Sprintf("%s (%s)", r.Figure, formatError(r)))
	}
	fmt.Fprintf(w, "FAIL: %d of %d figures outside tolerance: %s\n", len(failed), len(c.Rows), strings.Join(names, "; "))
}

func (c Comparison) table(w io.Writer, rd tw.Renderer) error {
	header := []any{"figure", "predicted", "measured", "error", "tolerance", ""}
	aligns := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft, tw.AlignLeft}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(rd),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	)
	t.Header(header...)
	for _, r := range c.Rows {
		pred := formatValue(r.Unit, r.Predicted)
		if r.HalfWidth > 0 {
			pred += " ±" + formatValue(r.Unit, r.HalfWidth)
		}
		mark := "ok"
		if !r.Inside {
			mark = "FAIL"
		}
		if err := t.Append([]string{r.Figure, pred, formatValue(r.Unit, r.Measured), formatError(r), r.Bound, mark}); err != nil {
			return err
		}
	}
	return t.Render()
}

func formatValue(unit string, v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	switch unit {
	case "rps":
		return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
	case "ratio":
		return strconv.FormatFloat(100*v, 'f', 2, 64) + "%"
	case "ms":
		switch {
		case v >= 1000:
			return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
		case v >= 10:
			return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
		}
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	}
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func formatError(r Row) string {
	if r.Unit == "ratio" {
		return fmt.Sprintf("%+.2f pp", 100*r.Error)
	}
	if math.IsInf(r.Error, 0) {
		return fmt.Sprintf("%+g (predicted 0)", r.Measured-r.Predicted)
	}
	return fmt.Sprintf("%+.1f%%", 100*r.Error)
}

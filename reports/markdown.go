package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter/renderer"

	"github.com/headroom/headroom/result"
)

// Markdown writes the same content as Table as a Markdown document (GitHub-flavoured
// tables), for pull requests, issues and the reports of later comparisons.
func Markdown(w io.Writer, r *result.Result) error {
	if r == nil {
		return fmt.Errorf("nil result")
	}
	s := summarize(r)
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

func mdBlock(w *bufio.Writer, b block) error {
	fmt.Fprintf(w, "## %s\n\n", mdEscape(b.title))
	for _, kv := range b.kv {
		fmt.Fprintf(w, "- **%s:** %s\n", mdEscape(kv[0]), mdEscape(kv[1]))
	}
	for i, l := range b.lines {
		if b.alert && i == 0 {
			fmt.Fprintf(w, "- **%s**\n", mdEscape(l))
			continue
		}
		fmt.Fprintf(w, "- %s\n", mdEscape(l))
	}
	if b.isTable() {
		// Markdown cells never wrap: a line break would end the table row.
		esc := block{title: b.title, header: mdCells(b.header), numeric: b.numeric}
		for _, row := range b.rows {
			esc.rows = append(esc.rows, mdCells(row))
		}
		if err := renderTable(w, esc, renderer.NewMarkdown()); err != nil {
			return err
		}
	}
	if b.note != "" {
		fmt.Fprintf(w, "\n%s\n", mdEscape(b.note))
	}
	return nil
}

// mdEscape keeps text literal in Markdown: the characters that would start emphasis, code,
// links or HTML are backslash-escaped. Underscores inside names are left alone (GitHub
// does not emphasise inside words) so component names stay readable in the source.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `&lt;`, ">", `&gt;`, "|", `\|`,
)

func mdEscape(s string) string { return mdReplacer.Replace(s) }

func mdCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = mdEscape(c)
	}
	return out
}

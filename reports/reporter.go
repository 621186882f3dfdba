package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/headroom/headroom/result"
)

// Reporter writes a report of r to w.
type Reporter func(w io.Writer, r *result.Result) error

// Compile-time checks that every format is a Reporter.
var (
	_ Reporter = JSON
	_ Reporter = Table
	_ Reporter = Markdown
)

// Formats lists the names ForFormat accepts, in the order a help text shows them.
var Formats = []string{"table", "json", "md"}

// ForFormat returns the reporter for a format name: "table", "json" or "md" ("markdown"
// is accepted as an alias).
func ForFormat(name string) (Reporter, error) {
	switch name {
	case "table":
		return Table, nil
	case "json":
		return JSON, nil
	case "md", "markdown":
		return Markdown, nil
	}
	return nil, fmt.Errorf("unknown format %q: want one of %s", name, strings.Join(Formats, ", "))
}

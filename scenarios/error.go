package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Error is a problem in a scenario, placed where the user can fix it: the file (a scenario
// file, a bundled scenario such as "baseline.yaml", "defaults.yaml", or a "--set k=v"
// override), the line, and the dotted key.
//
//	baseline.yaml:12: components.api.rate_rps: must be > 0
type Error struct {
	File string
	Line int // 0 when the place has no line (a --set override)
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(printable(e.Key))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxErrors bounds how many problems one load reports: past that the rest are usually
// consequences of the first ones.
const maxErrors = 20

// ErrorList is several problems found in one load, in the order of the file. Load returns
// it only when there is more than one; errors.As finds its first *Error.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i == maxErrors {
			fmt.Fprintf(&b, "\n... and %d more", len(l)-maxErrors)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As access to every problem.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// errs collects problems; err returns nil, the only *Error, or the ErrorList.
type errs struct{ list ErrorList }

func (c *errs) add(e *Error) { c.list = append(c.list, e) }

func (c *errs) err() error {
	switch len(c.list) {
	case 0:
		return nil
	case 1:
		return c.list[0]
	}
	return c.list
}

// printable quotes s if it holds anything that would garble a one-line message (a key
// may be any YAML string, newlines included).
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || r == unicode.ReplacementChar {
			return strconv.Quote(s)
		}
	}
	return s
}

// Package reports turns a result (result.Result, the one schema shared by predicted and
// measured runs) into something a person or a program reads: an indented JSON document, a
// terminal table, or Markdown.
//
// A Reporter is just a function of a result to a writer, in the manner of vegeta's
// reporters: a new format is a new function, and nothing here ever touches the simulator or
// the real system. The table and Markdown reporters render the same content — built once
// by summarize from the result — so the two never drift apart. Numbers are formatted for
// humans (13.8M, 1.85k/s, 204ms) by pure functions of the value, so the same result always
// renders to the same bytes.
//
// A comparison (result.Comparison) and a breakpoint search (result.Breakpoint) have their
// own reporters in the same three formats; a run's report includes its cost and the
// verdicts of its claims.
//
// Read decodes a result written by JSON and checks its schema string, so reports can be
// rendered later from a saved run (`headroom run --format json > run.json`).
package reports

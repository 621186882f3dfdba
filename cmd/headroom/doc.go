// Command headroom is the capacity-planning simulator's command line: `headroom run`
// simulates a scenario (bundled or a file) and prints the result as a table, Markdown or
// JSON; `headroom scenarios` lists the bundled scenarios; `headroom version` says which
// build this is.
//
// The command is a thin shell around the libraries: scenarios loads and validates the
// input, sim produces a result.Result, reports renders it. The only wall clock in a run
// lives here, in the progress line drawn on a terminal; the simulator never sees it.
//
// Exit status: 0 on success, 2 on bad input (an invalid scenario, an unknown scenario or
// command, a bad flag), 1 on an internal failure. The message on stderr names the problem,
// for scenarios as file:line: key: what is expected.
package main

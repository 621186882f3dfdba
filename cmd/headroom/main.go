package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/scenarios"
)

// Exit statuses.
const (
	exitOK       = 0
	exitInternal = 1
	exitBadInput = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the process exit status. Tests call it
// in-process with their own writers.
func run(args []string, stdout, stderr io.Writer) int {
	root, stopProfile := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	// The profile is written whether the command succeeded or not: a run that fails a gate
	// or an SLO is as worth profiling as one that passes.
	if perr := stopProfile(); perr != nil && err == nil {
		err = fmt.Errorf("--cpuprofile: %w", perr)
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "headroom: %v\n", err)
	code := exitCode(err)
	if code == exitBadInput && cmd != nil && isUsage(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// newRootCmd builds the command tree, and the function that ends --cpuprofile's profile
// (run calls it once the command returns, failed or not). A fresh tree per call keeps flag
// state from leaking between in-process runs (tests).
func newRootCmd() (*cobra.Command, func() error) {
	root := &cobra.Command{
		Use:   "headroom",
		Short: "Capacity planning by simulation: where does this architecture break first?",
		Long: `Headroom simulates an architecture described by a scenario — a workload, account and
region quotas, and a graph of components (API gateway, functions, tables, topics,
queues, server pools) — at full scale, and reports where it saturates, which limit
binds first, and whether the simulator agrees with queueing theory.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A root with subcommands and no Run makes cobra print help for an unknown command
		// and exit 0; an explicit Args check and RunE make it a usage error instead.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return usageError{errors.New(msg)}
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var cpuProfile string
	var profFile *os.File
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to `FILE` (for go tool pprof)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return badInput{fmt.Errorf("--cpuprofile: %w", err)}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		profFile = f
		return nil
	}
	stopProfile := func() error {
		if profFile == nil {
			return nil
		}
		pprof.StopCPUProfile()
		f := profFile
		profFile = nil
		return f.Close()
	}
	root.SuggestionsMinimumDistance = 2 // cobra applies its default only on its own path
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRunCmd(), newScenariosCmd(), newServeCmd(), newVersionCmd(),
		newLoadtestCmd(), newValidateCmd(), newCompareCmd(), newBreakpointCmd())
	return root, stopProfile
}

// usageError is a mistake on the command line itself: a bad flag, a wrong number of
// arguments, an unknown command.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// badInput marks an error as the user's input being wrong (exit 2) without it being a
// command-line usage mistake: a bad --format value, an unreadable scenario file.
type badInput struct{ err error }

func (e badInput) Error() string { return e.err.Error() }
func (e badInput) Unwrap() error { return e.err }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// exitCode maps an error to the exit status: 2 when the input is at fault, 1 otherwise.
func exitCode(err error) int {
	var (
		se *scenarios.Error
		u  usageError
		b  badInput
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &se), errors.As(err, &u), errors.As(err, &b):
		return exitBadInput
	}
	return exitInternal
}

// exactArgs is cobra.ExactArgs with its error marked as a usage mistake.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// noArgs is cobra.NoArgs with its error marked as a usage mistake.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build's module version, commit and Go version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText())
			return err
		},
	}
}

// versionText describes this build from the information the Go toolchain embeds: the main
// module's version ("(devel)" for a plain build of a checkout), the VCS revision when
// built from one, and the Go version.
func versionText() string {
	version, revision, when, modified := "(unknown)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	out := fmt.Sprintf("headroom %s\n", version)
	if revision != "" {
		out += fmt.Sprintf("commit   %s", revision)
		if when != "" {
			out += " (" + when + ")"
		}
		if modified {
			out += " with local changes"
		}
		out += "\n"
	}
	out += fmt.Sprintf("go       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return out
}

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/scenarios"
)

func newScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the bundled scenarios, one line each",
		Long: `List the scenarios built into the binary. Each runs by name with 'headroom run NAME',
and any of them can be the 'extends:' base of a scenario file.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list := scenarios.Bundled()
			width := 0
			for _, s := range list {
				width = max(width, len(s.Name))
			}
			var b strings.Builder
			for _, s := range list {
				desc, _, _ := strings.Cut(strings.TrimSpace(s.Description), "\n")
				fmt.Fprintf(&b, "%-*s — %s\n", width, s.Name, strings.TrimSpace(desc))
			}
			_, err := fmt.Fprint(cmd.OutOrStdout(), b.String())
			return err
		},
	}
}

package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"wormwatch/scenario"
)

func newScenarioCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "scenario",
		Short: "List, show and check scenarios",
		// Runnable, so that an unknown subcommand is an error (exit 2)
		// rather than the help text with exit 0.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios, one line each",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, in := range scenario.Builtins() {
				fmt.Fprintf(tw, "%s\t%s\n", in.Name, in.Description)
			}
			return tw.Flush()
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario as a TOML file to copy and edit",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := scenario.Builtin(args[0])
			if err != nil {
				return usageError{err}
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	})
	var sets []string
	check := &cobra.Command{
		Use:   "check NAME|FILE",
		Short: "Read and validate a scenario and print it fully resolved (every default filled in)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, resolved, err := scenario.Load(args[0], sets)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(resolved)
			return err
		},
	}
	check.Flags().StringArrayVar(&sets, "set", nil, "override a key: dotted.key=value (repeatable)")
	c.AddCommand(check)
	return c
}

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newAdvisoryCmd is a placeholder until the advisory command lands.
func newAdvisoryCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "advisory",
		Short:  "(not yet available)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("advisory is not available yet")}
		},
	}
}

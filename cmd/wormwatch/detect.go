package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDetectCmd is a placeholder until the detect command lands.
func newDetectCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "detect",
		Short:  "(not yet available)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("detect is not available yet")}
		},
	}
}

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newForecastCmd is a placeholder until the forecast command lands.
func newForecastCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "forecast",
		Short:  "(not yet available)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("forecast is not available yet")}
		},
	}
}

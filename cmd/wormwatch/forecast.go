package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"wormwatch/forecast"
	"wormwatch/internal/outpath"
	"wormwatch/internal/paramcli"
)

type forecastFlags struct {
	sensor    string
	format    string
	plot      string
	track     string
	spaceBits int
	force     bool
	settings  *paramcli.Flags // the analysis's settings (forecast.Settings)
}

func newForecastCmd() *cobra.Command {
	var f forecastFlags
	c := &cobra.Command{
		Use:   "forecast FILE | FOLDER --sensor NAME",
		Short: "Find a worm's trend in a sensor series, estimate it and forecast it",
		Long: `Read a sensor series (counts per interval: time, probes, sources, new_sources,
cumulative_sources, size; what every simulated telescope writes to
sensors/<name>.csv and what 'detect --series' writes from logs), run the
early-warning Kalman filter of Zou, Gao, Gong and Towsley (2003) on it, and
print when the alarm would have been raised, the estimates (infection rate
alpha, growth rate K, vulnerable population N, with intervals), a logistic
fit, and a forecast of infected hosts with a band.

FOLDER is a run or replay results folder: the series is
FOLDER/sensors/NAME.csv, or for a replay (or a run of many seeds) the first
seed's, FOLDER/seed-NNNN/sensors/NAME.csv. The method, the alarm rule and
the JSON output are described in docs/forecast.md.

'forecast reemergence' forecasts the restart of a dormant worm instead.`,
		Example: `  wormwatch forecast telescope.csv
  wormwatch forecast runs/cr --sensor ucsd-8 --plot cr.png
  wormwatch forecast runs/cr --sensor ucsd-8 --format json > forecast.json
  wormwatch forecast reemergence --infected 359104 --unpatched-share 0.33 --restart 2001-08-01T00:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runForecast(cmd, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.sensor, "sensor", "", "sensor name when the argument is a results folder (its sensors/NAME.csv)")
	fl.StringVar(&f.format, "format", string(forecast.Text), "output: text or json")
	fl.StringVar(&f.plot, "plot", "", "write the picture to this file (.png or .svg)")
	fl.StringVar(&f.track, "track", "", "write the filter's estimates for every interval to this CSV file")
	fl.BoolVar(&f.force, "force", false, "replace output files (--plot, --track) that exist; never an input")
	fl.IntVar(&f.spaceBits, "space-bits", 0, "address space the worm scans, in bits (default: the run's space_bits for a folder, else 32); only the scan rate eta depends on it")
	defaults := forecast.DefaultSettings
	f.settings = paramcli.Register(fl, &defaults) // --horizon, --step, --level, --memory, --rebase, --alarm-*: read by package param
	c.AddCommand(newReemergenceCmd())
	return c
}

func runForecast(cmd *cobra.Command, arg string, f forecastFlags) error {
	if !forecast.Format(f.format).Known() {
		return usagef("--format %s: unknown format (allowed: %s)", f.format, forecast.Formats)
	}
	plotFormat, err := forecastPlotFormat(f.plot)
	if err != nil {
		return err
	}
	path, bits, err := forecast.FindSeries(arg, f.sensor)
	if err != nil {
		return usageError{err}
	}
	outs := []outpath.Output{{Flag: "--plot", Path: f.plot}, {Flag: "--track", Path: f.track}}
	var in outpath.Inputs
	in.Add(path)
	if err := outpath.Check(outs, &in, true, f.force); err != nil {
		return err
	}
	switch {
	case cmd.Flags().Changed("space-bits"):
		bits = f.spaceBits
	case bits == 0:
		bits = 32
	}
	set, err := forecast.LoadSettings(f.settings.Assignments())
	if err != nil {
		return settingsError(err)
	}
	if bits < 1 || bits > 64 {
		return usagef("--space-bits %d: out of range (allowed: 1 to 64)", bits)
	}
	opt := set.Options(bits)
	s, err := forecast.ReadSeriesFile(cmd.Context(), path)
	if err != nil {
		return usageError{err}
	}
	a, err := forecast.Analyze(cmd.Context(), s, opt)
	if err != nil {
		if cmd.Context().Err() != nil {
			return err
		}
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	if f.plot != "" {
		img, err := forecast.Plot(a, plotFormat)
		if err != nil {
			return err
		}
		if err := forecastWriteFile(outs[0], &in, f.force, func(w io.Writer) error { _, err := w.Write(img); return err }); err != nil {
			return err
		}
	}
	if f.track != "" {
		if err := forecastWriteFile(outs[1], &in, f.force, a.WriteTrack); err != nil {
			return err
		}
	}
	if forecast.Format(f.format) == forecast.JSON {
		return a.WriteJSON(cmd.OutOrStdout())
	}
	a.WriteText(cmd.OutOrStdout())
	return nil
}

// forecastPlotFormat returns the picture format of --plot from its file's
// extension ("" without --plot).
func forecastPlotFormat(plot string) (string, error) {
	if plot == "" {
		return "", nil
	}
	switch strings.ToLower(filepath.Ext(plot)) {
	case ".png":
		return "png", nil
	case ".svg":
		return "svg", nil
	}
	return "", usagef("--plot %s: unknown picture type (allowed: a file ending in .png or .svg)", plot)
}

// settingsError words an error of the settings or the state: a value out
// of range names the flag of its key (the key with dashes).
func settingsError(err error) error {
	var pe *forecast.ParamError
	if errors.As(err, &pe) {
		return usagef("%s: %s", paramcli.FlagName(pe.Key), pe.Msg)
	}
	return usageError{err}
}

// forecastWriteFile writes an output file through the guard of every
// output (outpath): whole or not at all, never over an input.
func forecastWriteFile(o outpath.Output, in *outpath.Inputs, force bool, write func(io.Writer) error) error {
	return userWriteError(outpath.Write(o, in, force, nil, write))
}

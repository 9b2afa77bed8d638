package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

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
	horizon   time.Duration
	step      time.Duration
	level     float64
	memory    time.Duration
	rebase    time.Duration
	alarm     forecast.AlarmRule
	force     bool
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
	fl.StringVar(&f.format, "format", "text", "output: text or json")
	fl.StringVar(&f.plot, "plot", "", "write the picture to this file (.png or .svg)")
	fl.StringVar(&f.track, "track", "", "write the filter's estimates for every interval to this CSV file")
	fl.BoolVar(&f.force, "force", false, "replace output files (--plot, --track) that exist; never an input")
	fl.IntVar(&f.spaceBits, "space-bits", 0, "address space the worm scans, in bits (default: the run's space_bits for a folder, else 32); only the scan rate eta depends on it")
	paramcli.DurationVar(fl, &f.horizon, "horizon", 12*time.Hour, "how far past the end of the series to forecast")
	paramcli.DurationVar(fl, &f.step, "step", time.Hour, "step of the forecast table")
	fl.Float64Var(&f.level, "level", 0.95, "confidence level of intervals and bands")
	paramcli.DurationVar(fl, &f.memory, "memory", 6*time.Hour, "fading memory of the filter's growth rate")
	paramcli.DurationVar(fl, &f.rebase, "rebase", 24*time.Hour, "restart the filter after this long without an outbreak under way (negative: never)")
	fl.Float64Var(&f.alarm.Z, "alarm-z", forecast.DefaultAlarm.Z, "alarm: K must exceed this many standard errors")
	fl.Float64Var(&f.alarm.Tolerance, "alarm-tolerance", forecast.DefaultAlarm.Tolerance, "alarm: K must stay within this relative band")
	fl.Float64Var(&f.alarm.Growth, "alarm-growth", forecast.DefaultAlarm.Growth, "alarm: infected hosts must grow this many times at a settled K")
	fl.Int64Var(&f.alarm.MinSources, "alarm-min-sources", forecast.DefaultAlarm.MinSources, "alarm: sources the sensor must have seen")
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
	opt, err := forecastOptions(f, bits)
	if err != nil {
		return err
	}
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

// forecastOptions checks the flags of the analysis (before the series is
// read) and returns its options, for a space of bits bits.
func forecastOptions(f forecastFlags, bits int) (forecast.Options, error) {
	// the bound of every duration (forecast.MaxSpan), for messages
	fcMaxSpan := fmt.Sprintf("%s (%d days)", forecast.MaxSpan, forecast.MaxSpan/(24*time.Hour))
	switch {
	case !(f.level > 0 && f.level < 1):
		return forecast.Options{}, usagef("--level %g: out of range (allowed: between 0 and 1, like 0.95)", f.level)
	case !(f.alarm.Z > 0):
		return forecast.Options{}, usagef("--alarm-z %g: out of range (allowed: more than 0)", f.alarm.Z)
	case !(f.alarm.Tolerance > 0 && f.alarm.Tolerance < 1):
		return forecast.Options{}, usagef("--alarm-tolerance %g: out of range (allowed: between 0 and 1)", f.alarm.Tolerance)
	case !(f.alarm.Growth > 1):
		return forecast.Options{}, usagef("--alarm-growth %g: out of range (allowed: more than 1)", f.alarm.Growth)
	case f.alarm.MinSources < 1:
		return forecast.Options{}, usagef("--alarm-min-sources %d: out of range (allowed: 1 or more)", f.alarm.MinSources)
	case bits < 1 || bits > 64:
		return forecast.Options{}, usagef("--space-bits %d: out of range (allowed: 1 to 64)", bits)
	case f.horizon < 0 || f.horizon > forecast.MaxSpan:
		return forecast.Options{}, usagef("--horizon %s: out of range (allowed: 0 to %s)", f.horizon, fcMaxSpan)
	case f.step <= 0 || f.step > forecast.MaxSpan:
		return forecast.Options{}, usagef("--step %s: out of range (allowed: more than 0, at most %s)", f.step, fcMaxSpan)
	case f.memory <= 0 || f.memory > forecast.MaxSpan:
		return forecast.Options{}, usagef("--memory %s: out of range (allowed: more than 0, at most %s)", f.memory, fcMaxSpan)
	case f.rebase == 0 || f.rebase > forecast.MaxSpan:
		return forecast.Options{}, usagef("--rebase %s: out of range (allowed: more than 0, at most %s, or negative for never)", f.rebase, fcMaxSpan)
	case f.horizon/f.step > forecast.MaxForecastSteps:
		return forecast.Options{}, usagef("--horizon %s with --step %s: %d steps, too many (allowed: at most %d)", f.horizon, f.step, f.horizon/f.step, forecast.MaxForecastSteps)
	}
	opt := forecast.Options{SpaceBits: bits, Alarm: f.alarm, Memory: f.memory, Level: f.level, Horizon: f.horizon, Step: f.step, Rebase: f.rebase}
	if f.horizon == 0 {
		opt.Horizon = -1 // no forecast rows beyond the end itself
	}
	return opt, nil
}

// forecastWriteFile writes an output file through the guard of every
// output (outpath): whole or not at all, never over an input.
func forecastWriteFile(o outpath.Output, in *outpath.Inputs, force bool, write func(io.Writer) error) error {
	return userWriteError(outpath.Write(o, in, force, nil, write))
}

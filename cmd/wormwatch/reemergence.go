package main

import (
	"time"

	"github.com/spf13/cobra"

	"wormwatch/forecast"
	"wormwatch/internal/paramcli"
)

type reemergenceFlags struct {
	state, fromRun, at string
	format             string
	hours              int
	params             *paramcli.Flags // the state's keys (forecast.Reemergence)
}

func newReemergenceCmd() *cobra.Command {
	var f reemergenceFlags
	c := &cobra.Command{
		Use:   "reemergence",
		Short: "Forecast the restart of a dormant worm, as NIPC did on 29 July 2001",
		Long: `Forecast when a dormant worm wakes (early on hosts whose clocks are wrong) and
how many hosts it infects hour by hour after, under patching as now and under
an awareness campaign (a higher patch rate), and how many hosts must be
patched to keep the restart under a chosen size (--max-size).

The state at dormancy comes from the flags, from a state file (--state, TOML
with the keys of the flags, underscores for dashes), or from a run's results
folder at a time (--from-run DIR --at TIME); flags override the file or the
folder. Defaults are Code Red's on 29 July 2001; the model and its
assumptions are in docs/forecast.md.`,
		Example: `  wormwatch forecast reemergence
  wormwatch forecast reemergence --infected 359104 --unpatched-share 0.33 --patch-rate 0.04 --campaign-rate 0.4 --max-size 100000
  wormwatch forecast reemergence --state dormancy.toml --format json
  wormwatch forecast reemergence --from-run runs/summer --at 2001-07-29T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReemergence(cmd, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.state, "state", "", "read the state from this TOML file (keys: the flags' names with underscores)")
	fl.StringVar(&f.fromRun, "from-run", "", "take the state from this run folder's timeseries.csv (with --at)")
	fl.StringVar(&f.at, "at", "", "with --from-run: the time of the state (RFC 3339)")
	defaults := forecast.DefaultReemergence
	f.params = paramcli.Register(fl, &defaults) // a flag per key of the state, read by package param
	fl.StringVar(&f.format, "format", string(forecast.Text), "output: text or json")
	fl.IntVar(&f.hours, "hours", 24, "hours of the table printed from the restart on (text output)")
	return c
}

func runReemergence(cmd *cobra.Command, f *reemergenceFlags) error {
	if !forecast.Format(f.format).Known() {
		return usagef("--format %s: unknown format (allowed: %s)", f.format, forecast.Formats)
	}
	if maxHours := int(forecast.MaxSpan / time.Hour); f.hours < 0 || f.hours > maxHours {
		return usagef("--hours %d: out of range (allowed: 0 to %d, the hours of the longest --horizon)", f.hours, maxHours)
	}
	src, err := reemergenceSource(f)
	if err != nil {
		return err
	}
	p, err := forecast.LoadState(cmd.Context(), src)
	if err != nil {
		return reemergenceError(cmd, err)
	}
	r, err := forecast.RunReemergence(cmd.Context(), p)
	if err != nil {
		return reemergenceError(cmd, err)
	}
	if forecast.Format(f.format) == forecast.JSON {
		return r.WriteJSON(cmd.OutOrStdout())
	}
	r.WriteText(cmd.OutOrStdout(), f.hours)
	return nil
}

// reemergenceSource checks the flags that say where the state comes from:
// defaults, then the state file or the run folder at --at, then the flags
// the user set.
func reemergenceSource(f *reemergenceFlags) (forecast.StateSource, error) {
	src := forecast.StateSource{File: f.state, FromRun: f.fromRun, Set: f.params.Assignments()}
	if f.state != "" && f.fromRun != "" {
		return src, usagef("--state and --from-run: give one of them")
	}
	if (f.fromRun == "") != (f.at == "") {
		return src, usagef("--from-run and --at go together (the folder and the time of the state)")
	}
	if f.fromRun != "" {
		at, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return src, usagef("--at %s: not an RFC 3339 time (like 2001-07-29T00:00:00Z)", f.at)
		}
		if at.Before(forecast.MinTime) || !at.Before(forecast.MaxTime) {
			return src, usagef("--at %s: out of range (allowed: from %s to before %s)", f.at, forecast.MinTime.Format(time.RFC3339), forecast.MaxTime.Format(time.RFC3339))
		}
		src.At = at.UTC()
	}
	return src, nil
}

// reemergenceError words an error of the state or the forecast: a state
// out of range names the flag of its key (the key with dashes), whichever
// layer gave the value; an interruption stays one.
func reemergenceError(cmd *cobra.Command, err error) error {
	if cmd.Context().Err() != nil {
		return err
	}
	return settingsError(err)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/chart"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/thousands"
	"wormwatch/internal/version"
	"wormwatch/page"
	"wormwatch/replay"
	"wormwatch/results"
	"wormwatch/scenario"
)

type replayFlags struct {
	seeds   string
	out     string
	sets    []string
	workers int
	quiet   bool
}

func newReplayCmd() *cobra.Command {
	var f replayFlags
	c := &cobra.Command{
		Use:   "replay NAME|FILE",
		Short: "Replay a scenario over many seeds, check it against the measurements and write a report",
		Long: `Replay a scenario (codered-2001: the whole Code Red summer of 2001) over many seeds in
parallel, each run deterministic, and write: one run folder per seed, bands.csv (5%, 50%
and 95% over seeds of every series, per bin), validation.json (each published figure
beside the simulated median and 90% band), plots/ (PNG and SVG) and report.html, one
self-contained page that opens from disk.`,
		Example: `  wormwatch replay codered-2001
  wormwatch replay codered-2001 --seeds 50 --out runs/cr
  wormwatch replay codered-2001 --set defense.advisory.joint.time=2001-07-22T00:00:00Z --out runs/early`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), cmd, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.seeds, "seeds", "20", "seeds: a count (20 = 1-20), a range (1-100) or a list (1,5,9)")
	fl.StringVar(&f.out, "out", "", "replay folder (default: a new folder under ./runs); must not exist")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key: dotted.key=value (repeatable)")
	fl.IntVar(&f.workers, "workers", 0, "runs at once (default: one per CPU)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	return c
}

func runReplay(ctx context.Context, cmd *cobra.Command, name string, f replayFlags) error {
	sc, resolved, err := scenario.Load(name, f.sets)
	if err != nil {
		return err
	}
	seeds, err := parseSeeds(f.seeds)
	if err != nil {
		return usageError{err}
	}
	out, err := claimOut(f.out, sc.Name+"-replay")
	if err != nil {
		return err
	}
	defer atomicfile.Release(out) // removed if nothing was written
	baseDir := ""
	if _, err := scenario.Builtin(name); err != nil {
		baseDir = filepath.Dir(name)
	}
	stderr := cmd.ErrOrStderr()
	start := time.Now()
	opt := replay.Options{Seeds: seeds, Out: out, BaseDir: baseDir, Workers: f.workers, Version: version.Version}
	if !f.quiet {
		opt.Progress = func(done, total int) {
			fmt.Fprintf(stderr, "\r%s: %d of %d seeds done (%.0f s)", sc.Name, done, total, time.Since(start).Seconds())
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}
	r, err := replay.Run(ctx, sc, resolved, opt)
	err = userWriteError(err)
	if errors.Is(err, context.Canceled) {
		return interruptedError{fmt.Sprintf("interrupted: the finished seeds' folders are kept in %s; no bands, validation or report were written", out)}
	}
	if err != nil {
		return err
	}
	figs, err := chart.All(r)
	if err != nil {
		return err
	}
	if err := page.WriteFigures(filepath.Join(out, results.PlotsDir), figs); err != nil {
		return userWriteError(err)
	}
	if err := writeReport(filepath.Join(out, results.ReportFile), r, figs); err != nil {
		return userWriteError(err)
	}
	w := cmd.OutOrStdout()
	printValidation(w, r)
	fmt.Fprintf(w, "\n%s: %d seeds in %.1f s. Report: %s\n", sc.Name, len(seeds), time.Since(start).Seconds(), filepath.Join(out, results.ReportFile))
	return nil
}

// writeReport writes report.html under a temporary name and renames it.
func writeReport(path string, r *results.Replay, figs []chart.Figure) error {
	return atomicfile.Write(path, func(w io.Writer) error { return page.Write(w, r, figs) })
}

func printValidation(w io.Writer, r *results.Replay) {
	v := r.Validation
	fmt.Fprintf(w, "Validation of %s over %d seeds (simulated median and 5%%-95%% band):\n\n", r.Scenario, len(r.Seeds))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tpublished\tsimulated median [5%, 95%]\tinside\tsource")
	for _, c := range v.Checks {
		in := "no"
		if c.Inside {
			in = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s [%s, %s]\t%s\t%s\n", c.Name, num(c.Measured), num(c.P50), num(c.P05), num(c.P95), in, c.Source)
	}
	tw.Flush()
	l := v.Logistic
	if l.KPerHour[1] > 0 {
		fmt.Fprintf(w, "\nLogistic fit to %s on 19 July: K = %.2f per hour [%.2f, %.2f] (published range %.1f to %.1f, %s); T = %s UTC\n",
			l.Series, l.KPerHour[1], l.KPerHour[0], l.KPerHour[2], l.PublishedKLow, l.PublishedKHigh, l.Source, l.T[1].Format("2006-01-02 15:04"))
	}
	if len(v.Traffic) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "quantity\tmedian [5%, 95%]\tunit")
		for _, q := range v.Traffic {
			fmt.Fprintf(tw, "%s\t%s [%s, %s]\t%s\n", q.Name, num(q.P50), num(q.P05), num(q.P95), q.Unit)
		}
		tw.Flush()
	}
}

// num formats a figure for a table: shares with two decimals, large
// numbers with three significant digits or thousands separators.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case x != 0 && math.Abs(x) < 1:
		return strconv.FormatFloat(x, 'f', 3, 64)
	case math.Abs(x) >= 1e7:
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	return thousands.Round(x)
}

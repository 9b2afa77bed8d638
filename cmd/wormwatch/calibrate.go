package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"wormwatch/calibrate"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/version"
)

type calibrateFlags struct {
	out     string
	resume  string
	workers int
	quiet   bool
	nats    string
	maxGen  int // --max-generations, with --resume
}

func newCalibrateCmd() *cobra.Command {
	var f calibrateFlags
	c := &cobra.Command{
		Use:   "calibrate FILE | --resume DIR",
		Short: "Fit a scenario's keys to observations by ABC-SMC, with a posterior predictive validation",
		Long: `Fit free parameters (scenario keys with priors) to observed targets by
approximate Bayesian computation with sequential Monte Carlo (ABC-SMC, adaptive
tolerances), as a calibration file declares them (docs/calibrate.md). Each
generation is stored in the output folder as it completes, so that a stopped
calibration continues with --resume DIR and ends exactly as an uninterrupted
one. At the end DIR/posterior holds posterior.parquet, parameters.csv,
generations.csv, predictive.csv, validation.csv (the validate targets against
the posterior predictive), figures and report.html.`,
		Example: `  wormwatch calibrate docs/examples/calibrate-july.toml --out calib/july --workers 2
  wormwatch calibrate --resume calib/july
  wormwatch calibrate --resume calib/july --max-generations 8   # more generations than the file asked for
  wormwatch calibrate docs/examples/calibrate-july.toml --nats nats://127.0.0.1:4222   # on workers (docs/scale.md)`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.resume != "" && len(args) > 0 {
				return usagef("give either a calibration file or --resume DIR, not both")
			}
			if f.resume == "" && len(args) != 1 {
				return usagef("give one calibration file (or --resume DIR)")
			}
			if f.maxGen != 0 && f.resume == "" {
				return usagef("--max-generations goes with --resume DIR (a new calibration takes max_generations from its file)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			file := ""
			if len(args) == 1 {
				file = args[0]
			}
			return runCalibrate(cmd.Context(), cmd, file, f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "output folder (default: a new folder under ./runs); must not exist")
	fl.StringVar(&f.resume, "resume", "", "continue the calibration stored in this folder")
	fl.IntVar(&f.maxGen, "max-generations", 0, "with --resume: run to this many generations, beyond the file's max_generations (a calibration that stopped there goes on; its posterior is written anew)")
	fl.IntVar(&f.workers, "workers", 0, "simulations at once (default: one per CPU; with --nats, simulations in flight on the workers, default 16); the result does not depend on it")
	fl.StringVar(&f.nats, "nats", "", "run the simulations on 'wormwatch worker' processes through this NATS JetStream server (docs/scale.md)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines (there are none either when stderr is not a terminal)")
	return c
}

func runCalibrate(ctx context.Context, cmd *cobra.Command, file string, f calibrateFlags) error {
	start := time.Now()
	out := f.resume
	if out != "" {
		if f.out != "" {
			return usagef("--out: not with --resume (the folder is the one resumed)")
		}
		st, err := calibrate.ReadState(out)
		if err != nil {
			return usageError{err}
		}
		if _, err := os.Stat(filepath.Join(out, calibrate.PosteriorDir)); err == nil && f.maxGen == 0 {
			return usagef("--resume %s: this calibration is complete (%s exists); more generations: --max-generations N", out, filepath.Join(out, calibrate.PosteriorDir))
		}
		file = st.File
	}
	spec, err := calibrate.ReadFile(file)
	if err != nil {
		return usageError{err}
	}
	plan, err := calibrate.NewPlan(spec)
	if err != nil {
		return usageError{err}
	}
	if f.maxGen != 0 {
		if err := calibrate.Extend(out, plan, f.maxGen); err != nil {
			return usageError{err}
		}
	}
	run, release, err := jobRun(ctx, f.nats, "calibrate", f.quiet, cmd.ErrOrStderr(), &f.workers)
	if err != nil {
		return err
	}
	defer release()
	if f.resume == "" {
		stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		if out, err = claimOut(f.out, "calibrate-"+stem); err != nil {
			return err
		}
		defer atomicfile.Release(out) // removed only while still empty
	}
	errw := cmd.ErrOrStderr()
	lastGen := -2
	opt := calibrate.Options{Run: run, Workers: f.workers, Version: version.Version}
	if file, ok := errw.(*os.File); ok && !f.quiet && term.IsTerminal(int(file.Fd())) {
		opt.Progress = func(gen, accepted, particles, attempts int) {
			if gen != lastGen {
				lastGen = gen
				if gen >= 0 {
					fmt.Fprintf(errw, "generation %d: running (%.0f s)\n", gen, time.Since(start).Seconds())
				} else {
					fmt.Fprintf(errw, "posterior predictive: %d runs (%.0f s)\n", particles, time.Since(start).Seconds())
				}
			}
		}
	}
	res, err := calibrate.Run(ctx, plan, out, opt)
	if errors.Is(err, context.Canceled) {
		return interruptedError{fmt.Sprintf("interrupted: the complete generations are stored in %s; continue with: wormwatch calibrate --resume %s", out, out)}
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return userWriteError(err)
		}
		return err
	}
	if err := res.Write(out); err != nil {
		return userWriteError(err)
	}
	printCalibration(cmd.OutOrStdout(), res, out, time.Since(start))
	return nil
}

// printCalibration says how the calibration went, the posterior of each
// parameter, and the validation table.
func printCalibration(w io.Writer, res *calibrate.Result, out string, wall time.Duration) {
	s := res.Plan.Spec
	sims := 0
	for _, g := range res.Generations {
		sims += g.Attempts
	}
	fmt.Fprintf(w, "%s: %d generations of %d particles, %d simulations + %d predictive in %.1f s; stopped: %s\n",
		s.File, len(res.Generations), s.Particles, sims, s.Predictive, wall.Seconds(), res.StopDetail)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "parameter\tprior\tmedian\t90% credible interval\t")
	for _, p := range res.Parameters() {
		unit := ""
		if p.Unit != "" {
			unit = " " + p.Unit
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4g%s\t[%.4g, %.4g]%s\t\n", p.Key, p.Prior, p.P50, unit, p.P05, p.P95, unit)
	}
	tw.Flush()
	var vals []calibrate.Band
	for _, b := range res.Bands() {
		if b.Role == calibrate.RoleValidate {
			vals = append(vals, b)
		}
	}
	if len(vals) > 0 {
		fmt.Fprintln(tw, "validate target\tpoint\tobserved\tpredictive median\t90% interval\ttail probability\t")
		for _, b := range vals {
			fmt.Fprintf(tw, "%s\t%d\t%.4g\t%.4g\t[%.4g, %.4g]\t%.3f\t\n", b.Target, b.Point+1, b.Observed, b.NoisyP50, b.NoisyP05, b.NoisyP95, b.Tail)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "results: %s\n", filepath.Join(out, calibrate.PosteriorDir))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/version"
	"wormwatch/report"
	"wormwatch/runner"
	"wormwatch/sweep"
)

type sweepFlags struct {
	out     string
	workers int
	force   bool
	quiet   bool
	nats    string
	shard   string
}

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	c := &cobra.Command{
		Use:   "sweep FILE",
		Short: "Run a scenario over a grid, a Latin hypercube or a Sobol design of its keys",
		Long: `Run a scenario over many settings of its keys, as a sweep file declares them
(docs/sweep.md): a full grid, a Latin hypercube, or Saltelli's Sobol design,
each point for the same seeds. Writes a folder with points.csv (one row per
point and seed), summary.csv (per point: mean, sd and quantiles of each output),
sensitivity.csv (Sobol: first-order and total indices with bootstrap
intervals), heat maps (a grid of two factors) and sweep.json, then says which
factor changes each output most.`,
		Example: `  wormwatch sweep docs/examples/sweep-patch.toml --out sweeps/patch
  wormwatch sweep docs/examples/sweep-sobol.toml --out sweeps/sobol --workers 2
  wormwatch sweep docs/examples/sweep-sobol.toml --nats nats://127.0.0.1:4222   # on workers (docs/scale.md)
  wormwatch sweep docs/examples/sweep-sobol.toml --shard 0/4 --out shards/0     # ... to 3/4; then wormwatch merge`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSweep(cmd.Context(), cmd, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "output folder (default: a new folder under ./runs); must not exist, or be empty, unless --force")
	fl.IntVar(&f.workers, "workers", 0, "runs at once (default: one per CPU; with --nats, runs in flight on the workers, default 16)")
	fl.StringVar(&f.nats, "nats", "", "run the simulations on 'wormwatch worker' processes through this NATS JetStream server (docs/scale.md)")
	fl.StringVar(&f.shard, "shard", "", "run only shard i/n of the runs (i from 0; e.g. $SLURM_ARRAY_TASK_ID/8) into --out; 'wormwatch merge' joins the shards into the sweep's folder")
	fl.BoolVar(&f.force, "force", false, "replace an existing output folder (never one holding the sweep or scenario file)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	return c
}

func runSweep(ctx context.Context, cmd *cobra.Command, file string, f sweepFlags) error {
	start := time.Now()
	spec, err := sweep.ReadFile(file)
	if err != nil {
		return usageError{err}
	}
	plan, err := sweep.NewPlan(spec)
	if err != nil {
		return usageError{err}
	}
	if f.shard != "" {
		return runSweepShard(ctx, cmd, file, plan, f)
	}
	run, release, err := jobRun(ctx, f.nats, "sweep", f.quiet, cmd.ErrOrStderr(), &f.workers)
	if err != nil {
		return err
	}
	defer release()
	out, replace, err := claimSweepOut(f.out, spec, sweepInputs(file, plan), f.force)
	if err != nil {
		return err
	}
	if !replace {
		defer atomicfile.Release(out)
	}
	opt := sweep.Options{Run: run, Workers: f.workers, Version: version.Version}
	res, err := runSweepPlan(ctx, cmd, f.quiet, plan, opt, plan.Runs(), "sweep")
	if err != nil {
		return err
	}
	if replace {
		// --force over an existing folder: moved aside only now that the
		// sweep is done, and put back if the new one cannot be written.
		old := filepath.Join(filepath.Dir(out), atomicfile.TempName(filepath.Base(out)+".old"))
		if err := os.Rename(out, old); err != nil {
			return userWriteError(&atomicfile.CreateError{Err: err})
		}
		if err := res.Write(out); err != nil {
			os.Rename(old, out)
			return userWriteError(err)
		}
		os.RemoveAll(old)
	} else if err := res.Write(out); err != nil {
		return userWriteError(err)
	}
	printSweep(cmd.OutOrStdout(), res, out, time.Since(start))
	return nil
}

// sweepRun runs one job of a sweep or a calibration with
// runner.Simulate: the engine as run --seeds runs it, nothing written (the
// sweep reads the summary and the series; they run their jobs in parallel
// themselves).
func sweepRun(ctx context.Context, j sweep.Job) (report.Summary, error) {
	res, err := runner.Simulate(ctx, j.Scenario, j.Seed, runner.Options{Engine: j.Engine, BaseDir: j.BaseDir})
	if err != nil {
		return report.Summary{}, err
	}
	if res == nil {
		if err := ctx.Err(); err != nil {
			return report.Summary{}, err
		}
		return report.Summary{}, fmt.Errorf("seed %d: the run gave no result", j.Seed)
	}
	j.Keep(res)
	return report.NewSummary(res, version.Version), nil
}

// claimSweepOut claims the output folder: --out, which must not exist or
// be empty; or, with --force, an existing folder that holds none of the
// inputs, to be replaced once the sweep is done (replace is true, and
// nothing is claimed); or a new folder under ./runs.
func claimSweepOut(flagOut string, spec *sweep.Spec, inputs []string, force bool) (out string, replace bool, err error) {
	if flagOut == "" {
		stem := strings.TrimSuffix(filepath.Base(spec.File), filepath.Ext(spec.File))
		out, err = claimOut("", "sweep-"+stem)
		return out, false, err
	}
	out = filepath.Clean(flagOut)
	if fi, err := os.Lstat(out); err == nil {
		if !fi.IsDir() {
			return "", false, usagef("--out %s: exists and is not a folder", out)
		}
		absOut, _ := filepath.Abs(out)
		for _, in := range inputs {
			absIn, _ := filepath.Abs(in)
			if strings.HasPrefix(absIn, absOut+string(filepath.Separator)) {
				return "", false, usagef("--out %s: holds %s, an input of the sweep; choose another folder", out, in)
			}
		}
		if cwd, err := os.Getwd(); err == nil && (cwd == absOut || strings.HasPrefix(cwd, absOut+string(filepath.Separator))) {
			return "", false, usagef("--out %s: is the working folder or holds it; choose another folder", out)
		}
		ents, _ := os.ReadDir(out)
		switch {
		case len(ents) > 0 && !force:
			return "", false, usagef("--out %s: exists and is not empty (give --force to replace it)", out)
		case len(ents) > 0:
			return out, true, nil
		}
		if err := os.Remove(out); err != nil {
			return "", false, userWriteError(&atomicfile.CreateError{Err: err})
		}
	}
	if err := atomicfile.Claim(out); err != nil {
		var ee *atomicfile.ExistsError
		if errors.As(err, &ee) {
			return "", false, usagef("--out %w", err)
		}
		return "", false, userWriteError(err)
	}
	return out, false, nil
}

func sweepBar(w io.Writer, quiet bool, runs int) *progressbar.ProgressBar {
	file, ok := w.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(file.Fd())) {
		return nil
	}
	return progressbar.NewOptions(runs,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("runs"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

// printSweep says what was run and which factor moves each output most.
func printSweep(w io.Writer, res *sweep.Result, out string, wall time.Duration) {
	p := res.Plan
	s := p.Spec
	fmt.Fprintf(w, "%s: %s design over %s, %d points × %d seeds = %d runs in %.1f s\n", s.File, s.Design, s.Scenario, len(p.Points), len(p.Seeds), p.Runs(), wall.Seconds())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch s.Design {
	case sweep.DesignSobol:
		sens := res.Sensitivities()
		rank := sweep.Ranking(sens)
		fmt.Fprintf(tw, "output\tfactor\tS1 [%.0f%% CI]\tST [%.0f%% CI]\t\n", sweep.CILevel*100, sweep.CILevel*100)
		for _, se := range sens {
			if se.Err != "" {
				fmt.Fprintf(tw, "%s\t-\t%s\t\t\n", se.Output, se.Err)
				continue
			}
			for _, i := range rank[se.Output] {
				x := se.Indices[i]
				fmt.Fprintf(tw, "%s\t%s\t%.3f [%.3f, %.3f]\t%.3f [%.3f, %.3f]\t\n", se.Output, s.Factors[i].Key, x.S1, x.S1Low, x.S1High, x.ST, x.STLow, x.STHigh)
			}
		}
		tw.Flush()
		for _, se := range sens {
			if order, ok := rank[se.Output]; ok {
				fmt.Fprintf(w, "  %s changes most with %s (total index %.3f)\n", se.Output, s.Factors[order[0]].Key, se.Indices[order[0]].ST)
			}
		}
	case sweep.DesignGrid:
		eff := res.MainEffects()
		fmt.Fprintln(tw, "output\tfactor\trange of the mean over its values\t")
		var most []string
		for o, name := range s.Outputs {
			best := -1
			for i, f := range s.Factors {
				fmt.Fprintf(tw, "%s\t%s\t%.4g\t\n", name, f.Key, eff[o][i])
				if !math.IsNaN(eff[o][i]) && (best < 0 || eff[o][i] > eff[o][best]) {
					best = i
				}
			}
			if best >= 0 {
				most = append(most, fmt.Sprintf("  %s changes most with %s (its mean moves by %.4g across the values)\n", name, s.Factors[best].Key, eff[o][best]))
			}
		}
		tw.Flush()
		for _, m := range most {
			fmt.Fprint(w, m)
		}
	}
	fmt.Fprintf(w, "results: %s\n", out)
}

// runSweepPlan runs the total runs of plan that opt selects with a progress
// bar (unless quiet), and says that the sweep (or shard: what) was
// stopped, with nothing written, when ctx is cancelled.
func runSweepPlan(ctx context.Context, cmd *cobra.Command, quiet bool, plan *sweep.Plan, opt sweep.Options, total int, what string) (*sweep.Result, error) {
	bar := sweepBar(cmd.ErrOrStderr(), quiet, total)
	if bar != nil {
		opt.Progress = func(done, _ int) { bar.Set(done) }
	}
	res, err := sweep.Run(ctx, plan, opt)
	if bar != nil {
		bar.Finish()
		bar.Clear()
	}
	if errors.Is(err, context.Canceled) {
		return nil, interruptedError{"interrupted: the " + what + " was stopped; nothing was written"}
	}
	return res, err
}

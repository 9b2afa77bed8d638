package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"wormwatch/calibrate"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/version"
	"wormwatch/replay"
	"wormwatch/results"
	"wormwatch/runner"
	"wormwatch/scale"
	"wormwatch/scenario"
	"wormwatch/scenario/builtin/posterior"
)

type replayFlags struct {
	seeds     string
	out       string
	sets      []string
	workers   int
	quiet     bool
	infect    bool // --infections
	nats      string
	block     int
	shard     string
	posterior string // --posterior: a calibration folder
}

// builtinPosterior is the --posterior value that names the posterior
// shipped with a built-in scenario (package posterior).
const builtinPosterior = "builtin"

func newReplayCmd() *cobra.Command {
	var f replayFlags
	c := &cobra.Command{
		Use:   "replay NAME|FILE",
		Short: "Replay a scenario over many seeds, check it against the measurements and write a report",
		Long: `Replay a scenario (codered-2001: the whole Code Red summer of 2001) over many seeds in
parallel, each run deterministic, and write: one run folder per seed (summary, time series
and sensor series; --infections adds infections.parquet), bands.csv (5%, 50% and 95% over
seeds of every series, per bin), validation.json (each published figure beside the
simulated median and 90% band), plots/ (PNG and SVG) and report.html, one self-contained
page that opens from disk.`,
		Example: `  wormwatch replay codered-2001
  wormwatch replay codered-2001 --seeds 50 --out runs/cr
  wormwatch replay codered-2001 --set defense.advisory.joint.time=2001-07-22T00:00:00Z --out runs/early
  wormwatch replay codered-2001 --seeds 200 --nats nats://127.0.0.1:4222   # on workers (docs/scale.md)`,
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
	fl.BoolVar(&f.infect, "infections", false, "also write each seed's infections.parquet (one row per infection; large)")
	fl.StringVar(&f.nats, "nats", "", "run the seeds on 'wormwatch worker' processes through this NATS JetStream server (docs/scale.md)")
	fl.IntVar(&f.block, "block", 1, "with --nats: seeds per task")
	fl.StringVar(&f.shard, "shard", "", "run only shard i/n of the seeds (i from 0; e.g. $SLURM_ARRAY_TASK_ID/8) into --out; 'wormwatch merge' joins the shards")
	fl.StringVar(&f.posterior, "posterior", "", "a calibration folder (wormwatch calibrate --out), or \"builtin\" for the posterior shipped with a built-in scenario (codered-2001): each seed draws its parameters from the posterior, so the bands carry their uncertainty (also with --nats and --shard)")
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
	if f.block < 1 {
		return usagef("--block %d: want 1 or more seeds per task", f.block)
	}
	if f.nats == "" && cmd.Flags().Changed("block") {
		return usagef("--block applies to --nats only")
	}
	var scenarioFor func(uint64) (*scenario.Scenario, []byte, error)
	var post *calibrate.Posterior
	if f.posterior != "" {
		if f.posterior == builtinPosterior {
			fsys, ok := posterior.For(sc.Name)
			if !ok {
				return usagef("--posterior builtin: no posterior is shipped for scenario %s (it is for %s)", sc.Name, strings.Join(posterior.Names(), ", "))
			}
			post, err = calibrate.ReadPosteriorFS(fsys, "builtin:"+sc.Name)
		} else {
			post, err = calibrate.ReadPosterior(f.posterior)
		}
		if err != nil {
			return usagef("--posterior: %w", err)
		}
		scenarioFor = func(seed uint64) (*scenario.Scenario, []byte, error) {
			_, sets := post.Draw(seed)
			return scenario.Load(name, append(append([]string(nil), f.sets...), sets...))
		}
		// Every key the posterior holds must fit the scenario: try the
		// first seed's draw before anything runs.
		if _, _, err := scenarioFor(seeds[0]); err != nil {
			return usagef("--posterior %s: %w", f.posterior, err)
		}
		if !f.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: each seed's %s drawn from the posterior in %s (its scenario.toml has the values)\n", sc.Name, strings.Join(post.Keys, ", "), post.Dir)
		}
	}
	if f.shard != "" {
		if f.nats != "" {
			return usagef("give --shard or --nats, not both")
		}
		i, n, err := scale.ParseShard(f.shard)
		if err != nil {
			return usageError{err}
		}
		return runShard(ctx, cmd, name, sc, resolved, seeds, i, n, f, post, scenarioFor)
	}
	var nc *nats.Conn
	if f.nats != "" {
		if f.workers != 0 {
			return usagef("--workers applies to local runs; with --nats, start workers (wormwatch worker --workers N)")
		}
		if nc, err = scale.Connect(f.nats, "wormwatch replay"); err != nil {
			return usageError{err}
		}
		defer nc.Close()
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
	opt := runner.ReplayOptions{Seeds: seeds, Out: out, BaseDir: baseDir, Workers: f.workers, Version: version.Version, Infections: f.infect, ScenarioFor: scenarioFor}
	if post != nil {
		opt.Posterior, opt.PosteriorKeys = post.Dir, post.Keys
	}
	if nc != nil {
		client := &scale.Client{Conn: nc, Config: scale.DefaultConfig}
		if !f.quiet {
			client.Log = func(format string, a ...any) {
				if !strings.Contains(format, "published") {
					fmt.Fprintf(stderr, format+"\n", a...)
					return
				}
				fmt.Fprintf(stderr, format+"; waiting for workers (wormwatch worker --nats %s)\n", append(a, f.nats)...)
			}
		}
		ropt := scale.ReplayOptions{Out: out, Name: sc.Name + ".toml", BaseDir: baseDir,
			Version: version.Version, Infections: f.infect, Block: f.block}
		if scenarioFor != nil {
			// Each seed's draws are made here, as a local replay makes
			// them, and its task carries the seed's resolved scenario.
			ropt.ScenarioFor = func(seed uint64) ([]byte, error) {
				_, b, err := scenarioFor(seed)
				if err != nil {
					return nil, runner.SetupError{Err: fmt.Errorf("seed %d: %w", seed, err)}
				}
				return b, nil
			}
		}
		opt.Remote = scale.ReplaySeeds(client, resolved, ropt)
	}
	if !f.quiet {
		opt.Progress = seedsProgress(stderr, sc.Name, "done", start)
	}
	r, err := runner.Replay(ctx, sc, resolved, opt)
	err = userWriteError(err)
	if errors.Is(err, scale.ErrNoJetStream) {
		return usagef("--nats %s: %w", f.nats, err)
	}
	if errors.Is(err, context.Canceled) {
		return interruptedError{fmt.Sprintf("interrupted: the finished seeds' folders are kept in %s; no bands, validation or report were written", out)}
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	replay.WriteValidation(w, r)
	fmt.Fprintf(w, "\n%s: %d seeds in %.1f s. Report: %s\n", sc.Name, len(seeds), time.Since(start).Seconds(), filepath.Join(out, results.ReportFile))
	return nil
}

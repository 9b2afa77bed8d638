package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/calibrate"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/version"
	"wormwatch/replay"
	"wormwatch/results"
	"wormwatch/runner"
	"wormwatch/scale"
	"wormwatch/scenario"
	"wormwatch/sweep"
)

// runShard runs shard i of n of a replay's seeds into its folder: the
// shard's seed folders, each seed's result (scale.ShardKeep) and, last,
// shard.json.
//
// With post (replay --posterior), each seed runs the scenario scenarioFor
// gives it, as in a local replay, and shard.json records the posterior and
// the replay's resolved scenario for merge.
func runShard(ctx context.Context, cmd *cobra.Command, name string, sc *scenario.Scenario, resolved []byte, seeds []uint64, i, n int, f replayFlags,
	post *calibrate.Posterior, scenarioFor func(uint64) (*scenario.Scenario, []byte, error)) error {
	mine := scale.ShardSeeds(seeds, i, n)
	out, err := claimOut(f.out, fmt.Sprintf("%s-shard%dof%d", sc.Name, i, n))
	if err != nil {
		return err
	}
	defer atomicfile.Release(out)
	baseDir := ""
	if _, err := scenario.Builtin(name); err != nil {
		baseDir = filepath.Dir(name)
	}
	keep, failed := scale.ShardKeep(out)
	start := time.Now()
	stderr := cmd.ErrOrStderr()
	done := 0
	opt := runner.Options{BaseDir: baseDir, Workers: f.workers, Version: version.Version, Infections: f.infect,
		Configure: replay.Configure(sc, seeds), Keep: keep, ScenarioFor: scenarioFor}
	if !f.quiet {
		progress := seedsProgress(stderr, fmt.Sprintf("%s shard %d/%d", sc.Name, i, n), "done", start)
		opt.Done = func(runner.Outcome) {
			done++
			progress(done, len(mine))
		}
	}
	_, err = runner.Seeds(ctx, sc, resolved, mine, func(s uint64) string { return filepath.Join(out, results.SeedDirName(s)) }, opt)
	err = userWriteError(err)
	if errors.Is(err, context.Canceled) {
		return interruptedError{fmt.Sprintf("interrupted: the finished seeds' folders are kept in %s, but the shard is unfinished (no %s): run it again into a new folder", out, scale.ShardFile)}
	}
	if err != nil {
		return err
	}
	if err := failed(); err != nil {
		return userWriteError(err)
	}
	manifest := scale.Shard{Index: i, Count: n, Scenario: sc.Name, ScenarioSHA256: scale.ScenarioSum(resolved),
		Version: version.Version, Infections: f.infect, Seeds: seeds}
	if post != nil {
		manifest.Posterior, manifest.PosteriorKeys, manifest.PosteriorSHA256 = post.Dir, post.Keys, post.SHA256
		manifest.ScenarioTOML = string(resolved)
	}
	err = scale.WriteShard(out, manifest)
	if err != nil {
		return userWriteError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s shard %d/%d: %d of %d seeds in %.1f s into %s; when all %d shards are done: wormwatch merge --out DIR SHARD_FOLDER...\n",
		sc.Name, i, n, len(mine), len(seeds), time.Since(start).Seconds(), out, n)
	return nil
}

type mergeFlags struct {
	out   string
	quiet bool
}

func newMergeCmd() *cobra.Command {
	var f mergeFlags
	c := &cobra.Command{
		Use:   "merge SHARD_FOLDER...",
		Short: "Join the shards of a replay or a sweep run with --shard i/n into the replay's or the sweep's folder",
		Long: `Join the folders written by 'wormwatch replay ... --shard i/n --out FOLDER', one per shard
(every shard from 0 to n-1, each once, of the same scenario, seeds and version), into one
replay folder: the seed folders, bands.csv, validation.json, plots/ and report.html, the same
bytes as the replay run in one go. For batch schedulers (Slurm job arrays, Kubernetes
Indexed Jobs): see docs/scale.md.

The folders written by 'wormwatch sweep FILE --shard i/n --out FOLDER' are joined the
same way into the sweep's folder (points.csv, summary.csv, sensitivity.csv, heat maps,
sweep.json), the bytes the sweep run in one go writes; merge reads the sweep file again
where the shards ran it, unchanged.`,
		Example: `  wormwatch replay codered-2001 --seeds 100 --shard 0/4 --out shards/0   # ... to 3/4
  wormwatch merge --out runs/cr shards/*
  wormwatch sweep docs/examples/sweep-sobol.toml --shard 0/4 --out sweep-shards/0   # ... to 3/4
  wormwatch merge --out runs/sobol sweep-shards/*`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(cmd.Context(), cmd, args, f)
		},
	}
	c.Flags().StringVar(&f.out, "out", "", "replay folder (default: a new folder under ./runs); must not exist")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	return c
}

func runMerge(ctx context.Context, cmd *cobra.Command, dirs []string, f mergeFlags) error {
	if sweep.IsShard(dirs[0]) {
		return runSweepMerge(cmd, dirs, f)
	}
	sh, where, err := scale.ReadShards(dirs)
	var se *scale.ShardError
	if errors.As(err, &se) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if sh.Version != version.Version {
		return usagef("the shards were run by wormwatch %s and this is %s: merge with the version that ran them", sh.Version, version.Version)
	}
	// The scenario is the resolved one every seed folder holds; with
	// --posterior each seed holds its own draws, and shard.json the
	// replay's.
	tomlPath := filepath.Join(where[sh.Seeds[0]], results.SeedDirName(sh.Seeds[0]), "scenario.toml")
	var resolved []byte
	if sh.Posterior != "" {
		tomlPath = filepath.Join(where[sh.Seeds[0]], scale.ShardFile)
		resolved = []byte(sh.ScenarioTOML)
	} else if resolved, err = os.ReadFile(tomlPath); err != nil {
		return usagef("%s: %v (the shard is incomplete)", tomlPath, err)
	}
	if scale.ScenarioSum(resolved) != sh.ScenarioSHA256 {
		return usagef("%s is not the scenario the shards recorded (it was changed after the run)", tomlPath)
	}
	sc, err := scenario.Parse(tomlPath, resolved, "", nil)
	if err != nil {
		return err
	}
	out, err := claimOut(f.out, sc.Name+"-replay")
	if err != nil {
		return err
	}
	defer atomicfile.Release(out)
	start := time.Now()
	stderr := cmd.ErrOrStderr()
	opt := runner.ReplayOptions{Seeds: sh.Seeds, Out: out, Version: sh.Version, Infections: sh.Infections, Remote: scale.MergeSeeds(where, out),
		Posterior: sh.Posterior, PosteriorKeys: sh.PosteriorKeys}
	if !f.quiet {
		opt.Progress = seedsProgress(stderr, sc.Name, "merged", start)
	}
	r, err := runner.Replay(ctx, sc, resolved, opt)
	err = userWriteError(err)
	if errors.As(err, &se) {
		return usageError{err}
	}
	if errors.Is(err, context.Canceled) {
		return interruptedError{fmt.Sprintf("interrupted: the seeds merged so far are kept in %s; no bands, validation or report were written", out)}
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	replay.WriteValidation(w, r)
	fmt.Fprintf(w, "\n%s: %d seeds from %d shards in %.1f s. Report: %s\n", sc.Name, len(sh.Seeds), sh.Count, time.Since(start).Seconds(), filepath.Join(out, results.ReportFile))
	return nil
}

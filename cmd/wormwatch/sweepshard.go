package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/version"
	"wormwatch/scale"
	"wormwatch/sweep"
)

// sweepInputs are a sweep's input files: the sweep file and, if its
// scenario is a file, the scenario file.
func sweepInputs(file string, plan *sweep.Plan) []string {
	if plan.BaseDir != "" {
		return []string{file, plan.Scenario}
	}
	return []string{file}
}

// sweepInputsSum is the SHA-256 of a sweep's input files (sweepInputs).
func sweepInputsSum(file string, plan *sweep.Plan) (string, error) {
	h := sha256.New()
	for _, in := range sweepInputs(file, plan) {
		b, err := os.ReadFile(in)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// runSweepShard runs shard i of n of a sweep's runs (sweep --shard i/n)
// into its folder, which then holds sweep-shard.json: the outputs of its
// runs, for merge.
func runSweepShard(ctx context.Context, cmd *cobra.Command, file string, plan *sweep.Plan, f sweepFlags) error {
	if f.nats != "" {
		return usagef("give --shard or --nats, not both")
	}
	if f.force {
		return usagef("--force: not with --shard (a shard's --out is a new folder)")
	}
	if f.workers < 0 {
		return usagef("--workers %d: want 0 (the default) or more", f.workers)
	}
	i, n, err := scale.ParseShard(f.shard)
	if err != nil {
		return usageError{err}
	}
	sum, err := sweepInputsSum(file, plan)
	if err != nil {
		return usageError{err}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return usageError{err}
	}
	start := time.Now()
	stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	out, err := claimOut(f.out, fmt.Sprintf("sweep-%s-shard%dof%d", stem, i, n))
	if err != nil {
		return err
	}
	defer atomicfile.Release(out)
	opt := sweep.Options{Run: sweepRun, Workers: f.workers, Version: version.Version,
		Only: func(k, j int) bool { return plan.InShard(k, j, i, n) }}
	total := 0
	for k := range plan.Points {
		for j := range plan.Seeds {
			if plan.InShard(k, j, i, n) {
				total++
			}
		}
	}
	res, err := runSweepPlan(ctx, cmd, f.quiet, plan, opt, total, "shard")
	if err != nil {
		return err
	}
	err = sweep.WriteShard(out, sweep.Shard{Index: i, Count: n, SweepFile: plan.Spec.File, SweepPath: abs, InputsSHA256: sum,
		Version: version.Version, Runs: res.ShardRuns(i, n)})
	if err != nil {
		return userWriteError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s shard %d/%d: %d of %d runs in %.1f s into %s; when all %d shards are done: wormwatch merge --out DIR SHARD_FOLDER...\n",
		file, i, n, total, plan.Runs(), time.Since(start).Seconds(), out, n)
	return nil
}

// runSweepMerge joins the shards of a sweep (sweep --shard i/n) into the
// sweep's folder: it reads the sweep file again where the shards ran it
// (unchanged, or it refuses), and writes what the sweep run in one go
// writes.
func runSweepMerge(cmd *cobra.Command, dirs []string, f mergeFlags) error {
	start := time.Now()
	shards, err := sweep.ReadShards(dirs)
	var se *sweep.ShardError
	if errors.As(err, &se) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	sh := shards[0]
	if sh.Version != version.Version {
		return usagef("the shards were run by wormwatch %s and this is %s: merge with the version that ran them", sh.Version, version.Version)
	}
	spec, err := sweep.ReadFile(sh.SweepPath)
	if err != nil {
		return usagef("%v (merge reads the sweep file the shards ran, %s)", err, sh.SweepPath)
	}
	plan, err := sweep.NewPlan(spec)
	if err != nil {
		return usageError{err}
	}
	if sum, err := sweepInputsSum(sh.SweepPath, plan); err != nil || sum != sh.InputsSHA256 {
		return usagef("%s (or its scenario file) is not what the shards ran: it was changed after the run", sh.SweepPath)
	}
	// sweep.json names the sweep file as the shards' command line did.
	spec.File = sh.SweepFile
	res, err := sweep.JoinShards(plan, shards, sh.Version)
	if errors.As(err, &se) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	stem := strings.TrimSuffix(filepath.Base(sh.SweepFile), filepath.Ext(sh.SweepFile))
	out, err := claimOut(f.out, "sweep-"+stem)
	if err != nil {
		return err
	}
	defer atomicfile.Release(out)
	if err := res.Write(out); err != nil {
		return userWriteError(err)
	}
	printSweep(cmd.OutOrStdout(), res, out, time.Since(start))
	return nil
}

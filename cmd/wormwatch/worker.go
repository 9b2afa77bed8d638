package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/internal/version"
	"wormwatch/scale"
)

type workerFlags struct {
	nats    string
	workers int
	scratch string
	quiet   bool
}

func newWorkerCmd() *cobra.Command {
	var f workerFlags
	c := &cobra.Command{
		Use:   "worker --nats URL",
		Short: "Run seeds for replays, sweeps and calibrations submitted with --nats, pulling tasks from NATS JetStream until stopped",
		Long: `Pull tasks (a scenario and a block of seeds) from the NATS JetStream work queue that
'wormwatch replay --nats URL' (and sweep and calibrate --nats) publish to, run each seed
with the same engine and writer as a local run, store its result (and, for a replay, its
results folder) in the job's Object Store bucket and acknowledge the task. Runs until Ctrl-C; a task in progress is then handed back at once.
Start as many workers as you like, on any machines that reach the server; each must be
the submitter's version. See docs/scale.md.`,
		Example: `  nats-server -js -sd /var/lib/nats &
  wormwatch worker --nats nats://127.0.0.1:4222
  wormwatch worker --nats nats://queue.example.org:4222 --workers 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorker(cmd.Context(), cmd, f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.nats, "nats", "", "NATS server URL, e.g. nats://127.0.0.1:4222 (required)")
	fl.IntVar(&f.workers, "workers", 0, "tasks run at once (default: one per CPU)")
	fl.StringVar(&f.scratch, "scratch", "", "folder for the seed folders before they are stored (default: /dev/shm if there, else the system's temporary folder)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no line per task")
	return c
}

func runWorker(ctx context.Context, cmd *cobra.Command, f workerFlags) error {
	if f.nats == "" {
		return usagef("--nats URL is required (the server replay, sweep and calibrate --nats publish to)")
	}
	if f.workers < 0 {
		return usagef("--workers %d: want 0 (one per CPU) or more", f.workers)
	}
	n := f.workers
	if n == 0 {
		n = runtime.NumCPU()
	}
	nc, err := scale.Connect(f.nats, "wormwatch worker")
	if err != nil {
		return usageError{err}
	}
	defer nc.Close()
	stderr := cmd.ErrOrStderr()
	w := &scale.Worker{Conn: nc, Config: scale.DefaultConfig, Version: version.Version, Workers: n, Scratch: f.scratch}
	if !f.quiet {
		w.Log = func(format string, a ...any) {
			fmt.Fprintf(stderr, "%s %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, a...))
		}
		fmt.Fprintf(stderr, "wormwatch worker %s: %d at once, pulling from %s (stream %s, consumer %s); Ctrl-C stops\n", version.Version, n, f.nats, scale.Stream, scale.Consumer)
	}
	err = w.Run(ctx)
	if errors.Is(err, scale.ErrNoJetStream) {
		return usagef("--nats %s: %w", f.nats, err)
	}
	if errors.Is(err, context.Canceled) {
		return interruptedError{"worker stopped; its task in progress, if any, was handed back to the queue"}
	}
	return err
}

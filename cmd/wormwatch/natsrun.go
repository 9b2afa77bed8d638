package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"wormwatch/internal/version"
	"wormwatch/scale"
	"wormwatch/sweep"
)

// natsJobsInFlight is --workers of sweep and calibrate with --nats when
// not given: how many runs are queued or running on the workers at once.
// Each run is one task, so this bounds how many workers can be kept busy;
// 16 keeps 8 two-core worker machines fed while the submitter waits for
// round trips (a run of a small scenario takes milliseconds, a round trip
// about as much).
const natsJobsInFlight = 16

// jobRun returns how a sweep or a calibration (who) runs its jobs: on this
// machine's cores (sweepRun), or with natsURL on the workers (natsSweepRun;
// then --workers, if not given, is natsJobsInFlight). The function returned
// with it releases what it holds.
func jobRun(ctx context.Context, natsURL, who string, quiet bool, stderr io.Writer, workers *int) (sweep.RunFunc, func(), error) {
	if *workers < 0 {
		return nil, nil, usagef("--workers %d: want 0 (the default) or more", *workers)
	}
	if natsURL == "" {
		return sweepRun, func() {}, nil
	}
	run, closeNATS, err := natsSweepRun(ctx, natsURL, who, quiet, stderr)
	if err != nil {
		return nil, nil, err
	}
	if *workers == 0 {
		*workers = natsJobsInFlight
	}
	return run, closeNATS, nil
}

// seedsProgress returns a Progress function for replay-like commands:
// "NAME: D of T seeds VERB (S s)" on one line of stderr, ended when all
// are done.
func seedsProgress(stderr io.Writer, name, verb string, start time.Time) func(done, total int) {
	return func(done, total int) {
		fmt.Fprintf(stderr, "\r%s: %d of %d seeds %s (%.0f s)", name, done, total, verb, time.Since(start).Seconds())
		if done == total {
			fmt.Fprintln(stderr)
		}
	}
}

// natsSweepRun connects to the NATS server at url and opens a session
// (scale.Session) whose tasks run the jobs of a sweep or a calibration on
// `wormwatch worker` processes. A bad URL, a server that cannot be reached
// or one without JetStream is a usage error naming --nats. The returned
// function closes the session (removing its tasks and bucket) and the
// connection.
func natsSweepRun(ctx context.Context, url, who string, quiet bool, stderr io.Writer) (sweep.RunFunc, func(), error) {
	nc, err := scale.Connect(url, "wormwatch "+who)
	if err != nil {
		return nil, nil, usageError{err}
	}
	client := &scale.Client{Conn: nc, Config: scale.DefaultConfig}
	if !quiet {
		client.Log = func(format string, a ...any) {
			fmt.Fprintf(stderr, format+"\n", a...)
		}
	}
	s, err := client.Open(ctx)
	if err != nil {
		nc.Close()
		if errors.Is(err, scale.ErrNoJetStream) {
			return nil, nil, usagef("--nats %s: %w", url, err)
		}
		return nil, nil, fmt.Errorf("--nats %s: %w", url, err)
	}
	if !quiet {
		fmt.Fprintf(stderr, "the runs go to the workers (wormwatch worker --nats %s)\n", url)
	}
	closeAll := func() {
		s.Close()
		nc.Close()
	}
	return scale.SweepRun(s, scale.SweepOptions{Version: version.Version}), closeAll, nil
}

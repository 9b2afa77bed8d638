// Package runner runs a scenario for one or many seeds, in parallel, and
// writes each run's results folder. It is what the command line calls; it
// joins the engine (sim) and the writers (report) and nothing else.
package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"wormwatch/report"
	"wormwatch/scenario"
	"wormwatch/sim"
)

// Options control a batch of runs.
type Options struct {
	Engine  string // sim.EngineFast or sim.EngineProbe
	BaseDir string // folder the scenario's relative paths are read from
	Workers int    // runs at once; 0 means one per CPU
	Version string
	// Infections writes infections.parquet in each run's folder; without
	// it a folder holds the summary, time series and sensor series
	// (report.Contents). The command line sets it for a single run and,
	// with --infections, for an ensemble.
	Infections bool
	Progress   func(seed uint64, p sim.Progress) // per bin of each run, if set
	Done       func(o Outcome)                   // after each run is written, if set
	// Configure, if set, adjusts the engine's options of a seed's run.
	Configure func(seed uint64, o *sim.Options)
	// Keep, if set, sees each finished run's result after it is written
	// (it must not keep the infections: they are large; take what you need).
	Keep func(seed uint64, res *sim.Result)
	// ScenarioFor, if set, gives each seed a scenario of its own (and its
	// resolved TOML, the folder's scenario.toml) instead of Seeds' sc
	// (replay --posterior: parameters drawn per seed). Its error is the
	// input's (a SetupError).
	ScenarioFor func(seed uint64) (*scenario.Scenario, []byte, error)
}

// Outcome is one finished run.
type Outcome struct {
	Seed    uint64
	Dir     string
	Summary report.Summary
}

// SetupError is a run that could not be set up from its scenario: a
// population file that cannot be read or does not fit the space, ranges or
// worm parameters the engine refuses. sim.Run fails only before it
// simulates anything, for such reasons, so the problem is in the input
// (the command line reports it with exit status 2), not in the program.
type SetupError struct{ Err error }

// Error returns the engine's message.
func (e SetupError) Error() string { return e.Err.Error() }

// Unwrap returns the engine's error.
func (e SetupError) Unwrap() error { return e.Err }

// Seeds runs the scenario once per seed and writes each run to dirFor(seed).
// Runs are independent and each is deterministic, so the outcome does not
// depend on Workers. When ctx is cancelled, the runs in progress are
// discarded (nothing half-written is kept) and Seeds returns the runs
// already written with ctx's error.
func Seeds(ctx context.Context, sc *scenario.Scenario, resolved []byte, seeds []uint64, dirFor func(uint64) string, opt Options) ([]Outcome, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, len(seeds))
	var (
		mu       sync.Mutex
		outcomes []Outcome
		firstErr error
		wg       sync.WaitGroup
	)
	record := func(o *Outcome, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else if o != nil {
			outcomes = append(outcomes, *o)
			if opt.Done != nil {
				opt.Done(*o)
			}
		}
	}
	next := make(chan uint64)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker writes a run's folder while it simulates the
			// next seed: writing is mostly waiting for the disk (every file
			// is synced), which the next run's computing hides. One write
			// at a time per worker, so at most one finished result waits.
			var writing chan struct{}
			for seed := range next {
				sc, resolved := sc, resolved
				var err error
				if opt.ScenarioFor != nil {
					if sc, resolved, err = opt.ScenarioFor(seed); err != nil {
						err = SetupError{fmt.Errorf("seed %d: %w", seed, err)}
					}
				}
				var res *sim.Result
				if err == nil {
					res, err = Simulate(ctx, sc, seed, opt)
				}
				if writing != nil {
					<-writing
				}
				if err != nil || res == nil {
					record(nil, err)
					writing = nil
					continue
				}
				writing = make(chan struct{})
				go func(done chan struct{}) {
					defer close(done)
					record(write(res, resolved, seed, dirFor(seed), opt))
				}(writing)
			}
			if writing != nil {
				<-writing
			}
		}()
	}
feed:
	for _, s := range seeds {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		select {
		case next <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].Seed < outcomes[j].Seed })
	if firstErr != nil {
		return outcomes, firstErr
	}
	return outcomes, ctx.Err()
}

// Simulate runs a single seed as Seeds runs it (opt's engine, base
// folder, Infections, Progress and Configure), without writing anything:
// for sweeps and calibrations, which read a run's summary and series. An
// interrupted run returns nil, nil; a scenario the engine refuses, a
// SetupError.
func Simulate(ctx context.Context, sc *scenario.Scenario, seed uint64, opt Options) (*sim.Result, error) {
	so := sim.Options{Engine: opt.Engine, BaseDir: opt.BaseDir, NoInfections: !opt.Infections}
	if opt.Progress != nil {
		so.Progress = func(p sim.Progress) { opt.Progress(seed, p) }
	}
	if opt.Configure != nil {
		opt.Configure(seed, &so)
	}
	res, err := sim.Run(ctx, sc, seed, so)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil, nil // stopped during the setup: nothing to keep
	}
	if err != nil {
		return nil, SetupError{err}
	}
	if res.Interrupted {
		return nil, nil
	}
	return res, nil
}

// write writes the results folder of one finished run.
func write(res *sim.Result, resolved []byte, seed uint64, dir string, opt Options) (*Outcome, error) {
	if err := report.WriteRunWith(dir, res, resolved, opt.Version, report.Contents{Infections: opt.Infections}); err != nil {
		return nil, fmt.Errorf("seed %d: %w", seed, err)
	}
	if opt.Keep != nil {
		opt.Keep(seed, res)
	}
	return &Outcome{Seed: seed, Dir: dir, Summary: report.NewSummary(res, opt.Version)}, nil
}

package study

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/param"
	"wormwatch/scenario"
	"wormwatch/sensor"
	"wormwatch/sim"
)

// Config is what a study runs.
type Config struct {
	// Counts are the members per pool (1, 5, 20 by default); the run has
	// as many members as the largest.
	Counts []int
	// Slash24 is the /24s each member watches besides its /16.
	Slash24 int
	// Seeds are the runs (each with its own placement of the blocks).
	Seeds []uint64
	// After are the times after an alarm at which a series' estimates of
	// N and K are read (0 is the alarm's interval itself).
	After []time.Duration
	// Forecast are the filter's options (the defaults of
	// forecast.DefaultSettings when zero); SpaceBits is the scenario's.
	Forecast forecast.Options
	// Workers are the runs at once (0: one per CPU).
	Workers int
	// BaseDir is the folder the scenario's relative paths are read from.
	BaseDir string
	// Done, if set, is called after each seed with its wall time.
	Done func(seed uint64, wall time.Duration)
}

// MaxAfter is the most times after an alarm a study reads.
const MaxAfter = 16

// Check returns an error for a configuration a study cannot run.
func (c *Config) Check() error {
	switch {
	case len(c.Counts) == 0:
		return errors.New("no member counts")
	case len(c.Seeds) == 0:
		return errors.New("no seeds")
	case len(c.After) == 0 || len(c.After) > MaxAfter:
		return fmt.Errorf("%d times after the alarm: want 1 to %d", len(c.After), MaxAfter)
	case c.Slash24 < 0 || c.Slash24 > MaxSlash24:
		return fmt.Errorf("%d /24s per member: want 0 to %d", c.Slash24, MaxSlash24)
	}
	for i, n := range c.Counts {
		if n < 1 || n > MaxMembers {
			return fmt.Errorf("%d members: want 1 to %d", n, MaxMembers)
		}
		if slices.Contains(c.Counts[:i], n) {
			return fmt.Errorf("%d members is given twice", n)
		}
	}
	for _, d := range c.After {
		if d < 0 || d > forecast.MaxSpan {
			return fmt.Errorf("%s after the alarm: want 0 to %s", d, forecast.MaxSpan)
		}
	}
	return nil
}

// members returns the members of each run: the largest count.
func (c *Config) members() int { return slices.Max(c.Counts) }

// Run runs the study: for each seed, the scenario with the members'
// telescopes (capturing every probe, over the whole run) in place of its
// own sensors, then the filter on each member's series and on each pool
// of each count. Seeds run on Workers goroutines; the study does not
// depend on how many. When ctx is cancelled Run returns its error.
func Run(ctx context.Context, sc *scenario.Scenario, cfg Config) (*Study, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg.Counts = slices.Sorted(slices.Values(cfg.Counts))
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	seeds := make([]*Seed, len(cfg.Seeds))
	errs := make([]error, len(cfg.Seeds))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(cfg.Seeds)) {
		wg.Go(func() {
			for i := range next {
				start := time.Now()
				seeds[i], errs[i] = runSeed(ctx, sc, cfg, cfg.Seeds[i])
				if errs[i] == nil && cfg.Done != nil {
					cfg.Done(cfg.Seeds[i], time.Since(start))
				}
			}
		})
	}
feed:
	for i := range cfg.Seeds {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return newStudy(sc, cfg, seeds), nil
}

// runSeed places the members, runs the scenario with their telescopes
// and analyses their series.
func runSeed(ctx context.Context, sc *scenario.Scenario, cfg Config, seed uint64) (*Seed, error) {
	sp := spaceOf(sc)
	members, err := Place(seed, sp, cfg.members(), cfg.Slash24)
	if err != nil {
		return nil, err
	}
	res, err := sim.Run(ctx, withMembers(sc, members), seed, sim.Options{BaseDir: cfg.BaseDir})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, SetupError{err}
	}
	if res.Interrupted {
		return nil, ctx.Err()
	}
	return analyse(ctx, res, members, cfg)
}

// withMembers returns a copy of the scenario whose sensors are the
// members' telescopes, each capturing every probe over the whole run.
func withMembers(sc *scenario.Scenario, members []Member) *scenario.Scenario {
	run := *sc
	run.Sensors = nil
	capture := param.Duration(sc.End.Sub(sc.Start))
	for _, m := range members {
		for j, p := range m.Prefixes {
			run.Sensors = append(run.Sensors, sensor.Params{Name: m.SensorName(j), Kind: sensor.KindTelescope, Prefix: p,
				Capture: capture, RecordMax: sensor.DefaultRecordMax})
		}
	}
	return &run
}

// SetupError is a run the engine could not set up from the scenario (the
// input's problem, as runner.SetupError).
type SetupError struct{ Err error }

// Error returns the engine's message.
func (e SetupError) Error() string { return e.Err.Error() }

// Unwrap returns the engine's error.
func (e SetupError) Unwrap() error { return e.Err }

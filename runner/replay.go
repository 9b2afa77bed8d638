package runner

import (
	"context"
	"io"
	"path/filepath"

	"wormwatch/chart"
	"wormwatch/internal/atomicfile"
	"wormwatch/page"
	"wormwatch/replay"
	"wormwatch/results"
	"wormwatch/scenario"
)

// ReplayOptions control Replay.
type ReplayOptions struct {
	Seeds   []uint64
	Out     string // the replay folder, claimed by the caller (atomicfile.Claim)
	Engine  string // sim.EngineFast or sim.EngineProbe
	BaseDir string // folder the scenario's relative paths are read from
	Workers int    // runs at once; 0 means one per CPU
	Version string
	// Infections writes infections.parquet in each seed's folder (Options).
	Infections bool
	Progress   func(done, total int) // after each seed, if set
	// Remote, if set, runs the seeds instead of this machine's cores
	// (scale.ReplaySeeds: workers pulling from NATS JetStream); it must
	// write the seed folders and call the hooks as the local runs do.
	Remote replay.SeedsFunc
	// ScenarioFor, if set, gives each seed a scenario of its own
	// (Options.ScenarioFor) in the local runs; a Remote must do the same
	// itself (scale.ReplayOptions.ScenarioFor).
	ScenarioFor func(seed uint64) (*scenario.Scenario, []byte, error)
	// Posterior and PosteriorKeys name, for the report, the calibration
	// ScenarioFor draws from (replay.Options).
	Posterior     string
	PosteriorKeys []string
}

// Replay runs a replay on this machine's cores: every seed's run into its
// folder Out/seed-NNNN (Seeds), the ensemble's bands and validation
// (package replay: bands.csv, validation.json), then its figures (plots/)
// and report.html. When ctx is cancelled the finished seeds' folders stay
// and nothing else is written.
func Replay(ctx context.Context, sc *scenario.Scenario, resolved []byte, opt ReplayOptions) (*results.Replay, error) {
	local := func(ctx context.Context, seeds []uint64, h replay.Hooks) error {
		dirFor := func(s uint64) string { return filepath.Join(opt.Out, results.SeedDirName(s)) }
		_, err := Seeds(ctx, sc, resolved, seeds, dirFor, Options{
			Engine: opt.Engine, BaseDir: opt.BaseDir, Workers: opt.Workers, Version: opt.Version, Infections: opt.Infections,
			Configure: h.Configure, Keep: h.Keep, Done: func(o Outcome) { h.Done(o.Seed) }, ScenarioFor: opt.ScenarioFor,
		})
		return err
	}
	if opt.Remote != nil {
		local = opt.Remote
	}
	r, err := replay.Run(ctx, sc, resolved, replay.Options{Seeds: opt.Seeds, Out: opt.Out, Version: opt.Version, Progress: opt.Progress, Posterior: opt.Posterior, PosteriorKeys: opt.PosteriorKeys}, local)
	if err != nil {
		return nil, err
	}
	figs, err := chart.All(r)
	if err != nil {
		return nil, err
	}
	if err := page.WriteFigures(filepath.Join(opt.Out, results.PlotsDir), figs); err != nil {
		return nil, err
	}
	err = atomicfile.Write(filepath.Join(opt.Out, results.ReportFile), func(w io.Writer) error { return page.Write(w, r, figs) })
	if err != nil {
		return nil, err
	}
	return r, nil
}

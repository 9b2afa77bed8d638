package scale

import (
	"context"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"

	"wormwatch/internal/atomicfile"
	"wormwatch/replay"
	"wormwatch/results"
	"wormwatch/sim"
)

// ReplayOptions are what ReplaySeeds needs besides the scenario.
type ReplayOptions struct {
	Out        string // the replay folder: one seed folder per seed inside
	Name       string // the scenario's file name, for messages
	Engine     string // sim.EngineFast or sim.EngineProbe
	BaseDir    string // folder a relative population.file is read from (on the workers)
	Version    string
	Infections bool // write each seed's infections.parquet
	// Block is how many seeds one task holds; 0 means 1 (the finest
	// balance between workers; a task costs a few milliseconds).
	Block int
	// ScenarioFor, if set, gives each seed its own resolved scenario
	// (replay --posterior: runner.Options.ScenarioFor's TOML), which its
	// task carries (Seed.Scenario). Its error fails the replay before
	// anything is published.
	ScenarioFor func(seed uint64) ([]byte, error)
}

// ReplaySeeds returns a replay.SeedsFunc that runs the seeds on the
// workers: each block of Block seeds (fewer when the seeds' own scenarios
// would make the task larger than half the server's largest message) is a
// task carrying the resolved
// scenario and, per seed, the engine options the hooks' Configure set
// (the snapshots of the first seed) and, with opt.ScenarioFor, the seed's
// own resolved scenario. As each seed's result comes in, its
// folder is written whole (atomicfile.WriteDir) under opt.Out, then Keep
// and Done are called.
func ReplaySeeds(c *Client, resolved []byte, opt ReplayOptions) replay.SeedsFunc {
	return func(ctx context.Context, seeds []uint64, h replay.Hooks) error {
		block := max(opt.Block, 1)
		// Seeds that carry their own scenario make a task grow with each:
		// a task is also closed before it would outgrow half the server's
		// largest message (1 MB by default).
		budget := int64(math.MaxInt64)
		if opt.ScenarioFor != nil && c.Conn != nil && c.Conn.MaxPayload() > 0 {
			budget = c.Conn.MaxPayload() / 2
		}
		var job Job
		var t *Task
		var size int64
		for _, s := range seeds {
			o := sim.Options{Engine: opt.Engine, BaseDir: opt.BaseDir, NoInfections: !opt.Infections}
			if h.Configure != nil {
				h.Configure(s, &o)
			}
			seed := Seed{Seed: s, Snapshots: o.Snapshots}
			if opt.ScenarioFor != nil {
				var err error
				if seed.Scenario, err = opt.ScenarioFor(s); err != nil {
					return err
				}
			}
			grow := jsonSize(seed.Scenario) + 32*int64(len(seed.Snapshots)) + 256
			if t == nil || len(t.Seeds) == block || (size+grow > budget && len(t.Seeds) > 0) {
				job.Tasks = append(job.Tasks, Task{Scenario: resolved, Name: opt.Name, BaseDir: opt.BaseDir, Engine: opt.Engine,
					Infections: opt.Infections, Version: opt.Version})
				t = &job.Tasks[len(job.Tasks)-1]
				size = jsonSize(resolved) + 1024
			}
			t.Seeds = append(t.Seeds, seed)
			size += grow
		}
		return c.Run(ctx, job, func(r *SeedResult) error {
			if err := WriteSeedDir(filepath.Join(opt.Out, results.SeedDirName(r.Seed)), r.Files); err != nil {
				return err
			}
			if h.Keep != nil {
				h.Keep(r.Seed, r.Result)
			}
			if h.Done != nil {
				h.Done(r.Seed)
			}
			return nil
		})
	}
}

// jsonSize is the size of b in a task's JSON (base64).
func jsonSize(b []byte) int64 { return int64(len(b)+2) / 3 * 4 }

// WriteSeedDir writes a seed's results folder from its files, whole or not
// at all (atomicfile.WriteDir).
func WriteSeedDir(dir string, files []File) error {
	return atomicfile.WriteDir(dir, func(root *os.Root) error {
		for _, f := range files {
			if d := path.Dir(f.Name); d != "." {
				if err := atomicfile.MkdirAll(root, d); err != nil {
					return err
				}
			}
			err := atomicfile.Create(root, f.Name, func(w io.Writer) error {
				_, err := w.Write(f.Data)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

package sweep

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"wormwatch/report"
	"wormwatch/scenario"
	"wormwatch/sim"
)

// Plan is a sweep ready to run: its points, each with its scenario loaded
// (the sweep file's set, then the point's values, as --set assignments).
type Plan struct {
	Spec     *Spec
	Scenario string // the scenario as loaded: a built-in's name or a path
	BaseDir  string // folder the scenario's relative paths are read from ("" for a built-in)
	Points   []Point
	Seeds    []uint64
	loaded   []loadedScenario
}

type loadedScenario struct {
	sc       *scenario.Scenario
	resolved []byte
}

// NewPlan checks the sweep against its scenario and loads the scenario of
// every point. A scenario that cannot be loaded, a set or a factor key the
// scenario does not take, or a point whose values do not fit together is
// an *Error naming the sweep file's line and field, with the scenario's
// message.
func NewPlan(s *Spec) (*Plan, error) {
	p := &Plan{Spec: s}
	var err error
	if _, _, p.Scenario, p.BaseDir, err = s.Load(s.File, s.fail); err != nil {
		return nil, err
	}
	for i := range s.Seeds {
		p.Seeds = append(p.Seeds, s.FirstSeed+uint64(i))
	}
	// Each factor alone, at each of its values or at both bounds, so that a
	// key the scenario does not take is reported at its factor.
	for i, f := range s.Factors {
		var fields, texts []string
		if s.Design == DesignGrid {
			for _, v := range f.Values {
				t, _ := valueText(v)
				fields, texts = append(fields, "values"), append(texts, t)
			}
		} else {
			lo, _ := f.at(0)
			hi, _ := f.at(1)
			fields, texts = []string{"min", "max"}, []string{lo, hi}
		}
		for j, t := range texts {
			if _, _, err := scenario.Load(p.Scenario, append(append([]string(nil), s.Set...), f.Key+"="+t)); err != nil {
				field := fields[j]
				if KeyProblem(err) {
					field = "key"
				}
				return nil, s.failFactor(i, field, "%v", err)
			}
		}
	}
	pts, err := s.DesignPoints()
	if err != nil {
		return nil, s.fail("design", "%v", err)
	}
	p.Points = pts
	p.loaded = make([]loadedScenario, len(pts))
	for k, pt := range pts {
		sc, resolved, err := scenario.Load(p.Scenario, append(append([]string(nil), s.Set...), pt.Sets(s.Factors)...))
		if err != nil {
			return nil, s.pointError(p.Scenario, k, pt, err)
		}
		if s.Engine == sim.EngineProbe && sc.Space.Bits > sim.MaxProbeEngineBits {
			return nil, s.fail("engine", "the probe engine takes spaces of at most 2^%d addresses; point %d has 2^%d (set space.bits)", sim.MaxProbeEngineBits, k+1, sc.Space.Bits)
		}
		p.loaded[k] = loadedScenario{sc, resolved}
	}
	return p, nil
}

// pointError reports a point whose scenario cannot be loaded: at the first
// factor whose value alone is refused, or else (values that do not fit
// together) at the first [[factor]] table.
func (s *Spec) pointError(scen string, k int, pt Point, err error) error {
	sets := pt.Sets(s.Factors)
	for i, a := range sets {
		if _, _, e := scenario.Load(scen, append(append([]string(nil), s.Set...), a)); e != nil {
			return s.failFactor(i, "key", "point %d: %v", k+1, e)
		}
	}
	return &Error{File: s.File, Line: s.lines["factor.0"], Field: "factor", Msg: fmt.Sprintf("point %d (%s): %v", k+1, strings.Join(sets, " "), err)}
}

// KeyProblem tells an error of a --set whose key the scenario does not
// have (reported at the factor's key) from one whose value it refuses (at
// its values), by the messages of package param's key lookup.
func KeyProblem(err error) bool {
	var se *scenario.Error
	if !errors.As(err, &se) {
		return false
	}
	for _, m := range []string{"unknown key", "has no elements to set", "is out of range (0 to", "has no element named", "so it has no key"} {
		if strings.Contains(se.Msg, m) {
			return true
		}
	}
	return false
}

// Runs returns the number of runs of the plan: points × seeds.
func (p *Plan) Runs() int { return len(p.Points) * len(p.Seeds) }

// Job is one run of a sweep: a point's scenario for one seed.
type Job struct {
	Scenario *scenario.Scenario
	Resolved []byte // the scenario's resolved TOML (scenario.toml of the run's folder)
	Seed     uint64
	Engine   string // sim.EngineFast or sim.EngineProbe
	BaseDir  string // folder the scenario's relative paths are read from
	// Keep must be called with the finished run's result (it must not keep
	// the infections).
	Keep func(res *sim.Result)
}

// RunFunc runs one Job and returns the run's summary. The command line
// passes runner.Simulate for the job's one seed, which writes nothing (the
// sweep runs Workers jobs at once); an error that is the input's fault
// should be a runner.SetupError. Like replay's SeedsFunc, it keeps this package free of
// the runner (and lets another runner, on other machines, take its place).
type RunFunc func(ctx context.Context, job Job) (report.Summary, error)

// Options control Run.
type Options struct {
	Run      RunFunc               // runs one job
	Workers  int                   // jobs at once; 0 means one per CPU
	Version  string                // the program's version, recorded in sweep.json
	Progress func(done, total int) // after each run, if set
	// Only, if set, runs only the runs it accepts (point and seed
	// indices): a shard of the sweep (sweep --shard i/n); the others'
	// Values stay nil.
	Only func(point, seed int) bool
}

// Result is what a sweep found: Values[point][seed][output], in the order
// of Plan.Points, Plan.Seeds and Spec.Outputs (NaN: no value).
type Result struct {
	Plan    *Plan
	Values  [][][]float64
	version string
}

// Run runs every point of the plan for every seed through opt.Run (the
// command line: runner.Simulate, the path of `wormwatch run --seeds`),
// Workers runs at once. Each run is
// a pure function of its scenario and seed, so the result does not depend
// on Workers. When ctx is cancelled Run stops and returns ctx's error.
func Run(ctx context.Context, p *Plan, opt Options) (*Result, error) {
	res := &Result{Plan: p, Values: make([][][]float64, len(p.Points)), version: opt.Version}
	for k := range res.Values {
		res.Values[k] = make([][]float64, len(p.Seeds))
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	total := p.Runs()
	if opt.Only != nil {
		total = 0
		for k := range p.Points {
			for j := range p.Seeds {
				if opt.Only(k, j) {
					total++
				}
			}
		}
	}
	type task struct{ point, seed int }
	tasks := make(chan task)
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(workers, total) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				v, err := p.runOne(ctx, t.point, t.seed, opt)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				if err == nil {
					res.Values[t.point][t.seed] = v
					done++
					if opt.Progress != nil {
						opt.Progress(done, total)
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for k := range p.Points {
		for j := range p.Seeds {
			if opt.Only != nil && !opt.Only(k, j) {
				continue
			}
			select {
			case tasks <- task{k, j}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(tasks)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// Join makes the Result of a sweep whose runs were made elsewhere (the
// shards of sweep --shard, joined by merge): values[point][seed] are the
// outputs, in the order of Spec.Outputs, of every run of the plan. It is
// an error if one is missing or of the wrong length.
func Join(p *Plan, values [][][]float64, version string) (*Result, error) {
	if len(values) != len(p.Points) {
		return nil, fmt.Errorf("%d points, want %d", len(values), len(p.Points))
	}
	for k := range values {
		if len(values[k]) != len(p.Seeds) {
			return nil, fmt.Errorf("point %d: %d seeds, want %d", k+1, len(values[k]), len(p.Seeds))
		}
		for j, v := range values[k] {
			if len(v) != len(p.Spec.Outputs) {
				return nil, fmt.Errorf("point %d, seed %d: no run, or %d outputs for %d", k+1, p.Seeds[j], len(v), len(p.Spec.Outputs))
			}
		}
	}
	return &Result{Plan: p, Values: values, version: version}, nil
}

// runOne runs one point for one seed and returns its outputs.
func (p *Plan) runOne(ctx context.Context, point, seedIdx int, opt Options) ([]float64, error) {
	l := p.loaded[point]
	seed := p.Seeds[seedIdx]
	var peak int64
	sum, err := opt.Run(ctx, Job{
		Scenario: l.sc, Resolved: l.resolved, Seed: seed, Engine: p.Spec.Engine, BaseDir: p.BaseDir,
		Keep: func(r *sim.Result) {
			for _, b := range r.Bins {
				peak = max(peak, b.Infected)
			}
		},
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: point %d (%s), seed %d: %w", p.Spec.File, point+1, strings.Join(p.Points[point].Sets(p.Spec.Factors), " "), seed, err)
	}
	rv := runValues{summary: sum, peakInfected: peak}
	v := make([]float64, len(p.Spec.Outputs))
	for i, name := range p.Spec.Outputs {
		v[i] = outputs[name].of(rv)
	}
	return v, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/internal/version"
	"wormwatch/results"
	"wormwatch/runner"
	"wormwatch/scenario"
	"wormwatch/sim"
	"wormwatch/sim/reference"
)

// benchCase is one whole-run benchmark. Each runs in a child process of its
// own so that its peak memory is its own.
type benchCase struct {
	name    string
	what    string
	scen    string
	sets    []string
	engine  string
	runs    int  // repetitions (seeds 1..runs)
	workers int  // for batch cases: seeds at once
	batch   int  // seeds in a batch case (0: single runs)
	write   bool // also write the results folder
	replay  bool // a whole replay with its report (batch seeds)
	// reference runs sim/reference on the scenario's plain case instead
	// of the engine (batch seeds, nothing written).
	reference bool
	// unlumped runs the engine host by host where it would lump the hosts
	// into counts (sim.Options.Unlumped).
	unlumped bool
}

// plainSets make fast-uniform issue 11's plain case: 360,000 hosts placed
// uniformly in 2^32, uniform scanning at 7 probes/s, one initial host, no
// defences, 8 hours.
var plainSets = []string{"worm.rate.fixed=7", "population.placement=uniform", "end=2001-07-19T18:00:00Z"}

var benchCases = []benchCase{
	{name: "codered2", what: "codered2-july19, 2^32, 360,000 hosts, 14 h, 1-min bins (engine only)", scen: "codered2-july19", engine: sim.EngineFast, runs: 5},
	{name: "codered2-write", what: "the same, with the results folder written", scen: "codered2-july19", engine: sim.EngineFast, runs: 5, write: true},
	{name: "uniform-10M", what: "10,000,000 hosts, uniform placement and scanning, 2^32 (engine only)", scen: "codered2-july19", sets: []string{"population.hosts=10000000", "population.placement=uniform"}, engine: sim.EngineFast, runs: 1},
	{name: "oracle-24-fast", what: "codered2-july19 scaled to 2^24 (1,406 hosts), fast engine", scen: "codered2-july19", sets: []string{"space.bits=24", "population.hosts=1406"}, engine: sim.EngineFast, runs: 5},
	{name: "oracle-24-probe", what: "the same, per-probe engine", scen: "codered2-july19", sets: []string{"space.bits=24", "population.hosts=1406"}, engine: sim.EngineProbe, runs: 1},
	{name: "seeds-1-worker", what: "codered2-july19, 20 seeds written, 1 worker", scen: "codered2-july19", engine: sim.EngineFast, batch: 20, workers: 1, write: true},
	{name: "seeds-2-workers", what: "codered2-july19, 20 seeds written, 2 workers", scen: "codered2-july19", engine: sim.EngineFast, batch: 20, workers: 2, write: true},
	{name: "summer", what: "codered-2001, one seed of the whole summer, all variants, defences, /8 telescope (engine only)", scen: "codered-2001", engine: sim.EngineFast, runs: 3},
	{name: "summer-write", what: "the same, with the results folder written", scen: "codered-2001", engine: sim.EngineFast, runs: 3, write: true},
	{name: "replay-20", what: "replay codered-2001: 20 seeds, 2 workers, bands, validation, plots and report.html", scen: "codered-2001", engine: sim.EngineFast, batch: 20, workers: 2, replay: true},
	{name: "plain", what: "the plain case: fast-uniform, 360,000 hosts uniform in 2^32, 7 probes/s, 8 h; 20 seeds written as run --seeds writes them, 1 worker (lumped into counts), 5 times", scen: "fast-uniform", sets: plainSets, engine: sim.EngineFast, runs: 5, batch: 20, workers: 1, write: true},
	{name: "plain-host", what: "the same 20 seeds run host by host (sim.Options.Unlumped), once", scen: "fast-uniform", sets: plainSets, engine: sim.EngineFast, batch: 20, workers: 1, write: true, unlumped: true},
	{name: "plain-reference", what: "the same 20 seeds by sim/reference (exact, Gillespie steps on infections only; writes nothing), 5 times", scen: "fast-uniform", sets: plainSets, runs: 5, batch: 20, reference: true},
}

type benchResult struct {
	Wall     []float64 `json:"wall_seconds"`
	Probes   int64     `json:"probes"`
	Ever     int64     `json:"ever_infected"`
	MaxRSSMB float64   `json:"max_rss_mb"`
	CPU      float64   `json:"-"` // the child's user and system CPU seconds (rusage)
}

func newBenchCmd() *cobra.Command {
	var only []string
	var child, scratch string
	c := &cobra.Command{
		Use:   "bench",
		Short: "Time whole runs (the figures of BENCHMARKS.md) and print a Markdown table",
		Long: `Run the whole-run benchmarks: the Code Red v2 outbreak at full scale (engine only and
with its results written), 10 million hosts, the per-probe oracle against the fast engine
at 2^24 addresses, 20 seeds on one and on two workers, and issue 11's plain case (20 seeds
written as run --seeds writes them) beside the same seeds by sim/reference, the minimal
exact simulator, with the ratio of their times. Each case runs in a child process, so the
peak memory reported is that case's own. Takes a few minutes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if child != "" {
				return benchChild(cmd.OutOrStdout(), child, scratch)
			}
			return benchAll(cmd.OutOrStdout(), cmd.ErrOrStderr(), only, scratch)
		},
	}
	c.Flags().StringSliceVar(&only, "only", nil, "run only these cases: "+benchNames())
	// Results are written where users write them (run's --out is under the
	// working folder by default), not to the system's temporary folder,
	// which on some machines costs far more per file created: on the
	// 2-core VMs of BENCHMARKS.md about 1 ms against 22 us in /work.
	c.Flags().StringVar(&scratch, "scratch", ".", "folder under which the cases write their results (a hidden temporary folder, removed afterwards)")
	c.Flags().StringVar(&child, "child", "", "internal: run one case in this process")
	c.Flags().MarkHidden("child")
	return c
}

func benchNames() string {
	var n []string
	for _, b := range benchCases {
		n = append(n, b.name)
	}
	return strings.Join(n, ", ")
}

func benchAll(w, log io.Writer, only []string, scratch string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, o := range only {
		want[o] = true
	}
	results := map[string]benchResult{}
	host, _ := os.Hostname()
	fmt.Fprintf(w, "wormwatch %s bench, %s, %s/%s, %d CPUs (%s), %s\n\n", version.Version, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), host)
	fmt.Fprintln(w, "| case | what | runs | wall s (median) | wall s (min) | simulated probes | probes per wall s | peak RSS MB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, b := range benchCases {
		if len(want) > 0 && !want[b.name] {
			continue
		}
		fmt.Fprintf(log, "bench %s ...\n", b.name)
		cmd := exec.Command(self, "bench", "--child", b.name, "--scratch", scratch)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("bench %s: %w", b.name, err)
		}
		var r benchResult
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			return fmt.Errorf("bench %s: %w", b.name, err)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSSMB = float64(ru.Maxrss) / 1024 // Linux reports KiB
			r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
		results[b.name] = r
		sort.Float64s(r.Wall)
		med := r.Wall[len(r.Wall)/2]
		runs := len(r.Wall)
		if b.batch > 0 {
			runs = b.batch
		}
		probes, speed := fmt.Sprintf("%.4g", float64(r.Probes)/float64(len(r.Wall))), fmt.Sprintf("%.3g", float64(r.Probes)/sum(r.Wall))
		if b.reference {
			probes, speed = "-", "-" // the reference counts no probes
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.3f | %.3f | %s | %s | %.0f |\n", b.name, b.what, runs, med, r.Wall[0], probes, speed, r.MaxRSSMB)
	}
	if f, p := results["oracle-24-fast"], results["oracle-24-probe"]; len(f.Wall) > 0 && len(p.Wall) > 0 {
		fmt.Fprintf(w, "\nper-probe / fast engine wall time at 2^24: %.0f x\n", median(p.Wall)/median(f.Wall))
	}
	if a, b := results["seeds-1-worker"], results["seeds-2-workers"]; len(a.Wall) > 0 && len(b.Wall) > 0 {
		fmt.Fprintf(w, "20 seeds, speed-up from 1 to 2 workers: %.2f x\n", median(a.Wall)/median(b.Wall))
	}
	if e, r := results["plain"], results["plain-reference"]; len(e.Wall) > 0 && len(r.Wall) > 0 {
		ec, rc := e.CPU/float64(len(e.Wall)), r.CPU/float64(len(r.Wall)) // per repetition, whole child process
		fmt.Fprintf(w, "plain case, 20 seeds: engine with its files %.3f s (%.2f s CPU), exact reference %.3f s (%.2f s CPU): %.1f x (%.1f x in CPU)\n",
			median(e.Wall), ec, median(r.Wall), rc, median(e.Wall)/median(r.Wall), ec/rc)
		if h := results["plain-host"]; len(h.Wall) > 0 {
			hc := h.CPU / float64(len(h.Wall))
			fmt.Fprintf(w, "plain case host by host: %.3f s (%.2f s CPU): %.1f x the reference (%.1f x in CPU)\n",
				median(h.Wall), hc, median(h.Wall)/median(r.Wall), hc/rc)
		}
	}
	return nil
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

func median(x []float64) float64 {
	y := append([]float64(nil), x...)
	sort.Float64s(y)
	return y[len(y)/2]
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}

func benchChild(w io.Writer, name, scratch string) error {
	var b *benchCase
	for i := range benchCases {
		if benchCases[i].name == name {
			b = &benchCases[i]
		}
	}
	if b == nil {
		return usagef("no bench case %q (cases: %s)", name, benchNames())
	}
	sc, resolved, err := scenario.Load(b.scen, b.sets)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(scratch, ".wormwatch-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if b.reference {
		return benchReference(w, sc, b.runs, b.batch)
	}
	var r benchResult
	if b.replay {
		seeds := make([]uint64, b.batch)
		for i := range seeds {
			seeds[i] = uint64(i + 1)
		}
		start := time.Now()
		out := filepath.Join(tmp, "replay")
		if _, err := runner.Replay(context.Background(), sc, resolved, runner.ReplayOptions{Seeds: seeds, Out: out, Workers: b.workers, Version: version.Version}); err != nil {
			return err
		}
		r.Wall = []float64{time.Since(start).Seconds()}
		return json.NewEncoder(w).Encode(r)
	}
	if b.batch > 0 {
		seeds := make([]uint64, b.batch)
		for i := range seeds {
			seeds[i] = uint64(i + 1)
		}
		opt := runner.Options{Engine: b.engine, Workers: b.workers, Version: version.Version}
		if b.unlumped {
			opt.Configure = func(_ uint64, o *sim.Options) { o.Unlumped = true }
		}
		for rep := range max(b.runs, 1) {
			start := time.Now()
			outs, err := runner.Seeds(context.Background(), sc, resolved, seeds, func(s uint64) string {
				return filepath.Join(tmp, fmt.Sprintf("rep%d", rep), results.SeedDirName(s))
			}, opt)
			if err != nil {
				return err
			}
			r.Wall = append(r.Wall, time.Since(start).Seconds())
			for _, o := range outs {
				r.Probes += o.Summary.SimulatedProbes
			}
		}
	} else {
		for i := 1; i <= b.runs; i++ {
			start := time.Now()
			if b.write {
				outs, err := runner.Seeds(context.Background(), sc, resolved, []uint64{uint64(i)}, func(s uint64) string {
					return filepath.Join(tmp, results.SeedDirName(s))
				}, runner.Options{Engine: b.engine, Workers: 1, Version: version.Version, Infections: true}) // as run writes one seed
				if err != nil {
					return err
				}
				r.Probes += outs[0].Summary.SimulatedProbes
				r.Ever = outs[0].Summary.EverInfected
			} else {
				res, err := sim.Run(context.Background(), sc, uint64(i), sim.Options{Engine: b.engine})
				if err != nil {
					return err
				}
				r.Probes += res.SimulatedProbes
				r.Ever = res.EverInfected
			}
			r.Wall = append(r.Wall, time.Since(start).Seconds())
		}
	}
	return json.NewEncoder(w).Encode(r)
}

// benchReference runs sim/reference on the plain case of sc (its space,
// hosts, fixed rate and span) for seeds 1..n, runs times over (it takes a
// tenth of a second: once would be at the mercy of the scheduler).
func benchReference(w io.Writer, sc *scenario.Scenario, runs, n int) error {
	p := reference.Plain{Space: math.Exp2(float64(sc.Space.Bits)), Hosts: sc.Population.Hosts, Rate: sc.Worms[0].Rate.Fixed, Horizon: sc.End.Sub(sc.Start).Seconds()}
	if err := p.Check(); err != nil {
		return err
	}
	var r benchResult
	for range runs {
		start := time.Now()
		r.Ever = 0
		for s := 1; s <= n; s++ {
			r.Ever += int64(len(p.Run(reference.NewRand(uint64(s)))))
		}
		r.Wall = append(r.Wall, time.Since(start).Seconds())
	}
	return json.NewEncoder(w).Encode(r)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/thousands"
	"wormwatch/internal/version"
	"wormwatch/results"
	"wormwatch/runner"
	"wormwatch/scenario"
	"wormwatch/sim"
)

// defaultSeed is the seed of a run when none is given; it is printed.
const defaultSeed = 1

type runFlags struct {
	seed    uint64
	seeds   string
	out     string
	sets    []string
	engine  string
	workers int
	quiet   bool
	infect  bool // --infections
	host    bool // --host-by-host
}

func newRunCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run NAME|FILE",
		Short: "Simulate an outbreak and write its results folder",
		Long: `Simulate an outbreak of a built-in scenario (see 'wormwatch scenario list') or a
scenario file, and write its results folder (see docs/output.md).

A run is a pure function of (scenario, seed). --seeds runs many seeds at once,
in parallel, one folder per seed under --out, without infections.parquet unless --infections.`,
		Example: `  wormwatch run codered2-july19 --seed 7 --out runs/a
  wormwatch run my.toml --set worm.rate.threads=300 --set population.hosts=1000000 --out runs/b
  wormwatch run codered2-july19 --engine probe --set space.bits=20 --set population.hosts=1000
  wormwatch run codered2-july19 --seeds 1-100 --out runs/many`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), cmd, args[0], f)
		},
	}
	fl := c.Flags()
	fl.Uint64Var(&f.seed, "seed", defaultSeed, "seed of the run")
	fl.StringVar(&f.seeds, "seeds", "", "many seeds: a count (20 = 1-20), a range (1-100) or a list (1,5,9)")
	fl.StringVar(&f.out, "out", "", "results folder (default: a new folder under ./runs); must not exist")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key: dotted.key=value (repeatable)")
	fl.StringVar(&f.engine, "engine", sim.EngineFast, "engine: fast (thinned, exact in distribution) or probe (every probe; at most 2^24 addresses)")
	fl.IntVar(&f.workers, "workers", 0, "runs at once with --seeds (default: one per CPU)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	fl.BoolVar(&f.infect, "infections", false, "with --seeds, also write each seed's infections.parquet (a single run always writes it)")
	fl.BoolVar(&f.host, "host-by-host", false, "follow every host one by one even where the hosts are interchangeable and the fast engine would count them (slower; the same process in distribution, for comparison)")
	return c
}

// parseSeeds reads "20" (seeds 1 to 20), "5-9" or "1,4,7". A seed given
// twice is an error: both runs would be written to the same folder.
func parseSeeds(s string) ([]uint64, error) {
	seeds, err := parseSeedList(s)
	if err != nil {
		return nil, err
	}
	seen := make(map[uint64]bool, len(seeds))
	for _, n := range seeds {
		if seen[n] {
			return nil, fmt.Errorf("--seeds %s: seed %d is given twice (each seed is written to its own folder seed-%04d)", s, n, n)
		}
		seen[n] = true
	}
	return seeds, nil
}

// maxSeeds bounds the seeds of one command (each is a run folder).
const maxSeeds = 1_000_000

func parseSeedList(s string) ([]uint64, error) {
	var out []uint64
	add := func(lo, hi uint64) error {
		if hi-lo >= maxSeeds || uint64(len(out))+hi-lo+1 > maxSeeds {
			return fmt.Errorf("--seeds %s: more than %d seeds; at most %d at once", s, maxSeeds, maxSeeds)
		}
		for i := lo; i <= hi; i++ {
			out = append(out, i)
			if i == hi { // hi may be the largest uint64
				break
			}
		}
		return nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && !strings.ContainsAny(s, ",-+") {
		if n == 0 {
			return nil, fmt.Errorf("--seeds 0: want a count from 1 to %d", maxSeeds)
		}
		if n > maxSeeds {
			return nil, fmt.Errorf("--seeds %s: a count of %d seeds; at most %d at once", s, n, maxSeeds)
		}
		return out, add(1, n)
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if a, b, ok := strings.Cut(part, "-"); ok {
			lo, err1 := strconv.ParseUint(a, 10, 64)
			hi, err2 := strconv.ParseUint(b, 10, 64)
			if err1 != nil || err2 != nil || hi < lo {
				return nil, fmt.Errorf("--seeds: %q is not a range like 1-100 (two seeds, the first not above the second)", part)
			}
			if err := add(lo, hi); err != nil {
				return nil, err
			}
			continue
		}
		n, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds: %q is not a seed (want a count like 20, a range like 1-100 or a list like 1,5,9)", part)
		}
		if err := add(n, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// claimOut claims the results folder of a command (atomicfile.Claim): the
// folder given with --out, which must not exist, or else a new folder
// ./runs/<base>-<UTC time>, made unique if another command took that name
// in the same second.
func claimOut(flagOut, base string) (string, error) {
	if flagOut == "" {
		return atomicfile.ClaimNew(filepath.Join("runs", base+"-"+time.Now().UTC().Format("20060102-150405")))
	}
	if err := atomicfile.Claim(flagOut); err != nil {
		var ee *atomicfile.ExistsError
		if errors.As(err, &ee) {
			return "", usagef("--out %w", err)
		}
		return "", userWriteError(err)
	}
	return filepath.Clean(flagOut), nil
}

func runRun(ctx context.Context, cmd *cobra.Command, name string, f runFlags) error {
	sc, resolved, err := scenario.Load(name, f.sets)
	if err != nil {
		return err
	}
	if f.engine != sim.EngineFast && f.engine != sim.EngineProbe {
		return usagef("--engine %s: want fast or probe", f.engine)
	}
	if f.engine == sim.EngineProbe && sc.Space.Bits > sim.MaxProbeEngineBits {
		return usagef("--engine probe simulates every probe and takes spaces of at most 2^%d addresses; %s has 2^%d (add --set space.bits=%d, or use the fast engine)", sim.MaxProbeEngineBits, sc.Name, sc.Space.Bits, sim.MaxProbeEngineBits)
	}
	seeds := []uint64{f.seed}
	many := cmd.Flags().Changed("seeds")
	if many {
		if cmd.Flags().Changed("seed") {
			return usagef("give --seed or --seeds, not both")
		}
		if seeds, err = parseSeeds(f.seeds); err != nil {
			return usageError{err}
		}
	}
	tag := fmt.Sprintf("seed%d", seeds[0])
	if many {
		tag = fmt.Sprintf("seeds%d-%d", seeds[0], seeds[len(seeds)-1])
	}
	out, err := claimOut(f.out, fmt.Sprintf("%s-%s", sc.Name, tag))
	if err != nil {
		return err
	}
	defer atomicfile.Release(out) // removed if nothing was written
	dirFor := func(uint64) string { return out }
	if many {
		dirFor = func(s uint64) string { return filepath.Join(out, results.SeedDirName(s)) }
	}
	baseDir := ""
	if _, err := scenario.Builtin(name); err != nil {
		baseDir = filepath.Dir(name)
	}
	stderr := cmd.ErrOrStderr()
	opt := runner.Options{Engine: f.engine, BaseDir: baseDir, Workers: f.workers, Version: version.Version, Infections: !many || f.infect}
	if f.host {
		opt.Configure = func(_ uint64, o *sim.Options) { o.Unlumped = true }
	}
	bar := newProgress(stderr, f.quiet, sc, len(seeds))
	if bar != nil {
		opt.Progress, opt.Done = bar.progress, bar.done
	}
	outcomes, err := runner.Seeds(ctx, sc, resolved, seeds, dirFor, opt)
	err = userWriteError(err)
	if bar != nil {
		bar.finish()
	}
	if errors.Is(err, context.Canceled) {
		msg := fmt.Sprintf("interrupted: kept %d finished run(s)", len(outcomes))
		if len(outcomes) > 0 {
			msg += " in " + out
		}
		return interruptedError{msg + "; the run(s) in progress were discarded, nothing half-written was left"}
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if many {
		runner.WriteTable(w, outcomes)
		fmt.Fprintf(w, "results: %s (one folder per seed)\n", out)
		return nil
	}
	runner.WriteSummary(w, sc, outcomes[0])
	return nil
}

// interruptedError says what an interrupted command kept. It unwraps to
// context.Canceled (exit status 130) and is printed as the one line of
// the error, instead of "context canceled".
type interruptedError struct{ msg string }

// Error returns what was kept.
func (e interruptedError) Error() string { return e.msg }

// Unwrap returns context.Canceled.
func (e interruptedError) Unwrap() error { return context.Canceled }

// progress shows a bar on a terminal: the simulated clock of a single run
// (with infected hosts and new infections per minute), or finished seeds.
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	many  bool
	last  time.Time
	total int
}

func newProgress(w io.Writer, quiet bool, sc *scenario.Scenario, runs int) *progress {
	file, ok := w.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(file.Fd())) {
		return nil
	}
	p := &progress{many: runs > 1, total: runs}
	max := 1000
	desc := "simulating"
	if p.many {
		max, desc = runs, "seeds"
	}
	p.bar = progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	return p
}

func (p *progress) progress(seed uint64, pr sim.Progress) {
	if p.many {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && pr.Fraction < 1 {
		return
	}
	p.last = time.Now()
	perMin := float64(pr.NewInfections) * 60 / pr.BinSeconds
	p.bar.Describe(fmt.Sprintf("%s UTC  infected %s  new/min %s", pr.Time.Format("01-02 15:04"), thousands.Int(pr.Infected), thousands.Int(int64(perMin+0.5))))
	p.bar.Set(int(pr.Fraction * 1000))
}

func (p *progress) done(o runner.Outcome) {
	if !p.many {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Add(1)
}

func (p *progress) finish() {
	p.bar.Finish()
	p.bar.Clear()
}

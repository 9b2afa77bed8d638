package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"wormwatch/forecast"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/paramcli"
	"wormwatch/pool/study"
	"wormwatch/scenario"
)

type poolFlags struct {
	members  []int
	slash24  int
	seeds    string
	after    []time.Duration
	sets     []string
	out      string
	workers  int
	quiet    bool
	settings *paramcli.Flags // the filter's settings (forecast.Settings)
}

func newPoolCmd() *cobra.Command {
	var f poolFlags
	c := &cobra.Command{
		Use:   "pool [NAME|FILE]",
		Short: "Study pooled sensors: how much earlier an alliance's pooled telescopes raise the alarm, and how much better they estimate N",
		Long: `Run a scenario (default codered2-july19) in which each member of an alliance watches a
/16 and a few /24s (placed at random from the seed, disjoint, outside the special-purpose
ranges), every telescope capturing every probe. For each member count of --members, the
members are split into pools of that many; the early-warning filter (as 'forecast') runs on
each member's own series, on each pool's union counted exactly from the probes, and on the
pool's members' series summed (what series alone allow). Prints, per count, the pooled and
own alarm times, how much earlier the pool fired, the infected share at the alarms, and the
errors of N and K at and after the pool's alarm, over pools and seeds.

Each seed is one run with as many members as the largest count: at codered2-july19's
360,000 hosts a run with 20 members of a /16 and two /24s takes about 20 s of CPU and 2.5 GB
of memory (per worker). Writes --out: pool.csv, pool.json and pool.txt (docs/share.md).`,
		Example: `  wormwatch pool
  wormwatch pool codered2-july19 --members 1,5,20 --slash24 2 --seeds 5 --out runs/pool
  wormwatch pool --set space.bits=24 --set population.hosts=1406 --members 1,2,4 --seeds 3`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "codered2-july19"
			if len(args) == 1 {
				name = args[0]
			}
			return runPool(cmd, name, f)
		},
	}
	fl := c.Flags()
	fl.IntSliceVar(&f.members, "members", []int{1, 5, 20}, "members per pool, one study line each; each run has as many members as the largest")
	fl.IntVar(&f.slash24, "slash24", 2, fmt.Sprintf("/24s each member watches besides its /16 (0 to %d)", study.MaxSlash24))
	fl.StringVar(&f.seeds, "seeds", "5", "seeds: a count (5 = 1-5), a range (1-10) or a list (1,5,9)")
	fl.DurationSliceVar(&f.after, "after", []time.Duration{0, time.Hour, 2 * time.Hour}, "times after each pool's alarm at which N and K are read")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key: dotted.key=value (repeatable); the scenario's own sensors are replaced by the members'")
	fl.StringVar(&f.out, "out", "", "study folder (default: a new folder under ./runs); must not exist")
	fl.IntVar(&f.workers, "workers", 0, "runs at once (default: one per CPU); each holds every telescope's state")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines (printed only on a terminal)")
	defaults := forecast.DefaultSettings
	f.settings = paramcli.Register(fl, &defaults) // --memory, --level, --rebase, --alarm-*: read by package param
	fl.MarkHidden("horizon")                      // the study reads the filter's steps, never its forecast
	fl.MarkHidden("step")
	return c
}

func runPool(cmd *cobra.Command, name string, f poolFlags) error {
	sc, _, err := scenario.Load(name, f.sets)
	if err != nil {
		return err
	}
	seeds, err := parseSeeds(f.seeds)
	if err != nil {
		return usageError{err}
	}
	set, err := forecast.LoadSettings(f.settings.Assignments())
	if err != nil {
		return settingsError(err)
	}
	cfg := study.Config{Counts: f.members, Slash24: f.slash24, Seeds: seeds, After: f.after, Forecast: set.Options(sc.Space.Bits), Workers: f.workers}
	if _, err := scenario.Builtin(name); err != nil {
		cfg.BaseDir = filepath.Dir(name)
	}
	if err := cfg.Check(); err != nil {
		return usagef("%v", err)
	}
	stderr := cmd.ErrOrStderr()
	if file, ok := stderr.(*os.File); ok && !f.quiet && term.IsTerminal(int(file.Fd())) {
		start := time.Now()
		cfg.Done = func(seed uint64, wall time.Duration) {
			fmt.Fprintf(stderr, "seed %d done in %.1f s (%.0f s so far)\n", seed, wall.Seconds(), time.Since(start).Seconds())
		}
	}
	out, err := claimOut(f.out, fmt.Sprintf("pool-%s-seeds%d-%d", sc.Name, seeds[0], seeds[len(seeds)-1]))
	if err != nil {
		return err
	}
	defer atomicfile.Release(out) // removed if nothing was written
	s, err := study.Run(cmd.Context(), sc, cfg)
	var se study.SetupError
	switch {
	case errors.Is(err, context.Canceled):
		return interruptedError{"interrupted: the study was given up, nothing was written"}
	case errors.As(err, &se):
		return usageError{err}
	case err != nil:
		return err
	}
	if err := study.Write(out, s); err != nil {
		return userWriteError(err)
	}
	w := cmd.OutOrStdout()
	if err := s.WriteText(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "results: %s\n", out)
	return nil
}

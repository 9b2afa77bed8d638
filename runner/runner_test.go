package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"wormwatch/internal/atomicfile"
	"wormwatch/results"
	"wormwatch/scenario"
	"wormwatch/sim"
)

// TestSeedsPipeline: a worker writes a run's folder while it simulates the
// next seed. Every seed is written once and reported once (Done, Keep),
// the folders do not depend on the number of workers, and a folder that
// cannot be written is the error Seeds returns, with the other seeds kept.
func TestSeedsPipeline(t *testing.T) {
	t.Parallel()
	sc, resolved, err := scenario.Load("fast-uniform", []string{"population.hosts=2000", "worm.rate.fixed=1260", "end=2001-07-19T14:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	run := func(workers int, dirFor func(uint64) string) ([]Outcome, []uint64, []uint64, error) {
		var mu sync.Mutex
		var done, kept []uint64
		outs, err := Seeds(context.Background(), sc, resolved, seeds, dirFor, Options{
			Workers: workers, Version: "test",
			Done: func(o Outcome) { mu.Lock(); done = append(done, o.Seed); mu.Unlock() },
			Keep: func(seed uint64, _ *sim.Result) { mu.Lock(); kept = append(kept, seed); mu.Unlock() },
		})
		slices.Sort(done)
		slices.Sort(kept)
		return outs, done, kept, err
	}
	read := func(dir string) map[string][]byte {
		files := map[string][]byte{}
		for _, name := range []string{"timeseries.csv", "scenario.toml"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			files[name] = b
		}
		return files
	}
	one, two := t.TempDir(), t.TempDir()
	var byWorkers [2][]Outcome
	for i, base := range []string{one, two} {
		outs, done, kept, err := run(i+1, func(s uint64) string { return filepath.Join(base, results.SeedDirName(s)) })
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(done, seeds) || !slices.Equal(kept, seeds) || len(outs) != len(seeds) {
			t.Fatalf("%d workers: %d outcomes, done %v, kept %v; want each of %v once", i+1, len(outs), done, kept, seeds)
		}
		byWorkers[i] = outs
	}
	for k, s := range seeds {
		a, b := read(byWorkers[0][k].Dir), read(byWorkers[1][k].Dir)
		for name := range a {
			if string(a[name]) != string(b[name]) {
				t.Errorf("seed %d: %s differs between 1 and 2 workers", s, name)
			}
		}
		if byWorkers[0][k].Summary.EverInfected != byWorkers[1][k].Summary.EverInfected {
			t.Errorf("seed %d: ever infected %d and %d", s, byWorkers[0][k].Summary.EverInfected, byWorkers[1][k].Summary.EverInfected)
		}
	}
	// Seed 3's folder exists already: its write fails, the error comes back.
	base := t.TempDir()
	blocked := filepath.Join(base, results.SeedDirName(3))
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	outs, done, _, err := run(1, func(s uint64) string { return filepath.Join(base, results.SeedDirName(s)) })
	var exists *atomicfile.ExistsError
	if !errors.As(err, &exists) {
		t.Fatalf("error %v, want the existing folder of seed 3", err)
	}
	if slices.Contains(done, 3) || len(outs) == 0 || len(outs) != len(done) {
		t.Errorf("with seed 3 blocked: outcomes %d, done %v", len(outs), done)
	}
}

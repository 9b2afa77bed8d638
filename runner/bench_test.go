package runner

import (
	"context"
	"path/filepath"
	"testing"

	"wormwatch/results"
	"wormwatch/scenario"
)

// BenchmarkPlain20 is issue 11's plain case as `run fast-uniform --seeds
// 1-20 --workers 1 --set worm.rate.fixed=7 --set
// population.placement=uniform --set end=2001-07-19T18:00:00Z` runs it:
// 20 seeds of 360,000 hosts uniform in 2^32, each written as run --seeds
// writes it (no infections.parquet), on one worker. With -cpuprofile and
// -memprofile it gives the profiles of BENCHMARKS.md's Issue 11 section.
func BenchmarkPlain20(b *testing.B) {
	sc, resolved, err := scenario.Load("fast-uniform", []string{"worm.rate.fixed=7", "population.placement=uniform", "end=2001-07-19T18:00:00Z"})
	if err != nil {
		b.Fatal(err)
	}
	seeds := make([]uint64, 20)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		dir := b.TempDir()
		outs, err := Seeds(context.Background(), sc, resolved, seeds, func(s uint64) string {
			return filepath.Join(dir, results.SeedDirName(s))
		}, Options{Workers: 1, Version: "bench"})
		if err != nil || len(outs) != len(seeds) {
			b.Fatalf("%d of %d seeds: %v", len(outs), len(seeds), err)
		}
	}
}

// BenchmarkBig1e7 is issue 11's target 3 at a tenth of its size, as `run
// codered2-july19 --set population.hosts=10000000 --set
// population.placement=uniform` runs it: one seed, written with
// infections.parquet. Memory and time scale with the hosts, so its
// profiles stand for those of 10^8.
func BenchmarkBig1e7(b *testing.B) {
	benchOne(b, "codered2-july19", "population.hosts=10000000", "population.placement=uniform")
}

// BenchmarkCodeRed2Run is issue 11's target 5: `run codered2-july19`, one
// seed written with infections.parquet (the process's start apart).
func BenchmarkCodeRed2Run(b *testing.B) {
	benchOne(b, "codered2-july19")
}

// benchOne runs one seed of a built-in scenario with settings, written as
// a single run writes it.
func benchOne(b *testing.B, name string, set ...string) {
	sc, resolved, err := scenario.Load(name, set)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		dir := b.TempDir()
		outs, err := Seeds(context.Background(), sc, resolved, []uint64{1}, func(s uint64) string {
			return filepath.Join(dir, results.SeedDirName(s))
		}, Options{Workers: 1, Version: "bench", Infections: true})
		if err != nil || len(outs) != 1 {
			b.Fatalf("%d runs: %v", len(outs), err)
		}
	}
}

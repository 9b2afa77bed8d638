package main

import (
	"path/filepath"
	"testing"
)

// TestReplayInfections: a replay's seed folders hold no infections.parquet
// unless --infections asks for it; with it each holds the file a single
// run of that seed writes. Every other file of the replay folder is the
// same bytes either way.
func TestReplayInfections(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, join([]string{"replay", "codered2-july19", "--seeds", "2", "--out", "plain", "-q"}, small)...)
	mustRun(t, dir, join([]string{"replay", "codered2-july19", "--seeds", "2", "--infections", "--out", "full", "-q"}, small)...)
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--seed", "2", "--out", "alone", "-q"}, small)...)
	for _, sub := range []string{"seed-0001", "seed-0002"} {
		checkSeedFolder(t, filepath.Join(dir, "plain", sub))
		checkFolder(t, filepath.Join(dir, "full", sub))
		sameFiles(t, filepath.Join(dir, "plain", sub), filepath.Join(dir, "full", sub), "timeseries.csv", "timeseries.parquet", "scenario.toml")
	}
	sameFiles(t, filepath.Join(dir, "full", "seed-0002"), filepath.Join(dir, "alone"), "infections.parquet", "timeseries.csv")
	sameFiles(t, filepath.Join(dir, "plain"), filepath.Join(dir, "full"), "bands.csv", "validation.json", "report.html")
}

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReplayShardsMerge: a replay run as 3 shards (replay --shard i/3, as a
// Slurm array or an Indexed Job would) and joined by merge writes the
// replay folder of the replay run in one go: every seed folder (summary.json
// apart from its wall-clock keys), bands.csv, validation.json and
// report.html.
func TestReplayShardsMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Past midnight, so that the first seed takes a map snapshot (at
	// 00:00 UTC): the shard holding seed 1 must take it too.
	args := join([]string{"replay", "codered2-july19", "--seeds", "5", "-q"}, small, []string{"--set", "end=2001-07-20T01:00:00Z"})
	mustRun(t, dir, append(args, "--out", "whole")...)
	for _, i := range []string{"0", "1", "2"} {
		mustRun(t, dir, append(args, "--shard", i+"/3", "--out", "shard"+i)...)
	}
	// Shard 1 of 3 holds seeds 2 and 5 (every third from the second).
	entries, _ := os.ReadDir(filepath.Join(dir, "shard1"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "seed-0002 seed-0005 shard-results shard.json" {
		t.Errorf("shard1 holds %v", names)
	}
	mustRun(t, dir, "merge", "-q", "--out", "merged", "shard2", "shard0", "shard1")
	for _, sub := range []string{"seed-0001", "seed-0002", "seed-0003", "seed-0004", "seed-0005"} {
		a, b := filepath.Join(dir, "whole", sub), filepath.Join(dir, "merged", sub)
		checkSeedFolder(t, b)
		sameFiles(t, a, b, "scenario.toml", "timeseries.csv", "timeseries.parquet")
		if sa, sb := summaryWithoutTiming(t, a), summaryWithoutTiming(t, b); !reflect.DeepEqual(sa, sb) {
			t.Errorf("%s: summary.json differs beyond wall time", sub)
		}
	}
	sameFiles(t, filepath.Join(dir, "whole"), filepath.Join(dir, "merged"), "bands.csv", "validation.json", "report.html")
}

// TestMergeRefuses: shards that do not make one replay are refused with
// exit status 2 and one line, and no replay folder is written.
func TestMergeRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := join([]string{"replay", "codered2-july19", "-q"}, small)
	mustRun(t, dir, append(args, "--seeds", "3", "--shard", "0/2", "--out", "a0")...)
	mustRun(t, dir, append(args, "--seeds", "3", "--shard", "1/2", "--out", "a1")...)
	mustRun(t, dir, append(args, "--seeds", "4", "--shard", "1/2", "--out", "b1")...)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"merge", "--out", "m", "a0"}, "shard 1/2 is missing"},
		{[]string{"merge", "--out", "m", "a0", "a0"}, "are both shard 0/2"},
		{[]string{"merge", "--out", "m", "a0", "b1"}, "shards of different replays"},
		{[]string{"merge", "--out", "m", "a0", "nothing"}, "no shard.json"},
		{[]string{"replay", "codered2-july19", "--shard", "2/2", "--out", "m"}, "--shard 2/2: want i/n"},
		{[]string{"replay", "codered2-july19", "--shard", "0/2", "--nats", "nats://127.0.0.1:1", "--out", "m"}, "--shard or --nats"},
	} {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("wormwatch %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m")); err == nil {
		t.Error("a refused merge left its --out folder")
	}
}

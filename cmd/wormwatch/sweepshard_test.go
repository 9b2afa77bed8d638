package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinySobol is a Sobol design over codered2-july19 shrunk like small: n =
// 4 of two factors (16 points), one seed; enough for sensitivity.csv.
const tinySobol = `scenario = "codered2-july19"
set = ["space.bits=20", "population.hosts=300", "end=2001-07-19T12:00:00Z"]
design = "sobol"
n = 4
bootstrap = 50
outputs = ["ever_infected", "final.infected"]

[[factor]]
key = "defense.patch.rate"
min = 0.0
max = 5.0

[[factor]]
key = "population.patched"
min = 0.0
max = 0.5
`

// TestSweepShardsMerge: a grid sweep (4 runs) and a Sobol sweep (16 runs)
// each run as 3 shards (sweep --shard i/3) and joined by merge write the
// folder of the sweep run in one go, every file byte for byte (points,
// summary, sensitivity, heat maps, sweep.json); merge refuses a missing
// shard, a shard given twice, shards of two sweeps, and a sweep file
// changed after the shards ran (exit 2, one line, nothing written).
func TestSweepShardsMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, doc := range map[string]string{"grid.toml": tinySweep, "sobol.toml": tinySobol} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, stem := range []string{"grid", "sobol"} {
		file := stem + ".toml"
		mustRun(t, dir, "sweep", file, "--out", stem+"-whole", "-q", "--workers", "2")
		for _, i := range []string{"0", "1", "2"} {
			r := mustRun(t, dir, "sweep", file, "--shard", i+"/3", "--out", stem+"-shard"+i, "-q")
			if !strings.Contains(r.stdout, "shard "+i+"/3") {
				t.Errorf("sweep --shard %s/3: stdout %q", i, r.stdout)
			}
			if left := leftovers(t, filepath.Join(dir, stem+"-shard"+i), "sweep-shard.json"); len(left) > 0 {
				t.Errorf("the shard folder holds %v besides sweep-shard.json", left)
			}
		}
		mustRun(t, dir, "merge", "-q", "--out", stem+"-merged", stem+"-shard2", stem+"-shard0", stem+"-shard1")
		sameFolders(t, filepath.Join(dir, stem+"-whole"), filepath.Join(dir, stem+"-merged"), 4)
	}
	if err := os.WriteFile(filepath.Join(dir, "sobol.toml"), []byte(strings.Replace(tinySobol, "bootstrap = 50", "bootstrap = 60", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"merge", "--out", "m", "grid-shard0", "grid-shard1"}, "shard 2/3 is missing"},
		{[]string{"merge", "--out", "m", "grid-shard0", "grid-shard0", "grid-shard1"}, "are both shard 0/3"},
		{[]string{"merge", "--out", "m", "grid-shard0", "sobol-shard1", "grid-shard2"}, "shards of different sweeps"},
		{[]string{"merge", "--out", "m", "sobol-shard0", "sobol-shard1", "sobol-shard2"}, "is not what the shards ran"},
		{[]string{"merge", "--out", "m", "grid-shard0", "nothing"}, "no sweep-shard.json"},
		{[]string{"sweep", "grid.toml", "--shard", "3/3", "--out", "m"}, "--shard 3/3: want i/n"},
		{[]string{"sweep", "grid.toml", "--shard", "0/3", "--nats", "nats://127.0.0.1:1", "--out", "m"}, "--shard or --nats"},
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

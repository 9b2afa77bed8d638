package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"wormwatch/calibrate"
	"wormwatch/results"
	"wormwatch/scenario"
	"wormwatch/scenario/builtin/posterior"
)

// tinyCalibration fits worm.rate.fixed of a small fast-uniform scenario
// in two generations of 12 particles.
const tinyCalibration = `scenario = "fast-uniform"
set = ["space.bits=16", "population.hosts=200", "population.placement=uniform", "end=2001-07-19T12:00:00Z"]
particles = 12
max_generations = 2
predictive = 6

[[param]]
key = "worm.rate.fixed"
prior = "log-uniform"
min = 0.2
max = 5.0

[[target]]
name = "infected"
stat = "infected_at"
role = "calibrate"
at = ["20m", "40m"]
values = [40.0, 160.0]
error = "relative"
sd = 0.1

[[target]]
name = "peak"
stat = "peak_new_per_minute"
role = "validate"
value = 12.0
error = "absolute"
sd = 2.0
`

// TestCalibrateBadFile: a bad calibration file gives one line naming the
// file, the line and the field, exit status 2, and writes nothing.
func TestCalibrateBadFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, doc, want string
	}{
		{"unknown key", strings.Replace(tinyCalibration, "particles =", "particle =", 1), "bad.toml:3: particle: unknown key"},
		{"unknown scenario key", strings.Replace(tinyCalibration, "worm.rate.fixed", "worm.rate.fixd", 1), "bad.toml:8: param[1].key: --set worm.rate.fixd=0.2: worm.rate.fixd: unknown key"},
		{"bad bounds", strings.Replace(tinyCalibration, "max = 5.0", "max = 0.1", 1), "bad.toml:11: param[1].max: 0.1 is not above min 0.2"},
		{"bad role", strings.Replace(tinyCalibration, "\"validate\"", "\"valid\"", 1), "bad.toml:25: target[2].role: \"valid\": want calibrate or validate"},
	}
	badFiles(t, "calibrate", cases)
}

// TestCalibrateCommand: a calibration writes its generations, state and
// posterior folder; resuming a complete one, or a folder that is not a
// calibration, is a usage error.
func TestCalibrateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.toml"), []byte(tinyCalibration), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, dir, "calibrate", "c.toml", "--out", "o", "--workers", "2")
	for _, want := range []string{"2 generations of 12 particles", "worm.rate.fixed  log-uniform", "peak", "results: o/posterior"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, f := range []string{"state.json", "gen-000.csv", "gen-001.csv", "posterior/posterior.parquet", "posterior/report.html", "posterior/validation.csv", "posterior/calibration.json"} {
		if _, err := os.Stat(filepath.Join(dir, "o", f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if left := leftovers(t, filepath.Join(dir, "o"), "state.json", "gen-000.csv", "gen-001.csv", "posterior"); len(left) > 0 {
		t.Errorf("left in the folder: %v", left)
	}
	r = wormwatch(t, dir, "calibrate", "--resume", "o")
	if r.code != 2 || !strings.Contains(r.stderr, "is complete") {
		t.Errorf("resume of a complete calibration: exit %d, %q", r.code, r.stderr)
	}
	r = wormwatch(t, dir, "calibrate", "--resume", ".")
	if r.code != 2 || !strings.Contains(r.stderr, "no state.json") {
		t.Errorf("resume of a folder without state: exit %d, %q", r.code, r.stderr)
	}
}

// TestReplayPosterior: replay --posterior gives each seed parameters drawn
// from a calibration's posterior (its scenario.toml holds one of the
// posterior's particles), the same folder twice, and refuses a folder that
// is not a calibration (also for a shard) and a key the scenario does not
// take, each with exit status 2 and one line.
func TestReplayPosterior(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.toml"), []byte(tinyCalibration), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "calibrate", "c.toml", "--out", "cal", "--workers", "2")
	post, err := calibrate.ReadPosterior(filepath.Join(dir, "cal"))
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{}
	for _, x := range post.Particles {
		values[strconv.FormatFloat(x[0], 'g', -1, 64)] = true
	}
	sets := []string{"--set", "space.bits=16", "--set", "population.hosts=200", "--set", "population.placement=uniform", "--set", "end=2001-07-19T12:00:00Z"}
	for _, out := range []string{"r1", "r2"} {
		mustRun(t, dir, join([]string{"replay", "fast-uniform", "--seeds", "4", "--posterior", "cal", "--quiet", "--out", out}, sets)...)
	}
	drawn := map[string]bool{}
	for s := uint64(1); s <= 4; s++ {
		seedDir := results.SeedDirName(s)
		toml := string(readFile(t, filepath.Join(dir, "r1", seedDir, "scenario.toml")))
		_, after, ok := strings.Cut(toml, "\nfixed = ")
		v, _, _ := strings.Cut(after, "\n")
		if !ok || !values[v] {
			t.Errorf("seed %d: worm.rate.fixed = %q, not a particle of the posterior", s, v)
		}
		drawn[v] = true
		sameFiles(t, filepath.Join(dir, "r1", seedDir), filepath.Join(dir, "r2", seedDir), "scenario.toml", "timeseries.csv")
	}
	if report := string(readFile(t, filepath.Join(dir, "r1", "report.html"))); !strings.Contains(report, "worm.rate.fixed drawn from the posterior") {
		t.Error("report.html does not say the seeds drew worm.rate.fixed from the posterior")
	}
	if len(drawn) < 2 {
		t.Errorf("4 seeds drew %d distinct particles of %d", len(drawn), len(post.Particles))
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"not a calibration", []string{"--posterior", "."}, "calibration.json"},
		{"a shard, not a calibration", []string{"--posterior", ".", "--shard", "0/2"}, "calibration.json"},
		{"a key the scenario lacks", []string{"--posterior", "cal", "--set", "worm.rate.model=threads"}, "worm.rate.fixed"},
	} {
		r := wormwatch(t, dir, join([]string{"replay", "fast-uniform", "--seeds", "2", "--quiet", "--out", "bad"}, sets, c.args)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line naming %q", c.name, r.code, r.stderr, c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
			t.Errorf("%s: the folder was written", c.name)
		}
	}
}

// TestReplayPosteriorBuiltin checks `replay codered-2001 --posterior
// builtin`: each seed's scenario.toml holds the values of a particle of the
// posterior shipped with the scenario (package posterior), and a scenario
// shipped without one is refused with one line.
func TestReplayPosteriorBuiltin(t *testing.T) {
	t.Parallel()
	fsys, ok := posterior.For("codered-2001")
	if !ok {
		t.Fatal("no posterior shipped for codered-2001")
	}
	post, err := calibrate.ReadPosteriorFS(fsys, "builtin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// One day of the summer in a small space: the drawn keys are what is
	// checked, not the outbreak.
	sets := []string{"--set", "space.bits=24", "--set", "end=2001-07-13T00:00:00Z", "--set", "worm.crii.start=2001-07-13T00:00:00Z"}
	mustRun(t, dir, join([]string{"replay", "codered-2001", "--seeds", "3", "--posterior", "builtin", "--quiet", "--out", "r"}, sets)...)
	for s := uint64(1); s <= 3; s++ {
		sc, _, err := scenario.Load(filepath.Join(dir, "r", results.SeedDirName(s), "scenario.toml"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, want := post.Draw(s)
		got, _, err := scenario.Load("codered-2001", append(append([]string(nil), "space.bits=24", "end=2001-07-13T00:00:00Z", "worm.crii.start=2001-07-13T00:00:00Z"), want...))
		if err != nil {
			t.Fatal(err)
		}
		if sc.Population.Hosts != got.Population.Hosts || sc.Population.Patched != got.Population.Patched || sc.Defense.Patch.HomeFactor != got.Defense.Patch.HomeFactor {
			t.Errorf("seed %d: hosts %d, patched %v, home factor %v; the posterior's draw gives %d, %v, %v", s,
				sc.Population.Hosts, sc.Population.Patched, sc.Defense.Patch.HomeFactor, got.Population.Hosts, got.Population.Patched, got.Defense.Patch.HomeFactor)
		}
	}
	r := wormwatch(t, dir, "replay", "fast-uniform", "--seeds", "2", "--quiet", "--posterior", "builtin", "--out", "bad")
	if r.code != 2 || !strings.Contains(r.stderr, "no posterior is shipped for scenario fast-uniform") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("fast-uniform --posterior builtin: exit %d, stderr %q; want 2 and one line", r.code, r.stderr)
	}
}

// TestCalibrateMaxGenerations: `calibrate --resume DIR --max-generations
// N` takes a finished calibration past its file's max_generations; without
// --resume, or to no more generations, it is refused with one line.
func TestCalibrateMaxGenerations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.toml"), []byte(tinyCalibration), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "calibrate", "c.toml", "--out", "cal", "--quiet")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"without --resume", []string{"calibrate", "c.toml", "--max-generations", "3", "--out", "x"}, "--max-generations goes with --resume"},
		{"complete", []string{"calibrate", "--resume", "cal"}, "--max-generations N"},
		{"no more generations", []string{"calibrate", "--resume", "cal", "--max-generations", "2"}, "holds 2 generations already"},
	} {
		r := wormwatch(t, dir, append(c.args, "--quiet")...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line with %q", c.name, r.code, r.stderr, c.want)
		}
	}
	r := mustRun(t, dir, "calibrate", "--resume", "cal", "--max-generations", "3", "--quiet")
	if !strings.Contains(r.stdout, "3 generations of 12 particles") {
		t.Errorf("extended calibration printed %q, want 3 generations", r.stdout)
	}
	post, err := calibrate.ReadPosterior(filepath.Join(dir, "cal"))
	if err != nil || len(post.Particles) != 12 {
		t.Fatalf("posterior after the extension: %v", err)
	}
}

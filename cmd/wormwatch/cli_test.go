package main

// End-to-end tests of the command line: TestMain builds the binary once and
// each test runs it as a user would, in a temporary working directory,
// checking the exit status, stdout, stderr and the files left behind.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bin is the wormwatch binary built by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wormwatch-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "wormwatch")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building wormwatch: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// builtins are the built-in scenarios the README and docs/scenario.md list.
var builtins = []string{"codered-2001", "codered1-july", "codered2-july19", "coderedii-aug", "fast-uniform", "hitlist"}

// small shrinks codered2-july19 to a 2^20 space, 300 hosts and two hours
// (120 one-minute bins), so that a run takes milliseconds.
var small = []string{"--set", "space.bits=20", "--set", "population.hosts=300", "--set", "end=2001-07-19T12:00:00Z"}

const (
	smallHosts = 300
	smallBins  = 120 // 10:00 to 12:00 in bins of 1m
)

// runFiles are the files of a single run's results folder (docs/output.md).
var runFiles = []string{"infections.parquet", "scenario.toml", "summary.json", "timeseries.csv", "timeseries.parquet"}

// seedFiles are the files of a seed's folder of an ensemble (run --seeds,
// replay) without --infections: no infections.parquet.
var seedFiles = []string{"scenario.toml", "summary.json", "timeseries.csv", "timeseries.parquet"}

type result struct {
	code           int
	stdout, stderr string
}

// wormwatch runs the binary in dir with args, for at most two minutes.
func wormwatch(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("wormwatch %s: did not finish in time", strings.Join(args, " "))
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("wormwatch %s: %v", strings.Join(args, " "), err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: so.String(), stderr: se.String()}
}

// mustRun runs wormwatch and fails unless it exits 0 with nothing on stderr
// (there is no progress bar when stderr is not a terminal).
func mustRun(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := wormwatch(t, dir, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("wormwatch %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func join(parts ...[]string) []string { return slices.Concat(parts...) }

// summary holds the keys of summary.json the tests look at.
type summary struct {
	Scenario        string           `json:"scenario"`
	Seed            uint64           `json:"seed"`
	Engine          string           `json:"engine"`
	Version         string           `json:"version"`
	Interrupted     bool             `json:"interrupted"`
	Bins            int              `json:"bins"`
	WallSeconds     float64          `json:"wall_seconds"`
	SimulatedProbes int64            `json:"simulated_probes"`
	EverInfected    int64            `json:"ever_infected"`
	Final           map[string]int64 `json:"final"`
}

// checkFolder fails unless dir is a complete results folder of a single
// run: exactly the five files, and a summary.json with the keys the brief
// asks for. It returns the summary.
func checkFolder(t *testing.T, dir string) summary {
	t.Helper()
	return checkFiles(t, dir, runFiles)
}

// checkSeedFolder is checkFolder for a seed's folder of an ensemble
// written without --infections: exactly the four files of seedFiles.
func checkSeedFolder(t *testing.T, dir string) summary {
	t.Helper()
	return checkFiles(t, dir, seedFiles)
}

// checkFiles is checkFolder with the files dir must hold.
func checkFiles(t *testing.T, dir string, files []string) summary {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, files) {
		t.Fatalf("%s holds %v, want exactly %v", dir, names, files)
	}
	b := readFile(t, filepath.Join(dir, "summary.json"))
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatalf("%s/summary.json: %v", dir, err)
	}
	for _, k := range []string{"scenario", "seed", "engine", "version", "wall_seconds", "simulated_probes", "ever_infected", "final"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("%s/summary.json has no key %q", dir, k)
		}
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s/summary.json: %v", dir, err)
	}
	for _, k := range []string{"susceptible", "infected", "infected_scanning", "infected_flooding", "infected_dormant", "patched", "removed"} {
		if _, ok := s.Final[k]; !ok {
			t.Errorf("%s/summary.json: final has no key %q", dir, k)
		}
	}
	if s.Version == "" || s.WallSeconds < 0 || s.SimulatedProbes < 0 || s.EverInfected < 0 || s.Interrupted {
		t.Errorf("%s/summary.json: implausible %+v", dir, s)
	}
	return s
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readCSV reads a timeseries.csv: the header and the rows as maps.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(readFile(t, path))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: empty", path)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sameFiles fails unless the named files of two folders are byte-identical.
func sameFiles(t *testing.T, a, b string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !bytes.Equal(readFile(t, filepath.Join(a, n)), readFile(t, filepath.Join(b, n))) {
			t.Errorf("%s differs between %s and %s", n, a, b)
		}
	}
}

// summaryWithoutTiming reads summary.json without the two keys that hold
// wall-clock time, which docs/output.md exempts from reproducibility.
func summaryWithoutTiming(t *testing.T, dir string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "summary.json")), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "wall_seconds")
	delete(m, "probes_per_wall_second")
	return m
}

// tree lists every path under dir, to check what a command left behind.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestScenarioList(t *testing.T) {
	t.Parallel()
	r := mustRun(t, t.TempDir(), "scenario", "list")
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Errorf("line %q: want a name and a description", line)
			continue
		}
		names = append(names, f[0])
	}
	if !slices.Equal(names, builtins) {
		t.Errorf("scenario list names %v, want %v", names, builtins)
	}
}

// TestScenarioShowCheck: `scenario show` prints the embedded file, which
// `scenario check` accepts; the resolved scenario it prints reads back to
// itself; and the run of a folder records that same resolved scenario.
func TestScenarioShowCheck(t *testing.T) {
	t.Parallel()
	for _, name := range builtins {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			show := mustRun(t, dir, "scenario", "show", name)
			want := readFile(t, filepath.Join("..", "..", "scenario", "builtin", name+".toml"))
			if show.stdout != string(want) {
				t.Errorf("scenario show %s differs from scenario/builtin/%s.toml", name, name)
			}
			file := filepath.Join(dir, "my.toml")
			if err := os.WriteFile(file, []byte(show.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			check := mustRun(t, dir, "scenario", "check", file)
			if !strings.Contains(check.stdout, fmt.Sprintf("name = %q\n", name)) {
				t.Errorf("scenario check %s: the resolved scenario does not hold name = %q:\n%s", file, name, check.stdout)
			}
			resolved := filepath.Join(dir, "resolved.toml")
			if err := os.WriteFile(resolved, []byte(check.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if again := mustRun(t, dir, "scenario", "check", resolved); again.stdout != check.stdout {
				t.Errorf("checking the resolved scenario of %s changes it", name)
			}
		})
	}
}

func TestScenarioCheckSet(t *testing.T) {
	t.Parallel()
	r := mustRun(t, t.TempDir(), "scenario", "check", "codered2-july19", "--set", "population.hosts=1234", "--set", "worm.crv2.rate.threads=300")
	for _, want := range []string{"hosts = 1234\n", "threads = 300\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("scenario check --set: resolved scenario lacks %q", want)
		}
	}
}

// shrunk makes each built-in small: a 2^20 space, 300 hosts, a few hours.
var shrunk = []struct {
	name string
	sets []string
}{
	{"codered1-july", []string{"--set", "end=2001-07-12T12:00:00Z"}},
	{"codered2-july19", []string{"--set", "end=2001-07-19T12:00:00Z"}},
	{"coderedii-aug", []string{"--set", "end=2001-08-04T12:00:00Z"}},
	{"fast-uniform", nil},
	{"hitlist", []string{"--set", "worm.targeting.hitlist.size=100"}},
}

// TestRunFolder runs each built-in, checks its folder against the printed
// summary and the time series, re-runs the folder's scenario.toml with the
// same seed (the same files) and runs another seed (a different series).
func TestRunFolder(t *testing.T) {
	t.Parallel()
	for _, c := range shrunk {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			sets := join([]string{"--set", "space.bits=20", "--set", "population.hosts=300"}, c.sets)
			r := mustRun(t, dir, join([]string{"run", c.name, "--seed", "7", "--out", "a"}, sets)...)
			a := filepath.Join(dir, "a")
			s := checkFolder(t, a)
			if s.Scenario != c.name || s.Seed != 7 || s.Engine != "fast" {
				t.Errorf("summary.json: scenario %q seed %d engine %q, want %q 7 fast", s.Scenario, s.Seed, s.Engine, c.name)
			}
			if !strings.HasPrefix(r.stdout, fmt.Sprintf("%s, seed 7, fast engine, version %s\n", c.name, s.Version)) {
				t.Errorf("printed summary does not start with the scenario, seed, engine and version:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, "\n  results: a\n") {
				t.Errorf("printed summary does not name the folder a:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, fmt.Sprintf("hosts ever infected: %d of %d in the population", s.EverInfected, smallHosts)) {
				t.Errorf("printed summary disagrees with summary.json (ever infected %d of %d):\n%s", s.EverInfected, smallHosts, r.stdout)
			}

			// The folder against itself: hosts are conserved, and the time
			// series adds up to the summary.
			var total int64
			for _, k := range []string{"susceptible", "infected", "patched", "removed"} {
				total += s.Final[k]
			}
			if total != smallHosts {
				t.Errorf("final host counts add up to %d, want %d", total, smallHosts)
			}
			rows := readCSV(t, filepath.Join(a, "timeseries.csv"))
			if len(rows) != s.Bins || len(rows) == 0 {
				t.Fatalf("timeseries.csv has %d rows, summary.json says %d bins", len(rows), s.Bins)
			}
			var probes int64
			for _, row := range rows {
				probes += atoi(t, row["probes"])
			}
			last := rows[len(rows)-1]
			if probes != s.SimulatedProbes || atoi(t, last["ever_infected"]) != s.EverInfected || atoi(t, last["infected"]) != s.Final["infected"] {
				t.Errorf("timeseries.csv (probes %d, last row %v) disagrees with summary.json %+v", probes, last, s)
			}
			if s.EverInfected < 1 {
				t.Errorf("no host was ever infected")
			}

			// Determinism: the folder's scenario.toml and the seed give the
			// same files.
			mustRun(t, dir, "run", filepath.Join("a", "scenario.toml"), "--seed", "7", "--out", "b")
			b := filepath.Join(dir, "b")
			sameFiles(t, a, b, "timeseries.csv", "timeseries.parquet", "infections.parquet", "scenario.toml")
			if sa, sb := summaryWithoutTiming(t, a), summaryWithoutTiming(t, b); !reflect.DeepEqual(sa, sb) {
				t.Errorf("summary.json differs beyond wall time:\n%v\n%v", sa, sb)
			}

			// Another seed, another outbreak.
			mustRun(t, dir, join([]string{"run", c.name, "--seed", "8", "--out", "c"}, sets)...)
			if bytes.Equal(readFile(t, filepath.Join(a, "timeseries.csv")), readFile(t, filepath.Join(dir, "c", "timeseries.csv"))) {
				t.Errorf("seeds 7 and 8 give the same timeseries.csv")
			}
		})
	}
}

// TestEngines runs each engine twice with the same seed (the same files) and
// checks that the folder names its engine. The default engine is fast.
func TestEngines(t *testing.T) {
	t.Parallel()
	// codered2-july19's hosts differ only by their clocks: the fast engine
	// counts them unless told to follow them one by one (--host-by-host).
	for _, c := range []struct {
		name, engine string
		extra        []string
	}{{"fast", "fast", nil}, {"probe", "probe", nil}, {"fast-host-by-host", "fast", []string{"--host-by-host"}}} {
		engine := c.engine
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var outs []string
			for i := range 2 {
				out := fmt.Sprintf("%s-%d", c.name, i)
				r := mustRun(t, dir, join([]string{"run", "codered2-july19", "--engine", engine, "--seed", "3", "--out", out}, c.extra, small)...)
				if !strings.Contains(r.stdout, ", seed 3, "+engine+" engine,") {
					t.Errorf("printed summary does not name the %s engine:\n%s", engine, r.stdout)
				}
				s := checkFolder(t, filepath.Join(dir, out))
				if s.Engine != engine || s.Bins != smallBins {
					t.Errorf("summary.json: engine %q, %d bins; want %q, %d", s.Engine, s.Bins, engine, smallBins)
				}
				if s.EverInfected < 1 || s.EverInfected > smallHosts {
					t.Errorf("summary.json: ever_infected %d, want 1 to %d", s.EverInfected, smallHosts)
				}
				outs = append(outs, filepath.Join(dir, out))
			}
			sameFiles(t, outs[0], outs[1], "timeseries.csv", "timeseries.parquet", "infections.parquet", "scenario.toml")
			if c.name == "fast" {
				mustRun(t, dir, join([]string{"run", "codered2-july19", "--seed", "3", "--out", "default"}, small)...)
				sameFiles(t, outs[0], filepath.Join(dir, "default"), "timeseries.csv", "infections.parquet")
			}
			if c.extra != nil {
				// The flag takes effect: the same seed counted draws otherwise.
				mustRun(t, dir, join([]string{"run", "codered2-july19", "--seed", "3", "--out", "lumped"}, small)...)
				if bytes.Equal(readFile(t, filepath.Join(outs[0], "infections.parquet")), readFile(t, filepath.Join(dir, "lumped", "infections.parquet"))) {
					t.Error("--host-by-host wrote the same infections as the run by counts")
				}
			}
		})
	}
}

// TestRunDefaultOut: without --out, a new folder under ./runs, seed 1.
func TestRunDefaultOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := mustRun(t, dir, join([]string{"run", "codered2-july19"}, small)...)
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "codered2-july19-seed1-") {
		t.Fatalf("runs/ holds %v, want one folder codered2-july19-seed1-<time>", entries)
	}
	out := filepath.Join("runs", entries[0].Name())
	if !strings.Contains(r.stdout, "\n  results: "+out+"\n") {
		t.Errorf("printed summary does not name %s:\n%s", out, r.stdout)
	}
	if s := checkFolder(t, filepath.Join(dir, out)); s.Seed != 1 {
		t.Errorf("default seed %d, want 1", s.Seed)
	}
}

// TestPopulationFile: a population file named relative to its scenario
// file is found from another working directory; the file decides the
// number of hosts.
func TestPopulationFile(t *testing.T) {
	t.Parallel()
	scen, err := filepath.Abs(filepath.Join("testdata", "popfile", "scenario.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mustRun(t, dir, "run", scen, "--out", "a")
	s := checkFolder(t, filepath.Join(dir, "a"))
	var total int64
	for _, k := range []string{"susceptible", "infected", "patched", "removed"} {
		total += s.Final[k]
	}
	if want := int64(10 + 150 + 1); total != want { // the lines of testdata/popfile/hosts.txt
		t.Errorf("%d hosts, want %d from hosts.txt", total, want)
	}
}

// TestSeeds runs a batch of seeds on one and on two workers with
// --infections: one complete folder per seed, a table with a row per seed,
// and the same files whatever the number of workers or whether the seed
// ran alone. Without --infections the folders hold the same files but
// infections.parquet.
func TestSeeds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		seeds string
		want  []uint64
	}{
		{"range", "1-3", []uint64{1, 2, 3}},
		{"count", "3", []uint64{1, 2, 3}},
		{"list", "5,2", []uint64{2, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, workers := range []string{"1", "2"} {
				out := "w" + workers
				r := mustRun(t, dir, join([]string{"run", "codered2-july19", "--seeds", c.seeds, "--workers", workers, "--infections", "--out", out}, small)...)
				var want []string
				for _, s := range c.want {
					want = append(want, fmt.Sprintf("seed-%04d", s))
				}
				entries, err := os.ReadDir(filepath.Join(dir, out))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range entries {
					got = append(got, e.Name())
				}
				if !slices.Equal(got, want) {
					t.Fatalf("--seeds %s --out %s holds %v, want %v", c.seeds, out, got, want)
				}
				lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
				if len(lines) != len(c.want)+2 || !strings.Contains(lines[0], "seed") || !strings.Contains(lines[0], "ever infected") {
					t.Fatalf("want a header, a row per seed and a results line:\n%s", r.stdout)
				}
				if lines[len(lines)-1] != "results: "+out+" (one folder per seed)" {
					t.Errorf("last line %q does not name the folder %s", lines[len(lines)-1], out)
				}
				for i, seed := range c.want {
					s := checkFolder(t, filepath.Join(dir, out, want[i]))
					f := strings.Fields(lines[1+i])
					if s.Seed != seed || len(f) < 2 || f[0] != strconv.FormatUint(seed, 10) || f[1] != strconv.FormatInt(s.EverInfected, 10) {
						t.Errorf("row %q: want seed %d with %d ever infected (folder says seed %d)", lines[1+i], seed, s.EverInfected, s.Seed)
					}
				}
			}
			for _, seed := range c.want {
				sub := fmt.Sprintf("seed-%04d", seed)
				sameFiles(t, filepath.Join(dir, "w1", sub), filepath.Join(dir, "w2", sub), "timeseries.csv", "infections.parquet")
			}
			alone := fmt.Sprintf("alone-%d", c.want[0])
			mustRun(t, dir, join([]string{"run", "codered2-july19", "--seed", strconv.FormatUint(c.want[0], 10), "--out", alone}, small)...)
			sameFiles(t, filepath.Join(dir, "w2", fmt.Sprintf("seed-%04d", c.want[0])), filepath.Join(dir, alone), "timeseries.csv", "infections.parquet")
			mustRun(t, dir, join([]string{"run", "codered2-july19", "--seeds", c.seeds, "--out", "plain"}, small)...)
			for _, seed := range c.want {
				sub := fmt.Sprintf("seed-%04d", seed)
				checkSeedFolder(t, filepath.Join(dir, "plain", sub))
				sameFiles(t, filepath.Join(dir, "w1", sub), filepath.Join(dir, "plain", sub), "timeseries.csv", "timeseries.parquet", "scenario.toml")
				if a, b := summaryWithoutTiming(t, filepath.Join(dir, "w1", sub)), summaryWithoutTiming(t, filepath.Join(dir, "plain", sub)); !reflect.DeepEqual(a, b) {
					t.Errorf("%s: summary.json differs with and without --infections beyond wall time:\n%v\n%v", sub, a, b)
				}
			}
		})
	}
}

// TestBadInput: each mistake exits 2 with one line on stderr, starting with
// "wormwatch: ", naming where the problem is and the key, and leaves
// nothing behind in the working directory.
func TestBadInput(t *testing.T) {
	t.Parallel()
	td, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return filepath.Join(td, name) }
	cases := []struct {
		name   string
		args   []string
		mkdir  string // created before the run, must stay empty
		mkfile string // created before the run, must stay as it is
		want   []string
	}{
		{name: "unknown key", args: []string{"run", file("unknown-key.toml"), "--out", "o"},
			want: []string{file("unknown-key.toml") + ":5: threads: unknown key"}},
		{name: "wrong type", args: []string{"run", file("wrong-type.toml"), "--out", "o"},
			want: []string{file("wrong-type.toml") + ":7: population.hosts:", "integer"}},
		{name: "out of range", args: []string{"run", file("out-of-range.toml"), "--out", "o"},
			want: []string{file("out-of-range.toml") + ":10: ", "rate.threads", "1 to 100000"}},
		{name: "end before start", args: []string{"run", file("end-before-start.toml"), "--out", "o"},
			want: []string{file("end-before-start.toml") + ":4: end:", "start"}},
		{name: "key that does not apply", args: []string{"run", file("not-applicable.toml"), "--out", "o"},
			want: []string{file("not-applicable.toml") + ":12: ", "targeting.local", `"local"`}},
		{name: "check unknown key", args: []string{"scenario", "check", file("unknown-key.toml")},
			want: []string{file("unknown-key.toml") + ":5: threads: unknown key"}},
		{name: "bad --set path", args: join([]string{"run", "codered2-july19", "--set", "population.nosuch=1", "--out", "o"}),
			want: []string{"--set population.nosuch=1", "population.nosuch", "unknown key", "hosts"}},
		{name: "bad --set value", args: []string{"run", "codered2-july19", "--set", "population.hosts=abc"},
			want: []string{"--set population.hosts=abc", "population.hosts", "1 to 100000000"}},
		{name: "--set out of range", args: join([]string{"run", "codered2-july19"}, small, []string{"--set", "worm.crv2.rate.threads=0", "--out", "o"}),
			want: []string{"--set worm.crv2.rate.threads=0", "rate.threads", "1 to 100000"}},
		{name: "--set without value", args: []string{"run", "codered2-july19", "--set", "population.hosts", "--out", "o"},
			want: []string{"--set population.hosts", "key=value"}},
		{name: "--set end before start", args: []string{"run", "codered2-july19", "--set", "end=2001-07-19T09:00:00Z", "--out", "o"},
			want: []string{"end", "start"}},
		{name: "unknown built-in", args: []string{"run", "nosuch", "--out", "o"},
			want: []string{"nosuch", "codered2-july19"}},
		{name: "show unknown built-in", args: []string{"scenario", "show", "nosuch"},
			want: []string{"nosuch", "codered2-july19"}},
		{name: "--out exists", args: join([]string{"run", "codered2-july19", "--out", "o"}, small), mkdir: "o",
			want: []string{"--out o already exists"}},
		{name: "--out is a file", args: join([]string{"run", "codered2-july19", "--out", "o"}, small), mkfile: "o",
			want: []string{"--out o already exists"}},
		{name: "--seeds into an existing folder", args: join([]string{"run", "codered2-july19", "--seeds", "2", "--out", "o"}, small), mkdir: "o",
			want: []string{"--out o already exists"}},
		{name: "probe engine on 2^32", args: []string{"run", "codered2-july19", "--engine", "probe", "--out", "o"},
			want: []string{"--engine probe", "2^24", "space.bits"}},
		{name: "unknown engine", args: join([]string{"run", "codered2-july19", "--engine", "turbo", "--out", "o"}, small),
			want: []string{"--engine turbo", "fast or probe"}},
		{name: "--seed and --seeds", args: join([]string{"run", "codered2-july19", "--seed", "1", "--seeds", "3", "--out", "o"}, small),
			want: []string{"--seed", "--seeds"}},
		{name: "seed given twice", args: join([]string{"run", "codered2-july19", "--seeds", "1,2,1", "--out", "o"}, small),
			want: []string{"--seeds 1,2,1", "seed 1"}},
		{name: "backward range", args: join([]string{"run", "codered2-july19", "--seeds", "3-1", "--out", "o"}, small),
			want: []string{"--seeds", `"3-1"`}},
		{name: "bad --seed", args: join([]string{"run", "codered2-july19", "--seed", "-1", "--out", "o"}, small),
			want: []string{"--seed", `"-1"`}},
		{name: "bad population file", args: []string{"run", file(filepath.Join("badpop", "scenario.toml")), "--out", "o"},
			want: []string{file(filepath.Join("badpop", "hosts.txt")) + ":2: ", "not a whole number"}},
		{name: "unknown flag", args: []string{"run", "codered2-july19", "--bogus"},
			want: []string{"--bogus"}},
		{name: "no scenario", args: []string{"run"},
			want: []string{"1 arg"}},
		{name: "unknown command", args: []string{"nosuch"},
			want: []string{`unknown command "nosuch"`}},
		{name: "unknown scenario subcommand", args: []string{"scenario", "nosuch"},
			want: []string{`unknown command "nosuch"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if c.mkdir != "" {
				if err := os.Mkdir(filepath.Join(dir, c.mkdir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if c.mkfile != "" {
				if err := os.WriteFile(filepath.Join(dir, c.mkfile), []byte("mine\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before := tree(t, dir)
			r := wormwatch(t, dir, c.args...)
			if r.code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if !strings.HasPrefix(r.stderr, "wormwatch: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
				t.Errorf("stderr %q: want one line starting with \"wormwatch: \"", r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			if after := tree(t, dir); !slices.Equal(before, after) {
				t.Errorf("the working directory held %v, and %v afterwards", before, after)
			}
			if c.mkfile != "" {
				if b := readFile(t, filepath.Join(dir, c.mkfile)); string(b) != "mine\n" {
					t.Errorf("%s was changed to %q", c.mkfile, b)
				}
			}
		})
	}
}

// TestVersion: the version printed by --version is the one written in the
// results folder.
func TestVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v := strings.TrimSpace(mustRun(t, dir, "--version").stdout)
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--out", "a"}, small)...)
	s := checkFolder(t, filepath.Join(dir, "a"))
	if v != "wormwatch version "+s.Version {
		t.Errorf("--version prints %q, summary.json says version %q", v, s.Version)
	}
}

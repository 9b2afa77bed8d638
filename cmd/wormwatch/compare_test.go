package main

// End-to-end tests of `wormwatch compare`, with the binary TestMain builds.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCompareRuns compares two small runs that differ by one --set, and
// checks the table against what each run's summary.json says (written by
// the report package from the engine's result, independently of compare).
func TestCompareRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := []string{"run", "codered2-july19", "--set", "space.bits=20", "--set", "population.hosts=300", "--seed", "3"}
	mustRun(t, dir, join(base, []string{"--out", "runs/a"})...)
	mustRun(t, dir, join(base, []string{"--set", "worm.crv2.rate.threads=50", "--out", "runs/b"})...)
	r := mustRun(t, dir, "compare", "runs/a", "runs/b", "--labels", "100 threads,50 threads", "--out", "cmp")

	for _, want := range []string{"difference to 100 threads", "hosts ever infected, at the end (hosts)", "Scenario keys that 50 threads changes from 100 threads:",
		"  worm.crv2.rate.threads: 100 -> 50", "Comparison: " + filepath.Join("cmp", "compare.html")} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, r.stdout)
		}
	}
	got := tree(t, filepath.Join(dir, "cmp"))
	want := []string{".", "compare.csv", "compare.html", "compare.json", "plots"}
	// codered2-july19 has no telescope, so there is no telescope figure.
	for _, p := range []string{"infected", "new-infections", "patched"} {
		want = append(want, filepath.Join("plots", p+".png"), filepath.Join("plots", p+".svg"))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("cmp holds %v, want %v", got, want)
	}

	// The table against each run's summary.json.
	var doc struct {
		Metrics []struct {
			Key    string `json:"key"`
			Values []struct {
				N    int `json:"n"`
				P50  any `json:"p50"`
				Diff any `json:"difference"`
			} `json:"values"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "cmp", "compare.json")), &doc); err != nil {
		t.Fatal(err)
	}
	type sum struct {
		Start   time.Time  `json:"start"`
		Ever    float64    `json:"ever_infected"`
		Probes  float64    `json:"simulated_probes"`
		Peak    *float64   `json:"peak_new_infections_per_minute"`
		PeakAt  *time.Time `json:"peak_time"`
		Half    *float64   `json:"time_to_50_percent_infected_seconds"`
		Events  float64    `json:"infection_events"`
		BinSecs float64    `json:"bin_seconds"`
	}
	var sums [2]sum
	for i, d := range []string{"a", "b"} {
		if err := json.Unmarshal(readFile(t, filepath.Join(dir, "runs", d, "summary.json")), &sums[i]); err != nil {
			t.Fatal(err)
		}
		if sums[i].Ever == 0 || sums[i].Peak == nil || sums[i].PeakAt == nil || sums[i].Half == nil {
			t.Fatalf("run %s infected nobody; the test needs an outbreak: %+v", d, sums[i])
		}
	}
	expect := func(s sum) map[string]any {
		return map[string]any{
			"final_ever_infected":            s.Ever,
			"peak_new_infections_per_minute": *s.Peak,
			"peak_time":                      s.PeakAt.UTC().Format(time.RFC3339),
			"half_infected_time":             s.Start.Add(time.Duration(*s.Half * float64(time.Second))).UTC().Format(time.RFC3339),
			"infections":                     s.Events,
			"total_probes":                   s.Probes,
		}
	}
	for _, m := range doc.Metrics {
		for i, v := range m.Values {
			w, ok := expect(sums[i])[m.Key]
			if !ok {
				continue
			}
			if v.N != 1 || v.P50 != w {
				t.Errorf("%s of run %d: compare says %v (n=%d), summary.json says %v", m.Key, i, v.P50, v.N, w)
			}
		}
		if m.Key == "final_ever_infected" {
			if d, want := m.Values[1].Diff, sums[1].Ever-sums[0].Ever; d != want {
				t.Errorf("difference of hosts ever infected %v, want %v", d, want)
			}
		}
	}
	// compare.csv holds the same number as compare.json for one value.
	rows := readCSV(t, filepath.Join(dir, "cmp", "compare.csv"))
	if len(rows) == 0 || rows[0]["metric"] != "final_ever_infected" || rows[0]["p50"] != strconv.FormatFloat(sums[0].Ever, 'f', -1, 64) {
		t.Errorf("compare.csv first row %v, want final_ever_infected of runs/a = %v", rows[0], sums[0].Ever)
	}
}

func TestCompareBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--out", "runs/a"}, small)...)
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--out", "runs/b"}, small)...)
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--out", "runs/min2", "--set", "bin=2m"}, small)...)
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "exists"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A run whose timeseries.csv is cut in the middle of a line.
	bad := filepath.Join(dir, "runs", "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	ts := readFile(t, filepath.Join(dir, "runs", "a", "timeseries.csv"))
	lines := strings.SplitAfter(string(ts), "\n")
	cut := strings.Join(lines[:5], "") + lines[5][:len(lines[5])/2] + "\n"
	if err := os.WriteFile(filepath.Join(bad, "timeseries.csv"), []byte(cut), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"one folder", []string{"compare", "runs/a", "--out", "o"}, []string{"at least two folders"}},
		{"no folder", []string{"compare", "--out", "o"}, []string{"requires at least 1 arg"}},
		{"missing folder", []string{"compare", "runs/a", "runs/nope", "--out", "o"}, []string{"runs/nope: no such folder"}},
		{"neither run nor replay", []string{"compare", "runs/a", "empty", "--out", "o"}, []string{"empty: neither a run folder"}},
		{"different bins", []string{"compare", "runs/a", "runs/min2", "--out", "o"}, []string{"runs/min2 has bins of 2m0s", "runs/a has bins of 1m0s"}},
		{"truncated file", []string{"compare", "runs/a", "runs/bad", "--out", "o"}, []string{filepath.Join("runs", "bad", "timeseries.csv") + ": line 6:"}},
		{"labels", []string{"compare", "runs/a", "runs/b", "--labels", "x", "--out", "o"}, []string{"--labels has 1 labels for 2 folders"}},
		{"--out exists", []string{"compare", "runs/a", "runs/b", "--out", "exists"}, []string{"--out exists already exists"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := wormwatch(t, dir, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "wormwatch: ") {
				t.Errorf("stderr is not one line starting with \"wormwatch: \":\n%s", r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
				t.Errorf("the output folder o was written")
			}
			if e := tree(t, filepath.Join(dir, "exists")); !slices.Equal(e, []string{"."}) {
				t.Errorf("the existing folder now holds %v", e)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".partial") {
					t.Errorf("left %s behind", e.Name())
				}
			}
		})
	}
}

package sweep

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"wormwatch/internal/atomicfile"
	"wormwatch/report"
	"wormwatch/runner"
)

// runSeed is the command line's RunFunc: runner.Simulate for one seed.
func runSeed(ctx context.Context, j Job) (report.Summary, error) {
	res, err := runner.Simulate(ctx, j.Scenario, j.Seed, runner.Options{Engine: j.Engine, BaseDir: j.BaseDir})
	if err != nil {
		return report.Summary{}, err
	}
	if res == nil {
		return report.Summary{}, fmt.Errorf("seed %d: no result", j.Seed)
	}
	j.Keep(res)
	return report.NewSummary(res, "test"), nil
}

func sweepInto(t *testing.T, doc, out string, workers int) *Result {
	t.Helper()
	s, err := ParseFile("grid.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(t.Context(), p, Options{Run: runSeed, Workers: workers, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Write(out); err != nil {
		t.Fatal(err)
	}
	return r
}

// gridDoc is a 2 × 3 grid over fast-uniform shrunk to 100 hosts in 2^18
// addresses for half an hour: at 2 probes per second the worm barely
// spreads, at 10 it reaches most hosts.
var gridDoc = strings.NewReplacer(
	"space.bits=16", "space.bits=18",
	"[50.0, 100.0]", "[2.0, 10.0]",
	"seeds = 2", "seeds = 2\noutputs = [\"ever_infected\", \"final.patched\", \"peak_infected\"]",
).Replace(goodGrid)

// TestGridSweep runs a 2 × 3 grid of a tiny scenario for two seeds, twice
// (one worker, then two): the folders must be byte-identical, with one row
// per point and seed; no run may infect a host patched from the start,
// and the rate must move ever_infected.
func TestGridSweep(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	r := sweepInto(t, gridDoc, a, 1)
	sweepInto(t, gridDoc, b, 2)
	want := []string{"heatmap-ever_infected.png", "heatmap-final-patched.png", "heatmap-peak_infected.png", "points.csv", "summary.csv", "sweep.json"}
	ents, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	for _, name := range want {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: %d and %d bytes, not identical", name, len(x), len(y))
		}
	}
	f, _ := os.Open(filepath.Join(a, PointsFile))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+6*2 {
		t.Fatalf("points.csv: %d rows, want a header and 6 points × 2 seeds", len(rows))
	}
	head := rows[0]
	if !slices.Equal(head[:4], []string{"point", "worm.rate.fixed", "population.patched", "seed"}) {
		t.Errorf("header %v", head)
	}
	for _, row := range rows[1:] {
		ever, err1 := strconv.ParseFloat(row[4], 64)
		patched, err2 := strconv.ParseFloat(row[5], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %v: not numbers", row)
		}
		if ever+patched > 100 {
			t.Errorf("row %v: %v hosts ever infected and %v patched (from the start: no patch rate), of 100", row, ever, patched)
		}
	}
	eff := r.MainEffects()
	if len(eff) != 3 || !(eff[0][0] > 10) {
		t.Errorf("main effects %v: want the rate to move the mean of ever_infected by more than 10 hosts", eff)
	}
	f, _ = os.Open(filepath.Join(a, SummaryFile))
	rows, _ = csv.NewReader(f).ReadAll()
	f.Close()
	if len(rows) != 1+6 {
		t.Errorf("summary.csv: %d rows, want a header and 6 points", len(rows))
	}
	// The folder is never written over.
	var ee *atomicfile.ExistsError
	if err := r.Write(a); !errors.As(err, &ee) {
		t.Errorf("writing over %s: %v, want an ExistsError", a, err)
	}
}

// TestLatinHypercube: each factor has one point in each of the n equal
// slices of its range (of its logarithm with log = true), and the design
// depends on sample_seed only.
func TestLatinHypercube(t *testing.T) {
	doc := `scenario = "fast-uniform"
design = "lhs"
points = 20
[[factor]]
key = "defense.patch.rate"
min = 0.01
max = 10.0
log = true
[[factor]]
key = "population.hosts"
min = 100
max = 2099
[[factor]]
key = "defense.filter.start"
min = 2001-07-19T10:00:00Z
max = 2001-07-19T12:00:00Z
`
	s, err := ParseFile("lhs.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := s.DesignPoints()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.DesignPoints()
	for i := range 3 {
		seen := make([]bool, 20)
		for k, p := range pts {
			u := (p.Num[i] - s.Factors[i].lo) / (s.Factors[i].hi - s.Factors[i].lo)
			if i == 0 {
				u = math.Log(p.Num[i]/0.01) / math.Log(1000)
			}
			slot := min(int(u*20), 19)
			if i == 0 && seen[slot] { // rounding to 6 digits cannot move a point across a slice here
				t.Errorf("factor 1: two points in slice %d", slot)
			}
			seen[slot] = true
			if p.Text[i] != again[k].Text[i] {
				t.Errorf("point %d differs between two calls", k)
			}
		}
		if i == 1 {
			for k, p := range pts {
				if p.Num[1] != math.Floor(p.Num[1]) || p.Text[1] != strconv.Itoa(int(p.Num[1])) {
					t.Errorf("point %d: population.hosts %q is not an integer", k, p.Text[1])
				}
			}
		}
	}
}

package replay

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wormwatch/report"
	"wormwatch/results"
	"wormwatch/scenario"
	"wormwatch/scenario/builtin/reference"
	"wormwatch/sim"
)

// smallSummer is codered-2001 shrunk to a 24-bit space and four days, so a
// replay of a few seeds takes a second.
func smallSummer(t *testing.T) (*scenario.Scenario, []byte) {
	t.Helper()
	sc, resolved, err := scenario.Load("codered-2001", []string{
		"space.bits=24", "population.hosts=20000", "end=2001-07-21T00:00:00Z",
		"worm.crii.start=2001-07-21T00:00:00Z", "bin=10m",
	})
	if err != nil {
		t.Fatal(err)
	}
	return sc, resolved
}

// localSeeds runs the seeds as runner.Seeds does (runner imports replay,
// so this test cannot import runner): each seed on one of workers
// goroutines, written to its seed folder, with the hooks around it.
func localSeeds(sc *scenario.Scenario, resolved []byte, out string, workers int) SeedsFunc {
	return func(ctx context.Context, seeds []uint64, h Hooks) error {
		next := make(chan uint64)
		errs := make(chan error, len(seeds))
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seed := range next {
					var o sim.Options
					h.Configure(seed, &o)
					res, err := sim.Run(ctx, sc, seed, o)
					if err == nil {
						err = report.WriteRun(filepath.Join(out, results.SeedDirName(seed)), res, resolved, "test")
					}
					if err != nil {
						errs <- err
						continue
					}
					h.Keep(seed, res)
					h.Done(seed)
				}
			}()
		}
		for _, s := range seeds {
			next <- s
		}
		close(next)
		wg.Wait()
		close(errs)
		return <-errs
	}
}

func TestRunWritesBandsAndValidation(t *testing.T) {
	t.Parallel()
	sc, resolved := smallSummer(t)
	seeds := []uint64{1, 2, 3}
	var got [2][]byte
	var res *results.Replay
	for i, workers := range []int{1, 2} {
		out := filepath.Join(t.TempDir(), "cr")
		r, err := Run(context.Background(), sc, resolved, Options{Seeds: seeds, Out: out, Version: "test"}, localSeeds(sc, resolved, out, workers))
		if err != nil {
			t.Fatal(err)
		}
		res = r
		for _, s := range []string{"seed-0001", "seed-0002", "seed-0003"} {
			if _, err := os.Stat(filepath.Join(out, s, "summary.json")); err != nil {
				t.Errorf("run folder %s: %v", s, err)
			}
		}
		b, err := os.ReadFile(filepath.Join(out, results.BandsFile))
		if err != nil {
			t.Fatal(err)
		}
		got[i] = b
		var v struct {
			Scenario string
			Seeds    []uint64
			Checks   []results.Check
		}
		vb, err := os.ReadFile(filepath.Join(out, results.ValidationFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(vb, &v); err != nil {
			t.Fatal(err)
		}
		if v.Scenario != "codered-2001" || len(v.Seeds) != 3 || len(v.Checks) == 0 {
			t.Errorf("validation.json: %+v", v)
		}
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Error("bands.csv differs between 1 and 2 workers")
	}
	rows, err := csv.NewReader(bytes.NewReader(got[0])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	if head[0] != "time" || len(head) != 1+3*(len(seriesColumns)+len(sensorColumns)) {
		t.Fatalf("bands.csv header has %d columns: %v", len(head), head)
	}
	for _, want := range []string{"infected_p05", "infected_p50", "infected_p95", "ucsd-8_cumulative_sources_p50"} {
		found := false
		for _, h := range head {
			found = found || h == want
		}
		if !found {
			t.Errorf("bands.csv has no column %s", want)
		}
	}
	// 12 to 21 July at 10 minutes: 9 x 144 bins, one row each.
	if len(rows) != 1+9*144 || len(res.Times) != 9*144 {
		t.Errorf("bands.csv has %d rows, result %d times; want %d", len(rows)-1, len(res.Times), 9*144)
	}
	// Bands are ordered and each is within the seeds' range.
	for _, b := range res.Bands {
		for i := range b.P50 {
			if !(b.P05[i] <= b.P50[i] && b.P50[i] <= b.P95[i]) {
				t.Fatalf("%s at bin %d: p05 %g p50 %g p95 %g not ordered", b.Name, i, b.P05[i], b.P50[i], b.P95[i])
			}
		}
	}
	if len(res.Maps) == 0 || len(res.Maps[0].Infected) != 1<<16 {
		t.Errorf("maps: %d snapshots", len(res.Maps))
	}
}

// TestValidationNumbers checks the validation arithmetic on hand-made
// series whose answers are known.
func TestValidationNumbers(t *testing.T) {
	t.Parallel()
	sc, _ := smallSummer(t)
	ref, err := reference.CodeRed2001()
	if err != nil {
		t.Fatal(err)
	}
	start := sc.Start
	r := &results.Replay{Start: start, BinSeconds: 3600, Sensors: []results.SensorInfo{{Name: ref.Telescope}}}
	nb := int(sc.End.Sub(start).Hours())
	var all []*seedSeries
	for seed := 0; seed < 3; seed++ {
		s := &seedSeries{hosts: 1000}
		for range len(seriesColumns) + len(sensorColumns) {
			s.cols = append(s.cols, make([]float32, nb))
		}
		all = append(all, s)
	}
	computeBands(r, all)
	cum := colIndex(r, results.SensorBand(ref.Telescope, results.SensorCumulativeSources))
	patched := colIndex(r, results.Patched)
	b := binAt(r, ref.Checks.Seen.At)
	for i, s := range all {
		s.cols[cum][b-1] = float32(359000 + 100*i) // 359000, 359100, 359200
		s.cols[patched][b-1] = 500
	}
	v, pts := validate(sc, r, all, ref)
	var c *results.Check
	for i := range v.Checks {
		if v.Checks[i].Measured == 359104 {
			c = &v.Checks[i]
		}
	}
	if c == nil {
		t.Fatal("no check of CAIDA's 359,104")
	}
	// Type-7 quantiles of {359000, 359100, 359200}: p05 = 359010, p50 = 359100, p95 = 359190.
	if c.P05 != 359010 || c.P50 != 359100 || c.P95 != 359190 || !c.Inside {
		t.Errorf("check %+v, want p05 359010, p50 359100, p95 359190, inside", *c)
	}
	// The figure, its source and its mark on the plots come from the
	// reference data.
	if c.Source != "CAIDA, Moore, Shannon, Brown (IMW 2002)" || c.Name != ref.Checks.Seen.Name {
		t.Errorf("check %q cites %q", c.Name, c.Source)
	}
	if len(pts) == 0 || pts[0].Value != 359104 || pts[0].Label != "CAIDA: 359,104" || !pts[0].Time.Equal(time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("published points %+v", pts)
	}
	if len(r.Times) != nb || !r.Times[1].Equal(start.Add(time.Hour)) {
		t.Errorf("times: %d, second %v", len(r.Times), r.Times[1])
	}
}

// A check that no seed could produce (NaN) is written as null, not an
// error: what-ifs with no CRv2 have no outbreak day to measure.
func TestValidationJSONWithoutFigures(t *testing.T) {
	t.Parallel()
	r := &results.Replay{Scenario: "x", Validation: results.Validation{
		Checks:  []results.Check{{Name: "c", Measured: 1, P05: math.NaN(), P50: math.NaN(), P95: math.NaN()}},
		Traffic: []results.Quantity{{Name: "q", P05: math.NaN(), P50: 2, P95: math.Inf(1)}},
	}}
	path := filepath.Join(t.TempDir(), results.ValidationFile)
	if err := writeValidation(r, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Checks  []map[string]any
		Traffic []map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Checks[0]["sim_p50"] != nil || doc.Checks[0]["measured"] != 1.0 || doc.Traffic[0]["p50"] != 2.0 || doc.Traffic[0]["p95"] != nil {
		t.Errorf("validation.json: %s", b)
	}
}

// TestRestartNumbers checks the predictions for 1 August on series made by
// hand: hosts scanning grow by 1.5 an hour from 02:00 to their peak at
// 12:00 UTC, then fall; ever_infected and the telescope's cumulative
// sources rise by known amounts over the day.
func TestRestartNumbers(t *testing.T) {
	t.Parallel()
	sc, _, err := scenario.Load("codered-2001", []string{"end=2001-08-03T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reference.CodeRed2001()
	if err != nil {
		t.Fatal(err)
	}
	r := &results.Replay{Start: sc.Start, BinSeconds: 3600, Sensors: []results.SensorInfo{{Name: ref.Telescope}}}
	nb := int(sc.End.Sub(sc.Start).Hours())
	s := &seedSeries{hosts: 1000}
	for range len(seriesColumns) + len(sensorColumns) {
		s.cols = append(s.cols, make([]float32, nb))
	}
	computeBands(r, []*seedSeries{s})
	scan, inf, ever, cum, newInf := colIndex(r, results.InfectedScanning), colIndex(r, results.Infected), colIndex(r, results.EverInfected), colIndex(r, results.SensorBand(ref.Telescope, results.SensorCumulativeSources)), colIndex(r, results.NewInfections)
	day := binAt(r, ref.Dates.Restart)
	for i := range nb {
		h := i - day + 1 // hour of 1 August at the end of bin i
		x := 100.0
		switch {
		case h >= 2 && h <= 12:
			x = 100 * math.Pow(1.5, float64(h-2))
		case h > 12:
			x = 100 * math.Pow(1.5, 10) / float64(h-11)
		}
		s.cols[scan][i], s.cols[inf][i] = float32(x), float32(x+7)
		if h > 0 {
			s.cols[ever][i], s.cols[cum][i] = 5000, 9000
		} else {
			s.cols[ever][i], s.cols[cum][i] = 4000, 6000
		}
		if h > 0 && h <= 24 {
			s.cols[newInf][i] = 10
		}
	}
	got := map[string]float64{}
	for _, q := range restart(r, []*seedSeries{s}, ref) {
		got[q.Name] = q.P50
	}
	for name, want := range map[string]float64{
		"hosts infected at 00:00 UTC 1 August (dormant, about to wake)":                     107,
		"hosts scanning at 12:00 UTC 1 August":                                              100 * math.Pow(1.5, 10),
		"growth factor per hour of the hosts scanning, 02:00 UTC to their peak on 1 August": 1.5,
		"new infections on 1 August (UTC)":                                                  240,
		"hosts infected for the first time on 1 August (UTC)":                               1000,
		"addresses the /8 telescope sees for the first time on 1 August (UTC)":              3000,
	} {
		if g, ok := got[name]; !ok || math.Abs(g-want) > 1e-3*want {
			t.Errorf("%s: %v (present %v), want %v", name, g, ok, want)
		}
	}
	// A replay that ends before the day predicts nothing for it.
	small, _ := smallSummer(t)
	r2 := &results.Replay{Start: small.Start, BinSeconds: 3600}
	s2 := &seedSeries{hosts: 1000}
	for range len(seriesColumns) + len(sensorColumns) {
		s2.cols = append(s2.cols, make([]float32, int(small.End.Sub(small.Start).Hours())))
	}
	computeBands(r2, []*seedSeries{s2})
	if q := restart(r2, []*seedSeries{s2}, ref); q != nil {
		t.Errorf("a replay to 21 July predicts %d quantities for 1 August", len(q))
	}
}

// TestValidationServerPatchedShare checks the survey of the servers on
// hand-made series: the patched share is that of the hosts that are not
// home machines and not removed, (patched - patched_home) / (hosts - home
// - (removed - removed_home)), not the share of all hosts.
func TestValidationServerPatchedShare(t *testing.T) {
	t.Parallel()
	sc, _ := smallSummer(t)
	ref, err := reference.CodeRed2001()
	if err != nil {
		t.Fatal(err)
	}
	c0 := ref.Checks.Patched[0]
	start := c0.At.Add(-24 * time.Hour)
	r := &results.Replay{Start: start, BinSeconds: 3600, Sensors: []results.SensorInfo{{Name: ref.Telescope}}}
	nb := 48
	var all []*seedSeries
	for range 3 {
		s := &seedSeries{hosts: 1000, home: 600}
		for range len(seriesColumns) + len(sensorColumns) {
			s.cols = append(s.cols, make([]float32, nb))
		}
		all = append(all, s)
	}
	computeBands(r, all)
	col := func(name string) int {
		i := colIndex(r, name)
		if i < 0 {
			t.Fatalf("no band %s", name)
		}
		return i
	}
	patched, patchedHome, removed, removedHome := col(results.Patched), col(results.PatchedHome), col(results.Removed), col(results.RemovedHome)
	b := binAt(r, c0.At)
	for i, s := range all {
		// 400 servers, 50 of them removed: 350 on the network, of which
		// 230, 245, 260 are patched (shares 0.657, 0.7, 0.743). Of all
		// hosts not removed (900), 500 + 15i are patched: 0.556 and up.
		s.cols[patched][b-1] = float32(500 + 15*i)
		s.cols[patchedHome][b-1] = 270
		s.cols[removed][b-1] = 100
		s.cols[removedHome][b-1] = 50
	}
	v, _ := validate(sc, r, all, ref)
	var c *results.Check
	for i := range v.Checks {
		if v.Checks[i].Name == c0.Name {
			c = &v.Checks[i]
		}
	}
	if c == nil {
		t.Fatalf("no check %q in %+v", c0.Name, v.Checks)
	}
	if math.Abs(c.P50-0.7) > 1e-9 || !c.Inside || math.Abs(c.P05-(230+0.1*15)/350) > 1e-9 {
		t.Errorf("check %+v, want p50 0.7 (245 of 350 servers), p05 %v, inside", *c, (230+0.1*15)/350)
	}
	if !strings.Contains(c.Name, "not home machines") {
		t.Errorf("check name %q does not say it counts the servers that are not home machines", c.Name)
	}
	if got := serverPatchedShare(1000, 1000, 5, 5, 0, 0); !math.IsNaN(got) {
		t.Errorf("share with no server = %v, want NaN", got)
	}
}
